package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Access logs are JSON lines with the request id, principal, status and
// cost, and never a secret: not the client's key beyond its first 12
// characters, not a bad key, not the upstream's key.
func TestAccessLog_NoSecrets(t *testing.T) {
	up := newFixtureUpstream(t)
	var logs syncBuffer
	m := NewMain(testConfig(t, up.URL()), slog.New(slog.NewJSONHandler(&logs, nil)))
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	resp := post(t, m, "/v1/chat/completions", key, helloChat)
	readAll(t, resp)
	rid := resp.Header.Get("X-Request-Id")
	bad := tamper(key)
	mustError(t, post(t, m, "/v1/chat/completions", bad, helloChat), 401, meter.ECodeInvalidAPIKey)
	http.DefaultClient.CloseIdleConnections()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	out := logs.String()
	for _, secret := range []string{key[12:], bad[12:], upstreamKey} {
		if strings.Contains(out, secret) {
			t.Fatalf("a secret reached the logs:\n%s", out)
		}
	}
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == "request" && rec["request_id"] == rid {
			found = true
			if rec["status"] != float64(200) || rec["principal"] != key[:12] || rec["cost"] != "0.0000335" || rec["auth"] != "api_key" {
				t.Fatalf("access log=%v, want status 200, principal %s, cost 0.0000335", rec, key[:12])
			}
		}
	}
	if !found {
		t.Fatalf("no access log line for %s:\n%s", rid, out)
	}
}

// An upstream 4xx (the upstream refused the request) is passed through as
// it is, and nothing is charged.
func TestProxy_UpstreamRefusalPassedThrough(t *testing.T) {
	up := newFixtureUpstream(t)
	up.Status = http.StatusBadRequest
	m := MustRunMain(t, testConfig(t, up.URL()))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	resp := post(t, m, "/v1/chat/completions", key, helloChat)
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusBadRequest || !bytes.Equal(body, fixture("error_500.json")) {
		t.Fatalf("status=%d body=%s, want the upstream's 400 as it is", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("X-Paymeter-Cost") != "" {
		t.Fatalf("headers: request id %q, cost %q; want a request id and no cost", resp.Header.Get("X-Request-Id"), resp.Header.Get("X-Paymeter-Cost"))
	}
	if acct := waitSettled(t, m, a.ID); acct.Balance != amt(t, "1") {
		t.Fatalf("balance=%s, want 1", acct.Balance)
	}
	mustVerify(t, m)
}
