package main

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
)

// mustRateHeaders checks the X-RateLimit-* headers of a response and
// returns the remaining count.
func mustRateHeaders(t *testing.T, resp *http.Response, limit int) int {
	t.Helper()
	if got := resp.Header.Get("X-RateLimit-Limit"); got != strconv.Itoa(limit) {
		t.Fatalf("X-RateLimit-Limit=%q, want %d (status %d)", got, limit, resp.StatusCode)
	}
	remaining, err := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining"))
	if err != nil || remaining < 0 || remaining >= limit {
		t.Fatalf("X-RateLimit-Remaining=%q", resp.Header.Get("X-RateLimit-Remaining"))
	}
	reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
	if now := time.Now().Unix(); err != nil || reset < now || reset > now+61 {
		t.Fatalf("X-RateLimit-Reset=%q, want a Unix time within the next minute", resp.Header.Get("X-RateLimit-Reset"))
	}
	return remaining
}

// A key's own rate limit: the headers count down on every response, errors
// included; past the limit, 429 rate_limited with the Retry-After one
// request takes to refill. Other keys are not affected.
func TestRateLimit_PerKey(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	a, _ := mustApp(t, m, "1", meter.DefaultKeyScopes)
	key, err := auth.IssueKey(t.Context(), m.Keys, &meter.Key{AccountID: a.ID, Name: "limited", Scopes: meter.DefaultKeyScopes, RateLimit: 3}, false)
	if err != nil {
		t.Fatal(err)
	}
	responses := []*http.Response{
		post(t, m, "/v1/chat/completions", key, helloChat),
		post(t, m, "/v1/chat/completions", key, `{"model":"unpriced","messages":[]}`), // an error answer counts and carries them too
		post(t, m, "/v1/chat/completions", key, streamChat),
	}
	for i, resp := range responses {
		readAll(t, resp)
		if remaining := mustRateHeaders(t, resp, 3); remaining != 2-i {
			t.Fatalf("request %d: remaining %d, want %d", i, remaining, 2-i)
		}
	}
	if responses[0].StatusCode != 200 || responses[1].StatusCode != 400 || responses[2].StatusCode != 200 {
		t.Fatalf("statuses %d %d %d, want 200 400 200", responses[0].StatusCode, responses[1].StatusCode, responses[2].StatusCode)
	}
	resp := post(t, m, "/v1/chat/completions", key, helloChat)
	retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	mustRateHeaders(t, resp, 3)
	e := mustError(t, resp, http.StatusTooManyRequests, meter.ECodeRateLimited)
	// 3 per minute refill one request every 20 s.
	if err != nil || retry < 19 || retry > 20 || e.Error.Details["retry_after"] != float64(retry) {
		t.Fatalf("Retry-After=%q details=%v, want 20 s (or 19 after a slow second)", resp.Header.Get("Retry-After"), e.Error.Details)
	}
	// The refused request reached neither the ledger nor the upstream.
	if n := len(usageEntries(t, m, a.ID)); n != 2 {
		t.Fatalf("usage entries=%d, want the 2 served requests", n)
	}
	// The account API is limited by the same key's bucket.
	req, _ := http.NewRequest(http.MethodGet, m.URL()+"/api/v1/account", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	mustError(t, do(t, req), http.StatusTooManyRequests, meter.ECodeRateLimited)

	// Another key of the same app has the default limit, untouched.
	_, other := mustApp(t, m, "1", meter.DefaultKeyScopes)
	resp = post(t, m, "/v1/chat/completions", other, helloChat)
	readAll(t, resp)
	if resp.StatusCode != 200 || mustRateHeaders(t, resp, 600) != 599 {
		t.Fatalf("other key: status %d", resp.StatusCode)
	}
}

// Defaults per kind of principal, and per IP for requests without
// credentials (here, x402 quotes).
func TestRateLimit_DefaultsPerKindAndPerIP(t *testing.T) {
	up := newFixtureUpstream(t)
	cfg := x402Config(t, up.URL(), newFacilitatorStub(t).URL)
	cfg.RateLimits = RateLimitConfig{APIKey: 5, Session: 2, Wallet: 4, JWTUser: 3, IP: 2}
	m := MustRunMain(t, cfg)
	_, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	resp := post(t, m, "/v1/chat/completions", key, helloChat)
	readAll(t, resp)
	if mustRateHeaders(t, resp, 5) != 4 {
		t.Fatal("API key: want 4 remaining of 5")
	}
	s := mintSession(t, m, key, "")
	for range 2 {
		resp := post(t, m, "/v1/chat/completions", s.SessionToken, helloChat)
		readAll(t, resp)
		mustRateHeaders(t, resp, 2)
	}
	mustError(t, post(t, m, "/v1/chat/completions", s.SessionToken, helloChat), http.StatusTooManyRequests, meter.ECodeRateLimited)
	// A key with a limit of its own binds its sessions too (they spend its
	// bucket); each session's own bucket, at the session default here, is
	// the tighter one, and the headers show it.
	a, _ := mustApp(t, m, "1", meter.DefaultKeyScopes)
	limited, err := auth.IssueKey(t.Context(), m.Keys, &meter.Key{AccountID: a.ID, Name: "limited", Scopes: meter.DefaultKeyScopes, RateLimit: 7}, false)
	if err != nil {
		t.Fatal(err)
	}
	resp = post(t, m, "/v1/chat/completions", mintSession(t, m, limited, "").SessionToken, helloChat)
	readAll(t, resp)
	mustRateHeaders(t, resp, 2)

	// Unpaid requests: limited by IP, 402 twice, then 429.
	for range 2 {
		resp := post(t, m, "/v1/chat/completions", "", helloChat)
		readAll(t, resp)
		if resp.StatusCode != http.StatusPaymentRequired {
			t.Fatalf("unpaid: %d, want 402", resp.StatusCode)
		}
		mustRateHeaders(t, resp, 2)
	}
	mustError(t, post(t, m, "/v1/chat/completions", "", helloChat), http.StatusTooManyRequests, meter.ECodeRateLimited)
	// The key's own bucket is apart from the IP's.
	resp = post(t, m, "/v1/chat/completions", key, helloChat)
	if readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("key after the IP was limited: %d", resp.StatusCode)
	}
}

// Every session token minted from a key spends from that key's own
// bucket: minting fresh tokens (itself a request of the key) never adds
// requests. With a limit of its own, the key's limit binds the key and
// all its sessions together; without, the api_key default does, and
// rate_limits.session further limits each token.
func TestRateLimit_SessionsShareTheirKeysBucket(t *testing.T) {
	up := newFixtureUpstream(t)
	cfg := testConfig(t, up.URL())
	cfg.RateLimits = RateLimitConfig{APIKey: 4, Session: 100, Wallet: 100, JWTUser: 100, IP: 100}
	m := MustRunMain(t, cfg)
	chat := func(token string) *http.Response {
		resp := post(t, m, "/v1/chat/completions", token, helloChat)
		readAll(t, resp)
		return resp
	}

	t.Run("own limit", func(t *testing.T) {
		a, _ := mustApp(t, m, "1", meter.DefaultKeyScopes)
		_, key := issueKey(t, m, &meter.Key{AccountID: a.ID, Name: "limited", Scopes: meter.DefaultKeyScopes, RateLimit: 6})
		var sessions []string
		for range 3 {
			sessions = append(sessions, mintSession(t, m, key, "").SessionToken)
		}
		for i, s := range sessions {
			resp := chat(s)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("session %d: status %d", i, resp.StatusCode)
			}
			if got := mustRateHeaders(t, resp, 6); got != 2-i {
				t.Fatalf("session %d: remaining %d, want %d of the key's 6", i, got, 2-i)
			}
		}
		for _, s := range append(sessions, key) {
			mustError(t, post(t, m, "/v1/chat/completions", s, helloChat), http.StatusTooManyRequests, meter.ECodeRateLimited)
		}
		mustError(t, post(t, m, "/api/v1/auth/session-token", key, ""), http.StatusTooManyRequests, meter.ECodeRateLimited)
	})

	t.Run("default limit", func(t *testing.T) {
		_, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
		s1, s2 := mintSession(t, m, key, "").SessionToken, mintSession(t, m, key, "").SessionToken
		if resp := chat(s1); resp.StatusCode != http.StatusOK || mustRateHeaders(t, resp, 4) != 1 {
			t.Fatalf("first session: status %d", resp.StatusCode)
		}
		if resp := chat(s2); resp.StatusCode != http.StatusOK || mustRateHeaders(t, resp, 4) != 0 {
			t.Fatalf("second session: status %d", resp.StatusCode)
		}
		mustError(t, post(t, m, "/v1/chat/completions", s1, helloChat), http.StatusTooManyRequests, meter.ECodeRateLimited)
		mustError(t, post(t, m, "/v1/chat/completions", key, helloChat), http.StatusTooManyRequests, meter.ECodeRateLimited)
	})
}
