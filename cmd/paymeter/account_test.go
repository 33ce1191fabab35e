package main

import (
	"encoding/json"
	"net/http"
	"strconv"
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
