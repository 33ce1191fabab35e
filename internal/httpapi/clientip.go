package httpapi

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// ParseTrustedProxies reads the CIDRs of trusted reverse proxies; a bare
// address stands for itself (/32 or /128).
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			if p.Addr().Is4In6() {
				p = netip.PrefixFrom(p.Addr().Unmap(), max(0, p.Bits()-96))
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or an IP address", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// clientIP is the address of the client that sent the request: the peer,
// unless the peer is a trusted proxy; then X-Forwarded-For is read from
// the right, each trusted hop skipped, and the first address not trusted
// is the client. Addresses left of it were written by the client itself
// and are never believed (docs/security.md).
func (s *Server) clientIP(c *fiber.Ctx) netip.Addr {
	var peer netip.Addr
	if a, ok := c.Context().RemoteAddr().(*net.TCPAddr); ok {
		peer = a.AddrPort().Addr().Unmap()
	}
	if len(s.TrustedProxies) == 0 || !s.trusted(peer) {
		return peer
	}
	return forwardedClient(peer, c.Request().Header.PeekAll(fiber.HeaderXForwardedFor), s.trusted)
}

// forwardedClient walks the X-Forwarded-For values hops (in header order)
// from the right, starting from a trusted peer: the first address not
// trusted is the client. Garbage where an address should be stops the
// walk at the last hop read, a trusted proxy.
func forwardedClient(peer netip.Addr, hops [][]byte, trusted func(netip.Addr) bool) netip.Addr {
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		list := hops[i]
		for len(list) > 0 {
			var hop []byte
			if j := bytes.LastIndexByte(list, ','); j >= 0 {
				hop, list = list[j+1:], list[:j]
			} else {
				hop, list = list, nil
			}
			a, err := netip.ParseAddr(string(bytes.TrimSpace(hop)))
			if err != nil {
				return client
			}
			client = a.Unmap()
			if !trusted(client) {
				return client
			}
		}
	}
	return client
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ipKey is the rate-limit key of a client address: an IPv4 address as it
// is, an IPv6 address by its /64, since one host is given a whole /64 and
// could otherwise take a fresh bucket per request.
func ipKey(a netip.Addr) string { return string(appendIPKey(nil, a)) }

// appendIPKey appends ipKey(a) to b, for a lookup that allocates nothing.
func appendIPKey(b []byte, a netip.Addr) []byte {
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.AppendTo(b)
	}
	return a.AppendTo(b)
}

// clientKey is the rate-limit key of the request's client.
func (s *Server) clientKey(c *fiber.Ctx) string { return ipKey(s.clientIP(c)) }
