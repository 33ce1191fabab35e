package httpapi

import (
	"encoding/json"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// stallListener gives every accepted connection a write timeout that
// bounds each write rather than the whole response.
//
// fasthttp's own WriteTimeout is one deadline set before the response is
// written (server.go, serveConn): a stream longer than it would be cut
// however fast its client reads. What must be bounded is a client that
// stops reading (a slow reader holding a connection, its hold and an
// upstream request): here each write of at most stallChunk bytes must
// finish within timeout, so a stream that keeps flowing is never cut and
// one whose client stalls fails within timeout (docs/security.md).
type stallListener struct {
	net.Listener
	timeout time.Duration
}

// stallChunk is the most one deadline covers: a large body is written in
// pieces, each with a fresh deadline, so that a big answer to a slow but
// reading client is not cut.
const stallChunk = 64 << 10

// Accept wraps the next connection.
func (l *stallListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &stallConn{Conn: c, timeout: l.timeout}, nil
}

type stallConn struct {
	net.Conn
	timeout time.Duration
	// deadline is the write deadline last set. It is moved only once it
	// is nearer than three quarters of the timeout: moving a deadline is a
	// timer update, and most answers are one write.
	deadline time.Time
}

// Write writes p in pieces, each of which must be taken by the client
// within the timeout (at least three quarters of it, at most all of it).
func (c *stallConn) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), stallChunk)
		if now := time.Now(); c.deadline.Sub(now) < c.timeout-c.timeout/4 {
			c.deadline = now.Add(c.timeout)
			if err := c.Conn.SetWriteDeadline(c.deadline); err != nil {
				return written, err
			}
		}
		m, err := c.Conn.Write(p[:n])
		written += m
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

// capListener caps the connections open at once. One past the cap is
// answered 503 overloaded in the API's error shape (docs/design.md §6) and
// closed, without a goroutine of the server's: fasthttp's own cap
// (Concurrency) would answer in plain text.
type capListener struct {
	net.Listener
	max  int64
	open atomic.Int64
}

// overloadedResponse is the whole answer to a connection past the cap.
func overloadedResponse() []byte {
	id := newRequestID()
	body, _ := json.Marshal(errorBody{Error: errorFields{Code: meter.ECodeOverloaded, Type: "api_error",
		Message: "too many connections are open; retry in a second", RequestID: id}})
	return []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n" +
		"X-Request-Id: " + id + "\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + string(body))
}

// Accept returns the next connection within the cap; those past it are
// answered and closed here.
func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			return &capConn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		c.SetWriteDeadline(time.Now().Add(time.Second))
		c.Write(overloadedResponse())
		c.Close()
	}
}

type capConn struct {
	net.Conn
	l      *capListener
	closed atomic.Bool
}

// Close frees the connection's place, once.
func (c *capConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.l.open.Add(-1)
	}
	return c.Conn.Close()
}
