package httpapi

import (
	"net"
	"time"
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
}

// Write writes p in pieces, each of which must be taken by the client
// within the timeout.
func (c *stallConn) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), stallChunk)
		if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
			return written, err
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
