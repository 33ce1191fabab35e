package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// Sign-in-with-x messages are bound to x402.public_url, never to the
// request's Host: a proof for that origin is taken whatever address it is
// sent to, one for the address paymeter listens on is not. Without the
// setting, off loopback, and without x402, no 402 declares it and a proof
// is refused as not taken here.
func TestInterop_SIWXBoundToPublicURL(t *testing.T) {
	node := needNode(t)
	up := newFixtureUpstream(t)
	fac := newFacilitatorStub(t)
	cfg := x402Config(t, up.URL(), fac.URL)
	cfg.X402.PublicURL = "https://api.paymeter.test"
	m := MustRunMain(t, cfg)
	key, _ := crypto.GenerateKey()

	bound := siwxChallenge(t, m)
	if bound.Domain != "api.paymeter.test" || bound.URI != "https://api.paymeter.test/v1/chat/completions" ||
		bound.ChainID != "eip155:84532" || bound.Type != "eip191" || len(bound.Nonce) != 32 {
		t.Fatalf("challenge %+v, want it bound to x402.public_url", bound)
	}
	issued, err := time.Parse(time.RFC3339, bound.IssuedAt)
	expires, err2 := time.Parse(time.RFC3339, bound.ExpirationTime)
	if err != nil || err2 != nil || expires.Sub(issued) != 5*time.Minute || time.Since(issued) > time.Minute {
		t.Fatalf("challenge times %s … %s, want now and 5 minutes later", bound.IssuedAt, bound.ExpirationTime)
	}
	hostBound := siwxChallenge(t, m)
	hostBound.Domain, hostBound.URI = strings.TrimPrefix(m.URL(), "http://"), m.URL()+"/v1/chat/completions"
	hostBound.Resources = []string{hostBound.URI}
	headers := siwxSign(t, node, []siwxEntry{
		{Info: bound, RequestURL: bound.URI, Key: hexKey(key)},
		{Info: hostBound, RequestURL: hostBound.URI, Key: hexKey(key)},
	})
	resp := siwxSend(t, m.URL(), headers[0])
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("proof for x402.public_url: %d %s", resp.StatusCode, body)
	}
	mustSIWXRefused(t, siwxSend(t, m.URL(), headers[1]), meter.ECodeInvalidSIWX, "invalid_siwx_domain_mismatch")

	for name, cfg := range map[string]*Config{
		"off loopback without x402.public_url": func() *Config {
			c := x402Config(t, up.URL(), fac.URL)
			c.Listen = "0.0.0.0:0"
			return c
		}(),
		"x402.siwx.enabled false": func() *Config {
			c := x402Config(t, up.URL(), fac.URL)
			c.X402.SIWX.Enabled = false
			return c
		}(),
		"without x402": testConfig(t, up.URL()),
	} {
		t.Run(name, func(t *testing.T) {
			m := MustRunMain(t, cfg)
			url := loopbackURL(t, m)
			resp := postWith(t, m, "/v1/chat/completions", chatBody)
			readAll(t, resp)
			if pr, err := x402.ParseChallengeV2(resp.Header.Get(x402.HeaderRequired)); err == nil && pr.Extensions[x402.ExtensionSIWX] != nil {
				t.Fatalf("402 declares sign-in-with-x: %s", pr.Extensions)
			}
			mustSIWXRefused(t, siwxSend(t, url, headers[1]), meter.ECodeInvalidSIWX, "invalid_siwx_disabled")
		})
	}
}

func TestConfig_SIWX(t *testing.T) {
	for _, tc := range []struct {
		edit func(s *SIWXConfig)
		want string
	}{
		{func(s *SIWXConfig) { s.TTL = 0 }, "x402.siwx.ttl"},
		{func(s *SIWXConfig) { s.TTL = Duration(2 * time.Hour) }, "x402.siwx.ttl"},
		{func(s *SIWXConfig) { s.Statement = "" }, "x402.siwx.statement"},
		{func(s *SIWXConfig) { s.Statement = "two\nlines" }, "x402.siwx.statement"},
		{func(s *SIWXConfig) { s.Statement = "caf\u00e9" }, "x402.siwx.statement"},
	} {
		cfg := x402Config(t, "http://127.0.0.1:1/v1", "http://127.0.0.1:2")
		tc.edit(&cfg.X402.SIWX)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%+v: err %v, want it to name %s", cfg.X402.SIWX, err, tc.want)
		}
	}
	cfg := x402Config(t, "http://127.0.0.1:1/v1", "http://127.0.0.1:2")
	if s := cfg.X402.SIWX; !s.Enabled || time.Duration(s.TTL) != 5*time.Minute || s.Statement == "" {
		t.Fatalf("defaults %+v", s)
	}
	cfg.X402.SIWX = SIWXConfig{} // off: nothing else is checked
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}
