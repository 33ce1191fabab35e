package payclient

import (
	"errors"
	"fmt"
	"net"
	"net/url"
)

// ErrCleartext is a signature refused over plain http to a host that is
// not loopback (docs/security.md): on the way, a man in the middle could
// rewrite the 402's payTo, replay the wallet headers, or take the sign-in
// and with it an API key for the whole wallet.
var ErrCleartext = errors.New("refusing to sign over plain http")

// checkTransport refuses to sign for u unless it is https, on loopback,
// or InsecureHTTP allows it.
func (c *Client) checkTransport(u *url.URL) error {
	if c.InsecureHTTP || u.Scheme != "http" || isLoopback(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("%w to %s: anyone on the way could take or redirect it; use https (or allow it with --insecure-http); nothing was signed",
		ErrCleartext, printable(u.Host, 100))
}

// isLoopback is localhost or a loopback address: what never leaves the
// machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
