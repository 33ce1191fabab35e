package upstream

import "github.com/paymeter/paymeter/internal/meter"

// fieldTable is the set of top-level request fields of an API that has
// its own (Responses, Messages, images), apart from the OpenAI fields of
// fields.go: names[f] is field f's JSON name, index 0 standing for none,
// and unpriced gives the reason worth telling for fields that are refused.
type fieldTable struct {
	names    []string
	byName   map[string]uint8
	unpriced map[string]string
}

func newFieldTable(names []string, unpriced map[string]string) *fieldTable {
	t := &fieldTable{names: names, byName: make(map[string]uint8, len(names)), unpriced: unpriced}
	for f, name := range names[1:] {
		t.byName[name] = uint8(f + 1)
	}
	return t
}

// refuse is the error for a key that is not one of t's fields, as
// fieldError's for the OpenAI routes: a spelling of one that a
// case-folding decoder takes for it (ambiguous_field), or any other
// (unsupported_field), with its reason when it has one.
func (t *fieldTable) refuse(name string) *meter.Error {
	for _, want := range t.names[1:] {
		if foldsTo([]byte(name), want) {
			return ambiguous(name, "%q is not %q: field names must be spelled exactly", name, want)
		}
	}
	if reason, ok := t.unpriced[name]; ok {
		return unsupported(name, "%q is not supported: %s", name, reason)
	}
	return unsupported(name, "%q is not a field this route forwards", name)
}

// nextField reads the key of the top-level object's member i (0 opens the
// object) and returns its field, once the key is one of t's, spelled
// exactly, not seen before; more is false after the last member. The
// caller reads the value, then calls again with i+1. (An iterator rather
// than a callback: a func value would make the scanner escape to the heap
// on every request.)
func (r *requestScan) nextField(t *fieldTable, i int) (f uint8, more bool, err *meter.Error) {
	s := &r.s
	if i == 0 {
		if s.peek() != '{' {
			return 0, false, badRequest(msgNotObject)
		}
		s.open('{')
	}
	if !s.more('}', i) {
		if !s.finish() {
			return 0, false, badRequest(msgInvalidJSON)
		}
		return 0, false, nil
	}
	raw, escaped := s.key()
	if s.bad {
		return 0, false, badRequest(msgInvalidJSON)
	}
	var buf [32]byte
	name := keyName(raw, escaped, buf[:])
	f = t.byName[string(name)]
	if f == 0 {
		return 0, false, t.refuse(string(name))
	}
	if r.seen&(1<<f) != 0 {
		return 0, false, ambiguous(t.names[f], "%q must appear only once", t.names[f])
	}
	r.seen |= 1 << f
	return f, true, nil
}

// has reports whether the request carried field f.
func (r *requestScan) has(f uint8) bool { return r.seen&(1<<f) != 0 }
