package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// boundConfig has a model with a context window of 1000 input tokens and
// an output cap of 100, and one whose cache writes cost more than input.
func boundConfig(t *testing.T, url string) *Config {
	cfg := testConfig(t, url)
	cfg.Models["demo-window"] = ModelConfig{Input: amt(t, "0.5"), Output: amt(t, "1.5"), MaxOutputTokens: 100, MaxInputTokens: 1000}
	write, write1h, cached := amt(t, "3.75"), amt(t, "6"), amt(t, "0.05")
	cfg.Models["demo-write"] = ModelConfig{Input: amt(t, "0.5"), Output: amt(t, "1.5"), MaxOutputTokens: 100,
		CachedInput: &cached, CacheWrite: &write}
	cfg.Models["demo-write-1h"] = ModelConfig{Input: amt(t, "0.5"), Output: amt(t, "1.5"), MaxOutputTokens: 100,
		CachedInput: &cached, CacheWrite: &write, CacheWrite1h: &write1h}
	return cfg
}

// hugePrompt is a chat request for model with 100 000 bytes of prompt.
func hugePrompt(model, extra string) string {
	return `{"model":"` + model + `",` + extra + `"messages":[{"role":"user","content":"` + strings.Repeat("a", 100_000) + `"}]}`
}

// heldAtStart is what a stream of body holds, read off X-Paymeter-Balance
// at its start (what is left with the hold taken) for an account of 1
// credit.
func heldAtStart(t *testing.T, m *Main, body string) meter.Amount {
	t.Helper()
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	resp := post(t, m, "/v1/chat/completions", key, body)
	balance := resp.Header.Get("X-Paymeter-Balance")
	readAll(t, resp)
	if resp.StatusCode != http.StatusOK || balance == "" {
		t.Fatalf("status=%d X-Paymeter-Balance=%q", resp.StatusCode, balance)
	}
	waitSettled(t, m, a.ID)
	return amt(t, "1") - amt(t, balance)
}

// With a context window, a huge prompt holds the window, not its bytes:
// exactly the price of 1000 input tokens and the output bound, so that a
// balance of just that is served and one nano-credit less is not.
func TestHolds_InputBoundByContextWindow(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, boundConfig(t, up.URL()))
	// 1000 × 500 + 50 × 1500 nano-credits.
	const hold = meter.Amount(575_000)
	body := hugePrompt("demo-window", `"max_tokens":50,`)

	_, short := mustApp(t, m, (hold - 1).Decimal().String(), meter.DefaultKeyScopes)
	e := mustError(t, post(t, m, "/v1/chat/completions", short, body), http.StatusPaymentRequired, meter.ECodeInsufficientCredit)
	if got := e.Error.Details["required"]; got != hold.String() {
		t.Fatalf("required=%v, want %s", got, hold)
	}
	if got, ok := affordable(t, e); !ok || got != 49 {
		t.Fatalf("affordable_max_tokens=%d (%t), want 49", got, ok)
	}
	a, enough := mustApp(t, m, hold.Decimal().String(), meter.DefaultKeyScopes)
	resp := post(t, m, "/v1/chat/completions", enough, body)
	if raw := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("a balance of exactly the window's hold: %d %s", resp.StatusCode, raw)
	}
	waitSettled(t, m, a.ID)

	stream := hugePrompt("demo-window", `"stream":true,"max_tokens":50,`)
	if got := heldAtStart(t, m, stream); got != hold {
		t.Fatalf("a stream held %d, want %d", got, hold)
	}
	// Without max_tokens the output bound is the model's cap: 1000 × 500 + 100 × 1500.
	if got, want := heldAtStart(t, m, hugePrompt("demo-window", `"stream":true,`)), meter.Amount(650_000); got != want {
		t.Fatalf("without max_tokens held %d, want %d", got, want)
	}
	// A model without a window holds every byte: 100 000 of content, 4 of
	// role, 8 per message and 16 per request, and demo-small's cap of 4096.
	if got, want := heldAtStart(t, m, hugePrompt("demo-small", `"stream":true,`)), meter.Amount(100_028*500+4096*1500); got != want {
		t.Fatalf("without a window held %d, want %d", got, want)
	}
	mustVerify(t, m)
}

// The hold prices input at the dearest input rate: a model whose cache
// writes cost more than input holds its input at the cache-write rate
// (the one-hour rate when that is dearer), since a prompt may turn out to
// be all cache writes.
func TestHolds_WorstInputRate(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, boundConfig(t, up.URL()))
	// helloChat's input bound is 80 tokens (TestAffordableMaxTokens); 10 output tokens at 1500.
	for _, tt := range []struct {
		model string
		want  meter.Amount
	}{
		{"demo-small", 80*500 + 10*1500},
		{"demo-write", 80*3750 + 10*1500},
		{"demo-write-1h", 80*6000 + 10*1500},
	} {
		t.Run(tt.model, func(t *testing.T) {
			body := strings.Replace(chatWith(10, `"stream":true,`), "demo-small", tt.model, 1)
			if got := worstCase(t, m, strings.Replace(chatWith(10, ""), "demo-small", tt.model, 1)); got != tt.want {
				t.Fatalf("required=%d, want %d", got, tt.want)
			}
			if got := heldAtStart(t, m, body); got != tt.want {
				t.Fatalf("held %d, want %d", got, tt.want)
			}
		})
	}
}
