package main

import (
	"net/http"
	"testing"

	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
)

// M2 without a new lock-out: all sessions of a key spend its bucket, but
// each first a bucket of its own of at most half the key's limit, so one
// session token handed to one browser user (a spend cap of a cent, and
// spending nothing: GET /api/v1/account is free) cannot drain the key's
// bucket and lock the key and its other sessions out for the minute.
func TestRateLimit_OneSessionCannotLockOutItsKey(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	a, _ := mustApp(t, m, "1", meter.DefaultKeyScopes)
	key, err := auth.IssueKey(t.Context(), m.Keys, &meter.Key{AccountID: a.ID, Name: "app backend", Scopes: meter.DefaultKeyScopes, RateLimit: 20}, false)
	if err != nil {
		t.Fatal(err)
	}
	attacker := mintSession(t, m, key, `{"spendCap":"0.01"}`)
	victim := mintSession(t, m, key, "")

	get := func(token string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, m.URL()+"/api/v1/account", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return do(t, req)
	}
	// (The two mints spent 2 of the key's 20.) The attacker sends until refused.
	for i := 0; ; i++ {
		resp := get(attacker.SessionToken)
		readAll(t, resp)
		if resp.StatusCode == http.StatusTooManyRequests {
			break
		}
		if resp.StatusCode != http.StatusOK || i > 30 {
			t.Fatalf("attacker request %d: %d", i, resp.StatusCode)
		}
	}
	// No credit was spent by the attacker...
	if n := len(usageEntries(t, m, a.ID)); n != 0 {
		t.Fatalf("usage entries=%d, want 0", n)
	}
	// ...yet another user's session and the app's own key are refused.
	resp := post(t, m, "/v1/chat/completions", victim.SessionToken, helloChat)
	body := readAll(t, resp)
	if resp.StatusCode == http.StatusTooManyRequests {
		t.Errorf("victim session locked out by another session's free requests: %d %s", resp.StatusCode, body)
	}
	resp = post(t, m, "/v1/chat/completions", key, helloChat)
	body = readAll(t, resp)
	if resp.StatusCode == http.StatusTooManyRequests {
		t.Errorf("the parent key itself locked out by one session: %d %s", resp.StatusCode, body)
	}
}
