package httpapi

import (
	"bytes"
	"net/netip"
	"testing"
)

func TestForwardedClient(t *testing.T) {
	trusted, err := ParseTrustedProxies([]string{"10.0.0.0/8", "::ffff:192.168.0.0/112", "2001:db8::1"})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{TrustedProxies: trusted}
	peer := netip.MustParseAddr("10.0.0.1")
	for _, tt := range []struct {
		name string
		hops []string
		want string
	}{
		{"none", nil, "10.0.0.1"},
		{"one client", []string{"203.0.113.9"}, "203.0.113.9"},
		{"client's own entries ignored", []string{"1.2.3.4, 203.0.113.9"}, "203.0.113.9"},
		{"trusted hops skipped", []string{"1.2.3.4, 203.0.113.9, 10.1.1.1, 192.168.3.3"}, "203.0.113.9"},
		{"several headers", []string{"1.2.3.4", "203.0.113.9", "10.1.1.1"}, "203.0.113.9"},
		{"mapped v4", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"ipv6 proxy by address", []string{"2001:db8::7, 2001:db8::1"}, "2001:db8::7"},
		{"garbage stops at the proxy", []string{"203.0.113.9, junk, 10.2.2.2"}, "10.2.2.2"},
		{"all trusted", []string{"10.9.9.9"}, "10.9.9.9"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var hops [][]byte
			for _, h := range tt.hops {
				hops = append(hops, []byte(h))
			}
			if got := forwardedClient(peer, hops, s.trusted); got.String() != tt.want {
				t.Fatalf("client=%s, want %s", got, tt.want)
			}
		})
	}
	if got := ipKey(netip.MustParseAddr("2001:db8:1:2:3:4:5:6")); got != "2001:db8:1:2::/64" {
		t.Fatalf("ipKey v6=%q, want its /64", got)
	}
	if got := ipKey(netip.MustParseAddr("203.0.113.9")); got != "203.0.113.9" {
		t.Fatalf("ipKey v4=%q", got)
	}
}

// The client is the peer or an address the header names, never one left
// of an address that is not trusted; no input panics.
func FuzzForwardedClient(f *testing.F) {
	for _, seed := range []string{"", "203.0.113.9", "1.1.1.1, 10.0.0.2", "junk,,, ::1", "::ffff:10.0.0.1, fe80::1%eth0"} {
		f.Add(seed)
	}
	trusted, _ := ParseTrustedProxies([]string{"10.0.0.0/8"})
	s := &Server{TrustedProxies: trusted}
	peer := netip.MustParseAddr("10.0.0.1")
	f.Fuzz(func(t *testing.T, xff string) {
		got := forwardedClient(peer, [][]byte{[]byte(xff)}, s.trusted)
		if got == peer {
			return
		}
		parts := bytes.Split([]byte(xff), []byte(","))
		for i := len(parts) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(string(bytes.TrimSpace(parts[i])))
			if err != nil {
				break
			}
			if a.Unmap() == got {
				return
			}
			if !s.trusted(a.Unmap()) {
				break
			}
		}
		t.Fatalf("client %s for %q: not the peer nor the rightmost untrusted hop", got, xff)
	})
}
