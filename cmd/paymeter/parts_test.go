package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// cachedAnswer is a chat answer whose usage has cached and reasoning
// tokens: 2048 prompt tokens of which 1920 cached, 300 completion tokens
// of which 256 reasoning.
const cachedAnswer = `{"id":"chatcmpl-c","object":"chat.completion","model":"demo-cached","choices":[{"index":0,` +
	`"message":{"role":"assistant","content":"Forty-two."},"finish_reason":"stop"}],"usage":{"prompt_tokens":2048,` +
	`"completion_tokens":300,"total_tokens":2348,"prompt_tokens_details":{"cached_tokens":1920},` +
	`"completion_tokens_details":{"reasoning_tokens":256}}}`

// answering is an upstream that answers every request with body.
func answering(t *testing.T, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.Header.Get("Authorization") != "Bearer "+upstreamKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

func cachedConfig(t *testing.T, url string) *Config {
	cfg := testConfig(t, url)
	cached := amt(t, "0.275")
	cfg.Models["demo-cached"] = ModelConfig{Input: amt(t, "1.1"), CachedInput: &cached, Output: amt(t, "4.4"), MaxOutputTokens: 1000}
	return cfg
}

// Cached tokens are charged at their own rate and reasoning tokens as
// output; the journal records every part, and /api/v1/usage and
// `paymeter credits history` show them.
func TestJournal_UsageParts(t *testing.T) {
	cfg := cachedConfig(t, answering(t, cachedAnswer))
	m := MustRunMain(t, cfg)
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	resp := post(t, m, "/v1/chat/completions", key, strings.Replace(helloChat, "demo-small", "demo-cached", 1))
	body := string(readAll(t, resp))
	// 128 × 1100 + 1920 × 275 + 300 × 4400 nano-credits.
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Paymeter-Cost") != "0.0019888" || usageCost(t, body) != "0.0019888" {
		t.Fatalf("status=%d cost=%q body=%s, want 200 and 0.0019888 in both", resp.StatusCode, resp.Header.Get("X-Paymeter-Cost"), body)
	}
	want := meter.Usage{InputTokens: 128, CachedInputTokens: 1920, OutputTokens: 300, ReasoningTokens: 256}
	if e := usageEntries(t, m, a.ID); len(e) != 1 || e[0].Usage != want || e[0].Amount != -1_988_800 {
		t.Fatalf("entries=%+v, want one of %+v charging 1988800", e, want)
	}
	var page struct {
		Data []map[string]any `json:"data"`
	}
	getJSON(t, m, "/api/v1/usage", key, &page)
	u := page.Data[0]
	for field, n := range map[string]float64{"inputTokens": 128, "cachedInputTokens": 1920, "outputTokens": 300, "reasoningTokens": 256} {
		if u[field] != n {
			t.Fatalf("/api/v1/usage %s=%v, want %v; entry %v", field, u[field], n, u)
		}
	}
	for _, field := range []string{"cacheWriteTokens", "cacheWrite1hTokens", "images"} {
		if v, ok := u[field]; ok {
			t.Fatalf("/api/v1/usage %s=%v, want it left out (0)", field, v)
		}
	}
	out := mustCLI(t, "credits", "history", "--db", cfg.Database, "--account", strconv.FormatInt(a.ID, 10))
	if !strings.Contains(out, "128/300 (cached 1920, reasoning 256)") {
		t.Fatalf("credits history:\n%s\nwant the usage's parts", out)
	}
	mustVerify(t, m)
}
