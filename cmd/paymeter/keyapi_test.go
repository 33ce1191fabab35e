package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

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
