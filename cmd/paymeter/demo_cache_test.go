package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// The demo upstream caches a prompt prefix it has seen and reports it as
// cached_tokens; paymeter charges those at cached_input, the rest of the
// prompt at input: a repeated long system prompt shows cache pricing end
// to end. The reasoning model's reasoning tokens are output.
func TestDemo_CachedAndReasoningTokensCharged(t *testing.T) {
	up := newDemoUpstream(t)
	cfg := testConfig(t, up.URL+"/v1")
	cached := amt(t, "0.25")
	cfg.Models = map[string]ModelConfig{
		"demo-small":    {Input: amt(t, "0.5"), CachedInput: &cached, Output: amt(t, "1.5"), MaxOutputTokens: 4096},
		"demo-reasoner": {Input: amt(t, "1.1"), Output: amt(t, "4.4"), MaxOutputTokens: 4096},
	}
	m := MustRunMain(t, cfg)
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	// 1160 bytes: 290 demo tokens, 293 with its message; the prompt is 302.
	system := strings.Repeat("You are a careful assistant. ", 40)
	chat := func(model, user string) string {
		return `{"model":"` + model + `","messages":[{"role":"system","content":"` + system + `"},{"role":"user","content":"` + user + `"}]}`
	}
	for i, tt := range []struct {
		name, body              string
		prompt, cached, reasons int
		want                    string
	}{
		// 302 × 0.5 + 16 × 1.5 per million.
		{"first", chat("demo-small", "Say hello."), 302, 0, 0, "0.000175"},
		// The system prompt's 293 tokens are cached in blocks of 64: 256.
		// (302 − 256) × 0.5 + 256 × 0.25 + 16 × 1.5 per million.
		{"same prefix", chat("demo-small", "Say goodbye."), 302, 256, 0, "0.000111"},
		// 7 × 1.1 + 16 × 4.4 per million: 8 of the 16 are reasoning.
		{"reasoning", `{"model":"demo-reasoner","messages":[{"role":"user","content":"Why?"}]}`, 7, 0, 8, "0.0000781"},
	} {
		resp := post(t, m, "/v1/chat/completions", key, tt.body)
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status=%d %s", tt.name, resp.StatusCode, body)
		}
		var ans struct {
			Usage struct {
				PromptTokens        int `json:"prompt_tokens"`
				CompletionTokens    int `json:"completion_tokens"`
				PromptTokensDetails struct {
					CachedTokens int `json:"cached_tokens"`
				} `json:"prompt_tokens_details"`
				CompletionTokensDetails struct {
					ReasoningTokens int `json:"reasoning_tokens"`
				} `json:"completion_tokens_details"`
			} `json:"usage"`
		}
		if err := json.Unmarshal(body, &ans); err != nil {
			t.Fatal(err)
		}
		if u := ans.Usage; u.PromptTokens != tt.prompt || u.CompletionTokens != 16 ||
			u.PromptTokensDetails.CachedTokens != tt.cached || u.CompletionTokensDetails.ReasoningTokens != tt.reasons {
			t.Fatalf("%s: usage %+v, want %d prompt (%d cached), 16 completion (%d reasoning)", tt.name, u, tt.prompt, tt.cached, tt.reasons)
		}
		entries := usageEntries(t, m, a.ID)
		if len(entries) != i+1 || entries[0].Amount != -amt(t, tt.want) || entries[0].Estimated {
			t.Fatalf("%s: journal %+v, want a charge of exactly %s", tt.name, entries[0], tt.want)
		}
		if u, want := entries[0].Usage, (meter.Usage{InputTokens: int64(tt.prompt - tt.cached), CachedInputTokens: int64(tt.cached),
			OutputTokens: 16, ReasoningTokens: int64(tt.reasons)}); u != want {
			t.Errorf("%s: journal usage %+v, want %+v", tt.name, u, want)
		}
		if got := resp.Header.Get("X-Paymeter-Cost"); got != tt.want {
			t.Errorf("%s: X-Paymeter-Cost=%q, want %s", tt.name, got, tt.want)
		}
	}
	mustVerify(t, m)
}
