package httpapi

import (
	"sync"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// A request that outlives its hold must never go free (docs/security.md,
// H2): while it runs its hold (or x402 payment) is in Server.InFlight, so
// the sweeps leave it alone; MaxRequestDuration bounds how long it runs;
// and a stream still running when the server stops is charged for what it
// delivered before the ledger closes (FinishStreams).

// errRequestTooLong ends a stream that ran past MaxRequestDuration.
var errRequestTooLong = &meter.Error{Code: meter.ECodeUpstreamTimeout,
	Message: "the request ran past its time limit; it was charged for what it delivered"}

// errShuttingDown ends a stream still running when the server stops.
var errShuttingDown = &meter.Error{Code: meter.ECodeUnavailable,
	Message: "the server is shutting down; the request was charged for what it delivered"}

// streamSet is the streams being relayed now.
type streamSet struct {
	mu     sync.Mutex
	all    map[*relay]struct{}
	closed bool // by FinishStreams: no stream starts after it
}

// add enters r, unless the set is closed.
func (ss *streamSet) add(r *relay) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return false
	}
	if ss.all == nil {
		ss.all = make(map[*relay]struct{})
	}
	ss.all[r] = struct{}{}
	return true
}

func (ss *streamSet) remove(r *relay) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.all, r)
}

// close lists the streams and refuses new ones: a stream whose upstream
// answers after the ledger closed could not be charged.
func (ss *streamSet) close() []*relay {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.closed = true
	out := make([]*relay, 0, len(ss.all))
	for r := range ss.all {
		out = append(out, r)
	}
	return out
}

// FinishStreams meters every stream still running, for what it delivered,
// and ends it: its upstream request is cancelled, and its client gets an
// error event (if it reads on); a stream whose upstream answers later is
// refused (503 unavailable). Call it once Shutdown has given up waiting,
// before the ledger closes: a stream past shutdown_timeout is charged,
// never released. It returns how many streams it ended.
func (s *Server) FinishStreams() int {
	streams := s.streams.close()
	for _, r := range streams {
		r.stopWith(errShuttingDown)
	}
	return len(streams)
}

// inFlightID names a request's hold, or its x402 payment, in InFlight
// (meter.InFlightPayer); "" (nothing to protect) for a payer without one.
func (m *metered) inFlightID() string {
	if p, ok := m.payer.(meter.InFlightPayer); ok {
		return p.InFlightID()
	}
	return ""
}

// begin marks the request as running until m.end; it starts the clock of
// MaxRequestDuration at start.
func (s *Server) begin(m *metered, start time.Time) {
	if s.MaxRequestDuration > 0 {
		m.deadline = start.Add(s.MaxRequestDuration)
	}
	m.end = s.InFlight.Begin(m.inFlightID())
}
