package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
)

// The key API over HTTP: create, list, use, regenerate (the old secret
// refused within a second), delete; no scope escalation; no other
// account's keys.
func TestKeyAPI_EndToEnd(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	_, admin := mustApp(t, m, "1", meter.DefaultKeyScopes|meter.Scopes(meter.ScopeKeys))
	_, plain := mustApp(t, m, "1", meter.DefaultKeyScopes)

	call := func(method, path, key, body string) *http.Response {
		req, _ := http.NewRequest(method, m.URL()+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		return do(t, req)
	}
	type created struct {
		Key    string `json:"key"`
		APIKey struct {
			ID        int64      `json:"id"`
			Name      string     `json:"name"`
			Prefix    string     `json:"prefix"`
			Scopes    []string   `json:"scopes"`
			RateLimit int        `json:"rateLimit"`
			ExpiresAt *time.Time `json:"expiresAt"`
		} `json:"apiKey"`
	}
	create := func(key, body string) created {
		t.Helper()
		resp := call(http.MethodPost, "/api/v1/api-keys", key, body)
		raw := readAll(t, resp)
		var c created
		if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &c) != nil {
			t.Fatalf("create: %d %s", resp.StatusCode, raw)
		}
		return c
	}

	// Creating needs the keys scope, and grants no scope the creator lacks.
	mustError(t, call(http.MethodGet, "/api/v1/api-keys", plain, ""), http.StatusForbidden, meter.ECodeInsufficientScope)
	mustError(t, call(http.MethodPost, "/api/v1/api-keys", admin, `{"name":"x","scopes":["chat","admin"]}`),
		http.StatusForbidden, meter.ECodeInsufficientScope)
	mustError(t, call(http.MethodPost, "/api/v1/api-keys", admin, `{"name":"x","expiresInDays":0}`), http.StatusBadRequest, meter.ECodeBadRequest)
	mustError(t, call(http.MethodPost, "/api/v1/api-keys", admin, `{"name":"x","scopes":["teleport"]}`), http.StatusBadRequest, meter.ECodeBadRequest)

	c := create(admin, `{"name":"browser backend","scopes":["chat"],"expiresInDays":30,"rateLimit":120}`)
	if !strings.HasPrefix(c.Key, "pm_live_") || c.APIKey.Prefix != c.Key[:12] || c.APIKey.Name != "browser backend" ||
		fmt.Sprint(c.APIKey.Scopes) != "[chat]" || c.APIKey.RateLimit != 120 || c.APIKey.ExpiresAt == nil ||
		c.APIKey.ExpiresAt.Before(time.Now().Add(29*24*time.Hour)) {
		t.Fatalf("created %+v", c)
	}
	if resp := post(t, m, "/v1/chat/completions", c.Key, helloChat); resp.StatusCode != http.StatusOK {
		t.Fatalf("new key: %d %s", resp.StatusCode, readAll(t, resp))
	} else {
		readAll(t, resp)
	}
	// Its scope is chat only: embeddings are refused.
	mustError(t, post(t, m, "/v1/embeddings", c.Key, `{"model":"demo-embed","input":"hi"}`), http.StatusForbidden, meter.ECodeInsufficientScope)

	// Listed, without the secret.
	resp := call(http.MethodGet, "/api/v1/api-keys", admin, "")
	raw := readAll(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), c.APIKey.Prefix) || strings.Contains(string(raw), c.Key) {
		t.Fatalf("list: %d %s", resp.StatusCode, raw)
	}

	// Regenerated: the new secret works, the old one is refused within 1 s.
	path := fmt.Sprintf("/api/v1/api-keys/%d", c.APIKey.ID)
	rotatedAt := time.Now()
	resp = call(http.MethodPost, path+"/regenerate", admin, "")
	raw = readAll(t, resp)
	var r created
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &r) != nil || r.Key == "" || r.Key == c.Key {
		t.Fatalf("regenerate: %d %s", resp.StatusCode, raw)
	}
	mustRefusedWithin(t, time.Second, rotatedAt, func() *http.Response {
		return post(t, m, "/v1/chat/completions", c.Key, helloChat)
	}, meter.ECodeRevokedAPIKey)
	if resp := post(t, m, "/v1/chat/completions", r.Key, helloChat); resp.StatusCode != http.StatusOK {
		t.Fatalf("regenerated key: %d %s", resp.StatusCode, readAll(t, resp))
	} else {
		readAll(t, resp)
	}

	// Another account cannot see or touch it.
	_, otherAdmin := mustApp(t, m, "1", meter.DefaultKeyScopes|meter.Scopes(meter.ScopeKeys))
	newPath := fmt.Sprintf("/api/v1/api-keys/%d", r.APIKey.ID)
	mustError(t, call(http.MethodDelete, newPath, otherAdmin, ""), http.StatusNotFound, meter.ECodeNotFound)
	mustError(t, call(http.MethodPost, newPath+"/regenerate", otherAdmin, ""), http.StatusNotFound, meter.ECodeNotFound)

	// Deleted: refused within 1 s.
	deletedAt := time.Now()
	if resp := call(http.MethodDelete, newPath, admin, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, readAll(t, resp))
	}
	mustRefusedWithin(t, time.Second, deletedAt, func() *http.Response {
		return post(t, m, "/v1/chat/completions", r.Key, helloChat)
	}, meter.ECodeRevokedAPIKey)
	mustVerify(t, m)
}

// keyJSONAnswer is a key as the key API answers it.
type keyJSONAnswer struct {
	Key    string `json:"key"`
	APIKey struct {
		ID        int64      `json:"id"`
		Scopes    []string   `json:"scopes"`
		RateLimit int        `json:"rateLimit"`
		ExpiresAt *time.Time `json:"expiresAt"`
	} `json:"apiKey"`
}

// keyCall sends a key API request with key as the bearer.
func keyCall(t *testing.T, m *Main, method, path, key, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, m.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	return do(t, req)
}

// mustKeyAnswer reads a key API answer of the given status.
func mustKeyAnswer(t *testing.T, resp *http.Response, status int) keyJSONAnswer {
	t.Helper()
	raw := readAll(t, resp)
	var k keyJSONAnswer
	if resp.StatusCode != status || json.Unmarshal(raw, &k) != nil || k.Key == "" {
		t.Fatalf("key API: %d %s, want %d with a key", resp.StatusCode, raw, status)
	}
	return k
}

// issueKey stores a key on the account directly, as the CLI would.
func issueKey(t *testing.T, m *Main, k *meter.Key) (int64, string) {
	t.Helper()
	secret, err := auth.IssueKey(t.Context(), m.Keys, k, false)
	if err != nil {
		t.Fatal(err)
	}
	return k.ID, secret
}

// A key with the keys scope cannot regenerate (and so obtain) or revoke a
// key of its account that has scopes it lacks; keys within its scopes it
// manages as before.
func TestKeyAPI_NoEscalationThroughOtherKeys(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	a, _ := mustApp(t, m, "1", meter.DefaultKeyScopes)
	_, manager := issueKey(t, m, &meter.Key{AccountID: a.ID, Name: "manager", Scopes: meter.Scopes(meter.ScopeChat | meter.ScopeKeys)})
	adminID, admin := issueKey(t, m, &meter.Key{AccountID: a.ID, Name: "admin", Scopes: meter.AllScopes})
	embedID, _ := issueKey(t, m, &meter.Key{AccountID: a.ID, Name: "embeddings", Scopes: meter.Scopes(meter.ScopeEmbeddings)})
	chatID, _ := issueKey(t, m, &meter.Key{AccountID: a.ID, Name: "chat", Scopes: meter.Scopes(meter.ScopeChat)})

	for _, id := range []int64{adminID, embedID} {
		path := fmt.Sprintf("/api/v1/api-keys/%d", id)
		e := mustError(t, keyCall(t, m, http.MethodPost, path+"/regenerate", manager, ""), http.StatusForbidden, meter.ECodeInsufficientScope)
		if e.Error.Details["lacking"] == nil {
			t.Fatalf("details %v, want the scopes the caller lacks", e.Error.Details)
		}
		mustError(t, keyCall(t, m, http.MethodDelete, path, manager, ""), http.StatusForbidden, meter.ECodeInsufficientScope)
	}
	// The broader key was neither rotated nor revoked: it still works.
	resp := post(t, m, "/v1/chat/completions", admin, helloChat)
	if raw := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("the admin key after the refused attempts: %d %s", resp.StatusCode, raw)
	}
	for _, id := range []int64{adminID, embedID} {
		if k, err := m.Keys.FindKeyByID(t.Context(), id); err != nil || k.RevokedAt != nil {
			t.Fatalf("key %d: %+v %v, want it untouched", id, k, err)
		}
	}

	// A key within the caller's scopes: regenerated, then deleted.
	path := fmt.Sprintf("/api/v1/api-keys/%d", chatID)
	r := mustKeyAnswer(t, keyCall(t, m, http.MethodPost, path+"/regenerate", manager, ""), http.StatusOK)
	if fmt.Sprint(r.APIKey.Scopes) != "[chat]" {
		t.Fatalf("regenerated %+v", r.APIKey)
	}
	if resp := keyCall(t, m, http.MethodDelete, fmt.Sprintf("/api/v1/api-keys/%d", r.APIKey.ID), manager, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, readAll(t, resp))
	}
	// The admin key, which holds every scope, manages them all.
	if resp := keyCall(t, m, http.MethodDelete, fmt.Sprintf("/api/v1/api-keys/%d", embedID), admin, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("admin delete: %d %s", resp.StatusCode, readAll(t, resp))
	}
}

// A new key's rate limit is at most its creator's effective limit (its
// own, else the api_key default): asked above it, refused; not asked, the
// creator's; a key regenerated by a slower caller gets the caller's.
// The limit is the one the proxy then applies.
func TestKeyAPI_RateLimitWithinCaller(t *testing.T) {
	up := newFixtureUpstream(t)
	cfg := testConfig(t, up.URL())
	cfg.RateLimits.APIKey = 600
	m := MustRunMain(t, cfg)
	a, _ := mustApp(t, m, "1", meter.DefaultKeyScopes)
	scopes := meter.Scopes(meter.ScopeChat | meter.ScopeKeys)
	_, slow := issueKey(t, m, &meter.Key{AccountID: a.ID, Name: "slow", Scopes: scopes, RateLimit: 100})
	_, plain := issueKey(t, m, &meter.Key{AccountID: a.ID, Name: "default", Scopes: scopes})

	for _, body := range []string{`{"name":"x","rateLimit":1000000}`, `{"name":"x","rateLimit":101}`} {
		e := mustError(t, keyCall(t, m, http.MethodPost, "/api/v1/api-keys", slow, body), http.StatusForbidden, meter.ECodeForbidden)
		if e.Error.Details["limit"] != float64(100) {
			t.Fatalf("details %v, want the caller's limit 100", e.Error.Details)
		}
	}
	mustError(t, keyCall(t, m, http.MethodPost, "/api/v1/api-keys", plain, `{"name":"x","rateLimit":601}`), http.StatusForbidden, meter.ECodeForbidden)
	if k := mustKeyAnswer(t, keyCall(t, m, http.MethodPost, "/api/v1/api-keys", plain, `{"name":"x","rateLimit":600}`), http.StatusCreated); k.APIKey.RateLimit != 600 {
		t.Fatalf("rateLimit=%d, want 600", k.APIKey.RateLimit)
	}
	if k := mustKeyAnswer(t, keyCall(t, m, http.MethodPost, "/api/v1/api-keys", slow, `{"name":"x","rateLimit":50}`), http.StatusCreated); k.APIKey.RateLimit != 50 {
		t.Fatalf("rateLimit=%d, want 50", k.APIKey.RateLimit)
	}
	// Not asked: the default (600) would pass the caller's 100.
	k := mustKeyAnswer(t, keyCall(t, m, http.MethodPost, "/api/v1/api-keys", slow, `{"name":"x","scopes":["chat"]}`), http.StatusCreated)
	if k.APIKey.RateLimit != 100 {
		t.Fatalf("rateLimit=%d, want the caller's 100", k.APIKey.RateLimit)
	}
	resp := post(t, m, "/v1/chat/completions", k.Key, helloChat)
	readAll(t, resp)
	if resp.StatusCode != http.StatusOK || mustRateHeaders(t, resp, 100) != 99 {
		t.Fatalf("the new key: status %d", resp.StatusCode)
	}
	// A fast key regenerated by the slow caller comes back at the caller's limit.
	fastID, _ := issueKey(t, m, &meter.Key{AccountID: a.ID, Name: "fast", Scopes: meter.Scopes(meter.ScopeChat), RateLimit: 100_000})
	r := mustKeyAnswer(t, keyCall(t, m, http.MethodPost, fmt.Sprintf("/api/v1/api-keys/%d/regenerate", fastID), slow, ""), http.StatusOK)
	if r.APIKey.RateLimit != 100 {
		t.Fatalf("regenerated rateLimit=%d, want the caller's 100", r.APIKey.RateLimit)
	}
	resp = post(t, m, "/v1/chat/completions", r.Key, helloChat)
	readAll(t, resp)
	if resp.StatusCode != http.StatusOK || mustRateHeaders(t, resp, 100) != 99 {
		t.Fatalf("the regenerated key: status %d", resp.StatusCode)
	}
}

// A key that expires cannot create or regenerate a key that outlives it,
// nor mint a session token that does.
func TestKeyAPI_ExpiringCallerCannotOutliveItself(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	a, _ := mustApp(t, m, "1", meter.DefaultKeyScopes)
	expires := time.Now().Add(5 * time.Minute).UTC().Truncate(time.Millisecond)
	_, caller := issueKey(t, m, &meter.Key{AccountID: a.ID, Name: "short-lived", Scopes: meter.DefaultKeyScopes | meter.Scopes(meter.ScopeKeys),
		ExpiresAt: &expires})
	notAfter := func(what string, at *time.Time) {
		t.Helper()
		if at == nil || at.After(expires) {
			t.Fatalf("%s expires at %v, want no later than its creator's %s", what, at, expires)
		}
	}

	e := mustError(t, keyCall(t, m, http.MethodPost, "/api/v1/api-keys", caller, `{"name":"x","expiresInDays":1}`), http.StatusForbidden, meter.ECodeForbidden)
	if e.Error.Details["expiresAt"] == nil {
		t.Fatalf("details %v, want the caller's expiry", e.Error.Details)
	}
	k := mustKeyAnswer(t, keyCall(t, m, http.MethodPost, "/api/v1/api-keys", caller, `{"name":"x","scopes":["chat"]}`), http.StatusCreated)
	notAfter("a created key", k.APIKey.ExpiresAt)
	stored, err := m.Keys.FindKeyByID(t.Context(), k.APIKey.ID)
	if err != nil {
		t.Fatal(err)
	}
	notAfter("the stored key", stored.ExpiresAt)

	foreverID, _ := issueKey(t, m, &meter.Key{AccountID: a.ID, Name: "forever", Scopes: meter.Scopes(meter.ScopeChat)})
	later := expires.Add(24 * time.Hour)
	laterID, _ := issueKey(t, m, &meter.Key{AccountID: a.ID, Name: "later", Scopes: meter.Scopes(meter.ScopeChat), ExpiresAt: &later})
	for _, id := range []int64{foreverID, laterID} {
		r := mustKeyAnswer(t, keyCall(t, m, http.MethodPost, fmt.Sprintf("/api/v1/api-keys/%d/regenerate", id), caller, ""), http.StatusOK)
		notAfter("a regenerated key", r.APIKey.ExpiresAt)
	}

	// Session tokens already end with their key: even asked for an hour.
	s := mintSession(t, m, caller, `{"ttlSeconds":3600}`)
	notAfter("a session token", &s.ExpiresAt)
	resp := post(t, m, "/v1/chat/completions", s.SessionToken, helloChat)
	if raw := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("the session: %d %s", resp.StatusCode, raw)
	}
}
