package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

const helloChat = `{"model":"demo-small","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello."}]}`

// A metered chat completion end to end: forwarded with the upstream's key
// and none of the client's, answered with the upstream's body, charged
// exactly the usage at the model's price, hold released.
func TestProxy_ChatCompletionCharged(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	resp := post(t, m, "/v1/chat/completions", key, helloChat)
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status=%d body=%s, want 200", resp.StatusCode, body)
	}
	if want := withCost(fixture("chat.json"), "0.0000335"); string(body) != want {
		t.Fatalf("body=%s, want the upstream's reply with the cost in its usage, %s", body, want)
	}
	// usage 19 in, 16 out at 0.5 and 1.5 per million: 9500 + 24000 nano-credits.
	if got, want := resp.Header.Get("X-Paymeter-Cost"), "0.0000335"; got != want {
		t.Fatalf("X-Paymeter-Cost=%q, want %q", got, want)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Fatal("no X-Request-Id")
	}
	acct := account(t, m, a.ID)
	if got, want := acct.Balance, amt(t, "1")-amt(t, "0.0000335"); got != want || acct.Held != 0 {
		t.Fatalf("balance=%s held=%s, want %s and 0", got, acct.Held, want)
	}
	entries := usageEntries(t, m, a.ID)
	if len(entries) != 1 {
		t.Fatalf("usage entries=%d, want 1", len(entries))
	}
	if e := entries[0]; e.Amount != -amt(t, "0.0000335") || e.Model != "demo-small" || e.Usage != (meter.Usage{InputTokens: 19, OutputTokens: 16}) ||
		e.Estimated || e.RequestID != resp.Header.Get("X-Request-Id") {
		t.Fatalf("entry=%+v, want -0.0000335 for demo-small 19/16 with the request id", e)
	}

	seen := up.seen()
	if len(seen) != 1 {
		t.Fatalf("upstream saw %d requests, want 1", len(seen))
	}
	if got := seen[0].Header.Get("Authorization"); got != "Bearer "+upstreamKey {
		t.Fatalf("upstream Authorization=%q, want the upstream key", got)
	}
	for name, vals := range seen[0].Header {
		if strings.Contains(strings.Join(vals, " "), key[:20]) {
			t.Fatalf("client key leaked to the upstream in %s", name)
		}
	}
	// The request named no output limit: the held cap is written in, so
	// that the upstream's bound is the one held.
	if want := strings.TrimSuffix(helloChat, "}") + `,"max_completion_tokens":4096}`; string(seen[0].Body) != want {
		t.Fatalf("upstream body=%s, want the client's body with the held cap, %s", seen[0].Body, want)
	}
	mustVerify(t, m)
}

func TestProxy_OtherRoutes(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	for _, tt := range []struct {
		name, path, body, fixture, cost string
	}{
		{"completions", "/v1/completions", `{"model":"demo-small","prompt":"Say hello.","max_tokens":8}`, "completions.json", "0.0000135"},
		{"embeddings", "/v1/embeddings", `{"model":"demo-embed","input":["Say hello.","Say goodbye."]}`, "embeddings.json", "0.0000006"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := post(t, m, tt.path, key, tt.body)
			body := readAll(t, resp)
			if resp.StatusCode != http.StatusOK || string(body) != withCost(fixture(tt.fixture), tt.cost) {
				t.Fatalf("status=%d body=%s, want 200 and %s", resp.StatusCode, body, tt.fixture)
			}
			if got := resp.Header.Get("X-Paymeter-Cost"); got != tt.cost {
				t.Fatalf("X-Paymeter-Cost=%q, want %q", got, tt.cost)
			}
		})
	}
	t.Run("models", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, m.URL()+"/v1/models", nil)
		req.Header.Set("X-API-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		// Answered from the price table (TestModels_FromPriceTable), not forwarded.
		if body := readAll(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"id":"demo-small"`) {
			t.Fatalf("status=%d body=%s, want 200 and the priced models", resp.StatusCode, body)
		}
	})
	if got, want := account(t, m, a.ID).Balance, amt(t, "1")-amt(t, "0.0000141"); got != want {
		t.Fatalf("balance=%s, want %s (models are free)", got, want)
	}
	mustVerify(t, m)
}

// Every refusal answers in the one error shape with its stable code, and
// charges nothing.
func TestProxy_Errors(t *testing.T) {
	up := newFixtureUpstream(t)
	cfg := testConfig(t, up.URL())
	cfg.Limits.MaxBodyBytes = 4096
	m := MustRunMain(t, cfg)
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	_, embedOnly := mustApp(t, m, "1", meter.Scopes(meter.ScopeEmbeddings))
	tampered := tamper(key)

	for _, tt := range []struct {
		name, method, path, key, body string
		status                        int
		code                          string
	}{
		{"no credentials", "POST", "/v1/chat/completions", "", helloChat, 401, meter.ECodeMissingCredentials},
		{"bad checksum", "POST", "/v1/chat/completions", tampered, helloChat, 401, meter.ECodeInvalidAPIKey},
		{"not a key", "POST", "/v1/chat/completions", "sk-something", helloChat, 401, meter.ECodeInvalidAPIKey},
		{"unknown model", "POST", "/v1/chat/completions", key, `{"model":"gpt-9","messages":[]}`, 400, meter.ECodeModelNotPriced},
		{"invalid json", "POST", "/v1/chat/completions", key, `{"model":`, 400, meter.ECodeBadRequest},
		{"negative max_tokens", "POST", "/v1/chat/completions", key, `{"model":"demo-small","max_tokens":-1,"messages":[]}`, 400, meter.ECodeBadRequest},
		{"scope", "POST", "/v1/chat/completions", embedOnly, helloChat, 403, meter.ECodeInsufficientScope},
		{"too large", "POST", "/v1/chat/completions", key, `{"model":"demo-small","messages":[{"role":"user","content":"` + strings.Repeat("x", 5000) + `"}]}`, 413, meter.ECodePayloadTooLarge},
		{"no route", "GET", "/v1/nothing", key, "", 404, meter.ECodeNotFound},
		{"no route outside v1", "GET", "/nothing", "", "", 404, meter.ECodeNotFound},
		{"wrong method", "GET", "/v1/chat/completions", key, "", 405, meter.ECodeMethodNotAllowed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, m.URL()+tt.path, strings.NewReader(tt.body))
			if tt.key != "" {
				req.Header.Set("Authorization", "Bearer "+tt.key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			mustError(t, resp, tt.status, tt.code)
		})
	}
	t.Run("headers too large", func(t *testing.T) {
		req, _ := http.NewRequest("GET", m.URL()+"/healthz", nil)
		req.Header.Set("X-Big", strings.Repeat("h", 16<<10))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || !strings.Contains(string(body), `"code":"headers_too_large"`) {
			t.Fatalf("status=%d body=%s, want 431 headers_too_large", resp.StatusCode, body)
		}
	})
	if got := account(t, m, a.ID); got.Balance != amt(t, "1") || got.Held != 0 {
		t.Fatalf("balance=%s held=%s, want 1 and 0: refusals are free", got.Balance, got.Held)
	}
	if n := len(up.seen()); n != 0 {
		t.Fatalf("upstream saw %d requests, want 0", n)
	}
	mustVerify(t, m)
}

// tamper changes one character of a key's random part, so that its
// checksum no longer matches.
func tamper(key string) string {
	c := byte('A')
	if key[20] == c {
		c = 'B'
	}
	return key[:20] + string(c) + key[21:]
}

// A client X-Request-Id is kept when it is plain, replaced when it is not.
func TestProxy_RequestID(t *testing.T) {
	m := MustRunMain(t, testConfig(t, newFixtureUpstream(t).URL()))
	for _, tt := range []struct{ sent, want string }{
		{"trace-123.abc", "trace-123.abc"},
		{"bad id with spaces", ""},
	} {
		req, _ := http.NewRequest("GET", m.URL()+"/healthz", nil)
		req.Header.Set("X-Request-Id", tt.sent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		got := resp.Header.Get("X-Request-Id")
		if tt.want != "" && got != tt.want || tt.want == "" && (got == "" || got == tt.sent) {
			t.Fatalf("sent %q, got X-Request-Id %q", tt.sent, got)
		}
	}
}
