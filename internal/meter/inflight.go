package meter

import "sync"

// InFlight is the set of holds and payments whose requests this process is
// still serving, by hold id or payment key. The sweeps that clean up after
// requests that died (hold expiry, x402 payments left unapplied) skip them:
// a request still running meters itself when it ends, and a sweep that
// released its hold or applied its payment as change under it would let
// it go free (docs/security.md, H2).
//
// The zero value is ready to use; a nil *InFlight is always empty.
type InFlight struct {
	mu  sync.Mutex
	ids map[string]int
}

// Begin adds id until end is called; calling end more than once is safe.
// An id begun twice stays until both have ended.
func (f *InFlight) Begin(id string) (end func()) {
	if f == nil || id == "" {
		return func() {}
	}
	f.mu.Lock()
	if f.ids == nil {
		f.ids = make(map[string]int)
	}
	f.ids[id]++
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			if f.ids[id]--; f.ids[id] <= 0 {
				delete(f.ids, id)
			}
			f.mu.Unlock()
		})
	}
}

// Has reports whether id's request is still running in this process.
func (f *InFlight) Has(id string) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ids[id] > 0
}

// Len is the number of ids in flight.
func (f *InFlight) Len() int {
	if f == nil {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.ids)
}
