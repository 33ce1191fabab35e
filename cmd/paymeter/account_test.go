package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// The account API shows any principal its balance and its journal, newest
// first, page by page.
func TestAccountAPI(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	_, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	for range 3 {
		readAll(t, post(t, m, "/v1/chat/completions", key, helloChat))
	}
	get := func(path string) []byte {
		req, _ := http.NewRequest(http.MethodGet, m.URL()+path, nil)
		req.Header.Set("X-API-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status=%d body=%s", path, resp.StatusCode, body)
		}
		return body
	}
	var acct map[string]any
	if err := json.Unmarshal(get("/api/v1/account"), &acct); err != nil {
		t.Fatal(err)
	}
	if acct["kind"] != "app" || acct["balance"] != "0.9998995" || acct["available"] != "0.9998995" || acct["held"] != "0" {
		t.Fatalf("account=%v, want an app with 1 - 3 × 0.0000335 as decimal strings", acct)
	}

	type page struct {
		Data []struct {
			ID           int64  `json:"id"`
			Kind         string `json:"kind"`
			Amount       string `json:"amount"`
			OutputTokens int64  `json:"outputTokens"`
		} `json:"data"`
		NextCursor *string `json:"nextCursor"`
	}
	var kinds []string
	path := "/api/v1/usage?limit=2"
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("pagination does not end")
		}
		var p page
		if err := json.Unmarshal(get(path), &p); err != nil {
			t.Fatal(err)
		}
		for i, e := range p.Data {
			if i > 0 && e.ID >= p.Data[i-1].ID {
				t.Fatalf("entries not newest first: %+v", p.Data)
			}
			kinds = append(kinds, e.Kind)
			if e.Kind == "usage" && (e.Amount != "-0.0000335" || e.OutputTokens != 16) {
				t.Fatalf("usage entry %+v", e)
			}
		}
		path = ""
		if p.NextCursor != nil {
			if _, err := strconv.ParseInt(*p.NextCursor, 10, 64); err != nil {
				t.Fatalf("cursor %q", *p.NextCursor)
			}
			path = "/api/v1/usage?limit=2&cursor=" + *p.NextCursor
		}
	}
	if len(kinds) != 4 || kinds[3] != "grant" {
		t.Fatalf("journal kinds=%v, want three usages then the grant", kinds)
	}
	req, _ := http.NewRequest(http.MethodGet, m.URL()+"/api/v1/usage?limit=0", nil)
	req.Header.Set("X-API-Key", key)
	resp, _ := http.DefaultClient.Do(req)
	mustError(t, resp, 400, meter.ECodeBadRequest)
	resp, _ = http.Get(m.URL() + "/api/v1/account")
	mustError(t, resp, 401, meter.ECodeMissingCredentials)
}

// The unauthenticated sign-in routes are limited per IP.
func TestSignIn_RateLimited(t *testing.T) {
	cfg := testConfig(t, newFixtureUpstream(t).URL())
	cfg.SIWE.RateLimitPerMinute = 3
	m := MustRunMain(t, cfg)
	for i := range 3 {
		resp, err := http.Get(m.URL() + "/api/auth/siwe/nonce")
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-RateLimit-Limit") != "3" ||
			resp.Header.Get("X-RateLimit-Remaining") != strconv.Itoa(2-i) {
			t.Fatalf("request %d: status=%d limit=%q remaining=%q", i, resp.StatusCode,
				resp.Header.Get("X-RateLimit-Limit"), resp.Header.Get("X-RateLimit-Remaining"))
		}
	}
	resp, err := http.Get(m.URL() + "/api/auth/siwe/nonce")
	if err != nil {
		t.Fatal(err)
	}
	retry := resp.Header.Get("Retry-After")
	mustError(t, resp, 429, meter.ECodeRateLimited)
	if n, err := strconv.Atoi(retry); err != nil || n < 1 || n > 20 {
		t.Fatalf("Retry-After=%q, want about the 20 s one request takes to refill", retry)
	}
}

// getJSON GETs path with token as the bearer and decodes a 200 answer.
func getJSON(t *testing.T, m *Main, path, token string, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, m.URL()+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp := do(t, req)
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status=%d body=%s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

// usagePage is one page of GET /api/v1/usage.
type usagePage struct {
	Data []struct {
		ID      int64  `json:"id"`
		Kind    string `json:"kind"`
		Amount  string `json:"amount"`
		Subject string `json:"subject"`
	} `json:"data"`
	NextCursor *string `json:"nextCursor"`
}

// Sub-principals of an app (JWT users, session tokens) see only their own
// journal entries and their own spending against their cap, never the
// app's balance or another subject's entries; the app's key sees all.
func TestAccountAPI_SubPrincipalsSeeOnlyTheirOwn(t *testing.T) {
	up := newFixtureUpstream(t)
	idp := newIdentityProvider(t)
	cfg, appID := jwtConfig(t, up.URL(), idp, "1")
	cfg.Auth.JWT.DailySpendCap = amt(t, "0.1")
	m := MustRunMain(t, cfg)
	_, key := issueKey(t, m, &meter.Key{AccountID: appID, Name: "app", Scopes: meter.DefaultKeyScopes})
	alice, bob := idp.token(t, "did:privy:alice", nil), idp.token(t, "did:privy:bob", nil)
	capped := mintSession(t, m, key, `{"spendCap":"0.01"}`).SessionToken
	uncapped := mintSession(t, m, key, "").SessionToken
	for _, tok := range []string{alice, alice, bob, capped, key} {
		resp := post(t, m, "/v1/chat/completions", tok, helloChat)
		if raw := readAll(t, resp); resp.StatusCode != http.StatusOK {
			t.Fatalf("chat: %d %s", resp.StatusCode, raw)
		}
	}
	waitSettled(t, m, appID)

	// Every entry a sub-principal sees is its own, whatever the cursor.
	subjectOf := map[string]string{alice: "user:did:privy:alice", bob: "user:did:privy:bob"}
	want := map[string]int{alice: 2, bob: 1, capped: 1, uncapped: 0}
	var appPage usagePage
	getJSON(t, m, "/api/v1/usage", key, &appPage)
	if len(appPage.Data) != 6 {
		t.Fatalf("the app's key sees %d entries, want 5 usages and the grant", len(appPage.Data))
	}
	for _, e := range appPage.Data {
		if strings.HasPrefix(e.Subject, "session:") {
			subjectOf[capped] = e.Subject
		}
	}
	for tok, n := range want {
		var seen []int64
		path := "/api/v1/usage?limit=1"
		for pages := 0; path != ""; pages++ {
			if pages > n+1 {
				t.Fatal("pagination does not end")
			}
			var p usagePage
			getJSON(t, m, path, tok, &p)
			for _, e := range p.Data {
				if e.Kind != "usage" || e.Subject != subjectOf[tok] || e.Subject == "" {
					t.Fatalf("a sub-principal saw entry %+v, want only %q's usage", e, subjectOf[tok])
				}
				seen = append(seen, e.ID)
			}
			path = ""
			if p.NextCursor != nil {
				path = "/api/v1/usage?limit=1&cursor=" + *p.NextCursor
			}
		}
		if len(seen) != n {
			t.Fatalf("%s saw %d entries, want %d", subjectOf[tok], len(seen), n)
		}
		// A cursor above every entry pages from the top, still its own only.
		var p usagePage
		getJSON(t, m, "/api/v1/usage?cursor="+strconv.FormatInt(appPage.Data[0].ID+1, 10), tok, &p)
		if len(p.Data) != n {
			t.Fatalf("%s with a high cursor saw %d entries, want %d", subjectOf[tok], len(p.Data), n)
		}
	}

	// The account: a sub-principal's own cap and spending, no app balance.
	for tok, wantAcct := range map[string]map[string]any{
		alice:    {"subject": "user:did:privy:alice", "cap": "0.1", "spent": "0.000067", "held": "0", "remaining": "0.099933"},
		bob:      {"subject": "user:did:privy:bob", "cap": "0.1", "spent": "0.0000335", "held": "0", "remaining": "0.0999665"},
		capped:   {"subject": subjectOf[capped], "cap": "0.01", "spent": "0.0000335", "held": "0", "remaining": "0.0099665"},
		uncapped: {"cap": nil, "spent": "0", "remaining": nil},
	} {
		var acct map[string]any
		getJSON(t, m, "/api/v1/account", tok, &acct)
		for _, field := range []string{"balance", "available", "freeCreditsGranted"} {
			if _, ok := acct[field]; ok {
				t.Fatalf("a sub-principal sees the app's %s: %v", field, acct)
			}
		}
		for field, v := range wantAcct {
			if got, ok := acct[field]; !ok || got != v {
				t.Fatalf("account %v: %s=%v, want %v", acct, field, got, v)
			}
		}
	}
	var acct map[string]any
	getJSON(t, m, "/api/v1/account", key, &acct)
	if acct["balance"] != "0.9998325" {
		t.Fatalf("the app's key sees %v, want the app's balance 1 - 5 × 0.0000335", acct)
	}
}

// A capped sub-principal refused for want of the app's credit is not told
// the app's available balance; the app's own key is.
func TestAccountAPI_SubPrincipalNotToldTheAppsBalance(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	_, key := mustApp(t, m, "0.000001", meter.DefaultKeyScopes)
	for _, spec := range []string{`{"spendCap":"1"}`, `{}`} {
		s := mintSession(t, m, key, spec)
		e := mustError(t, post(t, m, "/v1/chat/completions", s.SessionToken, helloChat), http.StatusPaymentRequired, meter.ECodeInsufficientCredit)
		if _, ok := e.Error.Details["available"]; ok || strings.Contains(e.Error.Message, "0.000001") {
			t.Fatalf("the session %s was told the app's balance: %+v", spec, e.Error)
		}
	}
	e := mustError(t, post(t, m, "/v1/chat/completions", key, helloChat), http.StatusPaymentRequired, meter.ECodeInsufficientCredit)
	if e.Error.Details["available"] != "0.000001" {
		t.Fatalf("the app's key: details %v, want its available balance", e.Error.Details)
	}
}
