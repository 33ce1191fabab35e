package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
)

// Keys over real HTTP: both header forms, expiry, and revocation or
// rotation taking effect within one second despite the key cache.
func TestKeys_EndToEnd(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	ctx := context.Background()

	send := func(header, value string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, m.URL()+"/v1/chat/completions", strings.NewReader(helloChat))
		req.Header.Set(header, value)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, h := range []struct{ name, value string }{{"Authorization", "Bearer " + key}, {"X-API-Key", key}} {
		if resp := send(h.name, h.value); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status=%d body=%s, want 200", h.name, resp.StatusCode, readAll(t, resp))
		} else {
			readAll(t, resp)
		}
	}

	t.Run("expired", func(t *testing.T) {
		exp := time.Now().Add(300 * time.Millisecond)
		k := &meter.Key{AccountID: a.ID, Name: "short-lived", Scopes: meter.DefaultKeyScopes, ExpiresAt: &exp}
		secret, err := auth.IssueKey(ctx, m.Keys, k, false)
		if err != nil {
			t.Fatal(err)
		}
		if resp := send("X-API-Key", secret); resp.StatusCode != http.StatusOK {
			t.Fatalf("before expiry: status=%d, want 200", resp.StatusCode)
		} else {
			readAll(t, resp)
		}
		time.Sleep(time.Until(exp))
		mustError(t, send("X-API-Key", secret), 401, meter.ECodeExpiredAPIKey)
	})

	t.Run("revoked within a second", func(t *testing.T) {
		k := &meter.Key{AccountID: a.ID, Name: "to revoke", Scopes: meter.DefaultKeyScopes}
		secret, err := auth.IssueKey(ctx, m.Keys, k, false)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, send("X-API-Key", secret)) // now cached
		revokedAt := time.Now()
		if err := m.Keys.RevokeKey(ctx, k.ID, revokedAt); err != nil {
			t.Fatal(err)
		}
		mustRefusedWithin(t, time.Second, revokedAt, func() *http.Response { return send("X-API-Key", secret) }, meter.ECodeRevokedAPIKey)
	})

	t.Run("rotated within a second", func(t *testing.T) {
		k := &meter.Key{AccountID: a.ID, Name: "to rotate", Scopes: meter.DefaultKeyScopes}
		old, err := auth.IssueKey(ctx, m.Keys, k, false)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, send("X-API-Key", old))
		rotatedAt := time.Now()
		fresh, _, err := auth.RotateKey(ctx, m.Keys, k.ID, rotatedAt, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp := send("X-API-Key", fresh); resp.StatusCode != http.StatusOK {
			t.Fatalf("new secret: status=%d, want 200", resp.StatusCode)
		} else {
			readAll(t, resp)
		}
		mustRefusedWithin(t, time.Second, rotatedAt, func() *http.Response { return send("X-API-Key", old) }, meter.ECodeRevokedAPIKey)
	})
	mustVerify(t, m)
}

// mustRefusedWithin polls until a request is refused with code, and fails
// if that takes longer than limit after since.
func mustRefusedWithin(t *testing.T, limit time.Duration, since time.Time, send func() *http.Response, code string) {
	t.Helper()
	for {
		resp := send()
		if resp.StatusCode == http.StatusUnauthorized {
			mustError(t, resp, 401, code)
			if took := time.Since(since); took > limit {
				t.Fatalf("refused after %s, want within %s", took, limit)
			}
			return
		}
		readAll(t, resp)
		if time.Since(since) > limit {
			t.Fatalf("still accepted %s after revocation, want refused within %s", time.Since(since), limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
