package main

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// loopbackURL is the URL of m's listener as reached over loopback, also
// when it listens on every interface.
func loopbackURL(t *testing.T, m *Main) string {
	t.Helper()
	_, port, err := net.SplitHostPort(m.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return "http://127.0.0.1:" + port
}

// Sign-In with Ethereum binds messages to the site's domain. On a public
// listener without siwe.domain paymeter would have to guess it (from the
// listen address), so the routes are off: 404 not_found naming the
// setting. On loopback, or with siwe.domain set, they answer.
func TestSIWE_RoutesNeedADomainOffLoopback(t *testing.T) {
	up := newFixtureUpstream(t)
	public := testConfig(t, up.URL())
	public.Listen = "0.0.0.0:0"
	m := MustRunMain(t, public)
	for _, tt := range []struct{ method, path string }{
		{http.MethodGet, "/api/auth/siwe/nonce"},
		{http.MethodPost, "/api/auth/siwe/verify"},
	} {
		req, _ := http.NewRequest(tt.method, loopbackURL(t, m)+tt.path, strings.NewReader(`{"message":"x","signature":"y"}`))
		e := mustError(t, do(t, req), http.StatusNotFound, meter.ECodeNotFound)
		if !strings.Contains(e.Error.Message, "siwe.domain") {
			t.Fatalf("%s %s: message %q, want it to name siwe.domain", tt.method, tt.path, e.Error.Message)
		}
	}

	configured := testConfig(t, up.URL())
	configured.Listen = "0.0.0.0:0"
	configured.SIWE.Domain = "api.example.com"
	m = MustRunMain(t, configured)
	resp, err := http.Get(loopbackURL(t, m) + "/api/auth/siwe/nonce")
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"domain":"api.example.com"`) ||
		!strings.Contains(string(body), `"uri":"https://api.example.com"`) {
		t.Fatalf("with siwe.domain: %d %s", resp.StatusCode, body)
	}

	loopback := MustRunMain(t, testConfig(t, up.URL())) // 127.0.0.1, no domain: local use
	resp, err = http.Get(loopback.URL() + "/api/auth/siwe/nonce")
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"domain":"`+loopback.ln.Addr().String()+`"`) {
		t.Fatalf("on loopback: %d %s", resp.StatusCode, body)
	}
}
