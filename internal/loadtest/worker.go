package loadtest

import (
	"bufio"
	"context"
	"net"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// worker owns one connection and the statistics of the requests sent on it.
// Nothing in it is shared until the run is over, except that the stopper may
// read conn and set closed under mu; the worker changes conn only under mu.
type worker struct {
	r  *run
	br *bufio.Reader

	mu     sync.Mutex
	conn   net.Conn // nil between a failed request and the redial
	closed bool

	hist     histogram
	statuses [statusSlots]int64
	other    map[int]int64 // statuses fasthttp parsed outside 0..999
	requests int64
	errors   int64
}

func (w *worker) loop() {
	defer w.abort()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	resp.SkipBody = w.r.head
	for {
		if w.r.max > 0 && w.r.sent.Add(1) > w.r.max {
			return
		}
		if w.conn == nil && !w.redial() {
			return
		}
		t0 := time.Since(w.r.base)
		status, err := w.roundTrip(resp)
		t1 := time.Since(w.r.base)
		if w.r.stopped.Load() {
			return // cut off by the stopper: not a sample
		}
		if t0 >= w.r.from && t1 <= w.r.end {
			w.count(status, err, t1-t0)
		}
		if t1 >= w.r.end {
			return
		}
	}
}

// roundTrip writes the request and reads one response on w.conn, dropping the
// connection after a failure or when the server asks to close it.
func (w *worker) roundTrip(resp *fasthttp.Response) (int, error) {
	if _, err := w.conn.Write(w.r.raw()); err != nil {
		w.drop()
		return 0, err
	}
	if err := resp.Read(w.br); err != nil {
		w.drop()
		return 0, err
	}
	if resp.ConnectionClose() {
		w.drop()
	}
	return resp.StatusCode(), nil
}

func (w *worker) count(status int, err error, d time.Duration) {
	w.hist.record(d)
	switch {
	case err != nil:
		w.errors++
		return
	case status >= 0 && status < statusSlots:
		w.statuses[status]++
	default:
		if w.other == nil {
			w.other = map[int]int64{}
		}
		w.other[status]++
		w.errors++
		return
	}
	if w.r.expect[status] {
		w.requests++
	} else {
		w.errors++
	}
}

// redial replaces a dropped connection, counting failed dials of the measured
// phase as errors; it gives up when the run is stopped or over.
func (w *worker) redial() bool {
	for {
		conn, err := w.r.dial(context.Background())
		now := time.Since(w.r.base)
		if err == nil {
			w.mu.Lock()
			defer w.mu.Unlock()
			if w.closed {
				conn.Close()
				return false
			}
			w.conn = conn
			w.br.Reset(conn)
			return true
		}
		if now >= w.r.from && now <= w.r.end && !w.r.stopped.Load() {
			w.errors++
		}
		if now >= w.r.end {
			return false
		}
		select {
		case <-w.r.stop:
			return false
		case <-time.After(redialPause):
		}
	}
}

func (w *worker) drop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

// abort closes the connection for good, so that a blocked read or write
// returns. It may run on the stopper's goroutine, so it leaves w.conn for the
// worker to clear: the worker reads that field without the lock.
func (w *worker) abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.conn != nil {
		w.conn.Close()
	}
}
