package httpapi

import (
	"bytes"
	"encoding/json"
	"net"
	"net/netip"
	"strconv"
	"sync"
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

// capListener caps the connections open at once, in all and per client
// address (an IPv6 /64 as one; a trusted proxy's own address is not
// capped, its clients are many). One past a cap is answered 503 overloaded
// in the API's error shape (docs/design.md §6) and closed, without a
// goroutine of the server's: fasthttp's own cap (Concurrency) would answer
// in plain text and has no share per client, so one client could take
// every place.
type capListener struct {
	net.Listener
	max     int64
	perIP   int
	trusted func(netip.Addr) bool
	open    atomic.Int64
	// refusing counts the refused connections being answered.
	refusing atomic.Int64

	mu   sync.Mutex
	byIP map[netip.Addr]int
}

// overloadedResponse is the whole answer to a connection past the cap.
func overloadedResponse() []byte {
	id := newRequestID()
	body, _ := json.Marshal(errorBody{Error: errorFields{Code: meter.ECodeOverloaded, Type: "api_error",
		Message: "too many connections are open; retry in a second", RequestID: id}})
	return []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n" +
		"X-Request-Id: " + id + "\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + string(body))
}

// Accept returns the next connection within the caps; those past them
// are answered and closed here.
func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		cc := &capConn{Conn: c, l: l}
		if l.admit(cc) {
			return cc, nil
		}
		l.refuse(c)
	}
}

// maxRefusing bounds the refused connections being answered at once;
// past it, one is closed unanswered.
const maxRefusing = 64

// refuse answers a connection past a cap. The answer follows the
// client's request head, read first (at most 8 KiB, for a second): an
// answer to a request not yet sent would reach most clients as a broken
// connection instead.
func (l *capListener) refuse(c net.Conn) {
	if l.refusing.Add(1) > maxRefusing {
		l.refusing.Add(-1)
		c.Close()
		return
	}
	go func() {
		defer l.refusing.Add(-1)
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Second))
		var buf [8 << 10]byte
		for n := 0; n < len(buf); {
			m, err := c.Read(buf[n:])
			n += m
			if err != nil || bytes.Contains(buf[:n], []byte("\r\n\r\n")) {
				break
			}
		}
		c.Write(overloadedResponse())
	}()
}

// admit takes a place for c, in all and for its client, or says no.
func (l *capListener) admit(c *capConn) bool {
	if l.open.Add(1) > l.max {
		l.open.Add(-1)
		return false
	}
	if l.perIP <= 0 {
		return true
	}
	a, ok := c.RemoteAddr().(*net.TCPAddr)
	if !ok {
		return true
	}
	ip := a.AddrPort().Addr().Unmap()
	if l.trusted != nil && l.trusted(ip) {
		return true
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		ip = p.Addr()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byIP[ip] >= l.perIP {
		l.open.Add(-1)
		return false
	}
	if l.byIP == nil {
		l.byIP = map[netip.Addr]int{}
	}
	l.byIP[ip]++
	c.ip, c.counted = ip, true
	return true
}

type capConn struct {
	net.Conn
	l       *capListener
	ip      netip.Addr
	counted bool // ip holds one of its client's places
	closed  atomic.Bool
}

// Close frees the connection's places, once.
func (c *capConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.l.open.Add(-1)
		if c.counted {
			c.l.mu.Lock()
			if c.l.byIP[c.ip]--; c.l.byIP[c.ip] <= 0 {
				delete(c.l.byIP, c.ip)
			}
			c.l.mu.Unlock()
		}
	}
	return c.Conn.Close()
}
