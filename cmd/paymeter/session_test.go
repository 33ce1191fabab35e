package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// sessionToken is the answer of POST /api/v1/auth/session-token.
type sessionToken struct {
	SessionToken string    `json:"sessionToken"`
	ExpiresAt    time.Time `json:"expiresAt"`
	Scopes       []string  `json:"scopes"`
	Models       []string  `json:"models"`
	SpendCap     *string   `json:"spendCap"`
}

func mintSession(t *testing.T, m *Main, key, body string) sessionToken {
	t.Helper()
	resp := post(t, m, "/api/v1/auth/session-token", key, body)
	raw := readAll(t, resp)
	var s sessionToken
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &s) != nil {
		t.Fatalf("mint %s: %d %s", body, resp.StatusCode, raw)
	}
	return s
}

// Session tokens: minted from an API key, used on the proxy routes with
// their subject on the journal, narrowed but never widened, unable to
// mint or manage keys, and dead once their parent key is revoked.
func TestSessionTokens(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes|meter.Scopes(meter.ScopeKeys))

	before := time.Now()
	s := mintSession(t, m, key, "")
	if !strings.HasPrefix(s.SessionToken, "pm_sess_") || len(s.SessionToken) != 57 ||
		s.ExpiresAt.Before(before.Add(15*time.Minute-time.Second)) || s.ExpiresAt.After(time.Now().Add(15*time.Minute)) ||
		fmt.Sprint(s.Scopes) != "[chat embeddings images audio models]" || s.SpendCap != nil {
		t.Fatalf("default session %+v, want a pm_sess_ token for 15 min with the key's scopes but keys", s)
	}
	resp := post(t, m, "/v1/chat/completions", s.SessionToken, helloChat)
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("chat with a session token: %d %s", resp.StatusCode, body)
	}
	entries := usageEntries(t, m, a.ID)
	if len(entries) != 1 || !strings.HasPrefix(entries[0].Subject, "session:") {
		t.Fatalf("usage entries %+v, want one with the session as subject", entries)
	}

	// A session token can neither mint tokens nor manage keys.
	mustError(t, post(t, m, "/api/v1/auth/session-token", s.SessionToken, ""), http.StatusForbidden, meter.ECodeForbidden)
	mustError(t, post(t, m, "/api/v1/api-keys", s.SessionToken, `{"name":"x"}`), http.StatusForbidden, meter.ECodeInsufficientScope)

	// Narrowed: scopes and models.
	narrow := mintSession(t, m, key, `{"scopes":["embeddings"],"models":["demo-embed"],"ttlSeconds":60}`)
	if fmt.Sprint(narrow.Scopes) != "[embeddings]" || fmt.Sprint(narrow.Models) != "[demo-embed]" ||
		narrow.ExpiresAt.After(time.Now().Add(time.Minute)) {
		t.Fatalf("narrow session %+v", narrow)
	}
	mustError(t, post(t, m, "/v1/chat/completions", narrow.SessionToken, helloChat), http.StatusForbidden, meter.ECodeInsufficientScope)
	resp = post(t, m, "/v1/embeddings", narrow.SessionToken, `{"model":"demo-embed","input":"hi"}`)
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("embeddings with the narrow session: %d %s", resp.StatusCode, body)
	}
	models := mintSession(t, m, key, `{"models":["demo-embed"]}`)
	mustError(t, post(t, m, "/v1/chat/completions", models.SessionToken, helloChat), http.StatusForbidden, meter.ECodeModelNotAllowed)

	// Never widened, and bad requests are refused with a reason.
	_, chatOnly := mustApp(t, m, "1", meter.Scopes(meter.ScopeChat))
	mustError(t, post(t, m, "/api/v1/auth/session-token", chatOnly, `{"scopes":["chat","embeddings"]}`), http.StatusForbidden, meter.ECodeInsufficientScope)
	for _, body := range []string{
		`{"scopes":["keys"]}`, `{"ttlSeconds":3601}`, `{"ttlSeconds":-1}`, `{"spendCap":"0"}`, `{"spendCap":"-1"}`,
		`{"spendCap":"lots"}`, `{"models":["a,b"]}`, `{"scopes":["teleport"]}`, `{"unknown":1}`, `[`,
	} {
		mustError(t, post(t, m, "/api/v1/auth/session-token", key, body), http.StatusBadRequest, meter.ECodeBadRequest)
	}
	// A forged or mistyped token is refused before any lookup.
	swap := byte('x')
	if s.SessionToken[20] == swap {
		swap = 'y'
	}
	forged := s.SessionToken[:20] + string(swap) + s.SessionToken[21:]
	mustError(t, post(t, m, "/v1/chat/completions", forged, helloChat), http.StatusUnauthorized, meter.ECodeInvalidToken)

	// Short-lived: a 1 s session expires.
	short := mintSession(t, m, key, `{"ttlSeconds":1}`)
	mustRefusedWithin(t, 3*time.Second, time.Now(), func() *http.Response {
		return post(t, m, "/v1/chat/completions", short.SessionToken, helloChat)
	}, meter.ECodeExpiredToken)

	// Revoking the parent key ends its sessions within a second.
	ids := keyIDs(t, m, a.ID)
	revoked := time.Now()
	if err := m.Keys.RevokeKey(t.Context(), ids[0], revoked); err != nil {
		t.Fatal(err)
	}
	mustRefusedWithin(t, time.Second, revoked, func() *http.Response {
		return post(t, m, "/v1/chat/completions", s.SessionToken, helloChat)
	}, meter.ECodeRevokedToken)
	mustVerify(t, m)
}

// Rotating the parent key (regenerating it) ends its sessions too.
func TestSessionTokens_DeadAfterParentRotation(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes|meter.Scopes(meter.ScopeKeys))
	s := mintSession(t, m, key, "")
	resp := post(t, m, fmt.Sprintf("/api/v1/api-keys/%d/regenerate", keyIDs(t, m, a.ID)[0]), key, "")
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("regenerate: %d %s", resp.StatusCode, body)
	}
	mustRefusedWithin(t, time.Second, time.Now(), func() *http.Response {
		return post(t, m, "/v1/chat/completions", s.SessionToken, helloChat)
	}, meter.ECodeRevokedToken)
}

// A session's spend cap holds under 100 concurrent requests: what its
// requests were charged never passes the cap, and the ones that would
// have are refused with spend_cap_exceeded.
func TestSessionTokens_SpendCapUnderConcurrency(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	a, key := mustApp(t, m, "10", meter.DefaultKeyScopes)
	// Each request's worst case is about 0.00008 (its prompt and 20 output
	// tokens), its actual cost 0.0000335; the cap fits a handful of either.
	const capped = "0.0005"
	s := mintSession(t, m, key, `{"spendCap":"`+capped+`"}`)
	if s.SpendCap == nil || *s.SpendCap != capped {
		t.Fatalf("spendCap=%v, want %s", s.SpendCap, capped)
	}
	body := strings.Replace(helloChat, `"model"`, `"max_tokens":20,"model"`, 1)

	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := post(t, m, "/v1/chat/completions", s.SessionToken, body)
			raw := readAll(t, resp)
			code := "ok"
			if resp.StatusCode != http.StatusOK {
				var e apiError
				json.Unmarshal(raw, &e)
				code = e.Error.Code
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes["ok"] == 0 || codes[meter.ECodeSpendCapExceeded] == 0 || codes["ok"]+codes[meter.ECodeSpendCapExceeded] != 100 {
		t.Fatalf("outcomes %v, want some served, the rest spend_cap_exceeded", codes)
	}
	var spent meter.Amount
	for _, e := range usageEntries(t, m, a.ID) {
		spent -= e.Amount
	}
	if want := amt(t, "0.0000335") * meter.Amount(codes["ok"]); spent != want || spent > amt(t, capped) {
		t.Fatalf("spent %s for %d requests, want %s and at most the cap %s", spent, codes["ok"], want, capped)
	}
	// Once the cap is reached, the session is refused while its key goes on.
	mustError(t, post(t, m, "/v1/chat/completions", s.SessionToken, helloChat), http.StatusForbidden, meter.ECodeSpendCapExceeded)
	resp := post(t, m, "/v1/chat/completions", key, helloChat)
	if raw := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("the parent key: %d %s", resp.StatusCode, raw)
	}
	waitSettled(t, m, a.ID)
	mustVerify(t, m)
}

// keyIDs lists an account's key ids, oldest first.
func keyIDs(t *testing.T, m *Main, accountID int64) []int64 {
	t.Helper()
	keys, err := m.Keys.FindKeys(t.Context(), accountID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	return ids
}
