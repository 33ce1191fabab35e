package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// previous_response_id (or conversation) adds input paymeter cannot see:
// refused for a model without a context window, held at the whole window
// for one with it, and charged what the upstream reports.
func TestResponses_HiddenInputBoundedByContextWindow(t *testing.T) {
	up := newDemoUpstream(t)
	cfg := demoConfig(t, up.URL+"/v1", 4096)
	large := cfg.Models["demo-large"]
	large.MaxInputTokens = 100000 // 0.5 credits at 5 per million
	cfg.Models["demo-large"] = large
	m := MustRunMain(t, cfg)
	_, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	_, poorKey := mustApp(t, m, "0.4", meter.DefaultKeyScopes)

	for _, state := range []string{`,"previous_response_id":"resp_1"`, `,"conversation":{"id":"conv_1"}`} {
		body := responsesBody(state + `,"max_output_tokens":20`)
		e := mustError(t, post(t, m, "/v1/responses", key, body), http.StatusBadRequest, "input_not_bounded")
		if e.Error.Details["model"] != "demo-small" {
			t.Fatalf("details %v, want the model named", e.Error.Details)
		}
		large := strings.Replace(body, "demo-small", "demo-large", 1)
		mustError(t, post(t, m, "/v1/responses", poorKey, large), http.StatusPaymentRequired, "insufficient_credits")
		// Without the hidden input the same request is affordable.
		if resp := post(t, m, "/v1/responses", poorKey, strings.Replace(large, state, "", 1)); resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, readAll(t, resp))
		} else {
			readAll(t, resp)
		}
	}
	if n := up.requests.Load(); n != 2 {
		t.Fatalf("upstream saw %d requests, want only the 2 affordable ones", n)
	}

	a, richKey := mustApp(t, m, "1", meter.DefaultKeyScopes)
	body := strings.Replace(responsesBody(`,"previous_response_id":"resp_1","max_output_tokens":20`), "demo-small", "demo-large", 1)
	resp := post(t, m, "/v1/responses", richKey, body)
	var r responseObject
	if b := readAll(t, resp); resp.StatusCode != http.StatusOK || json.Unmarshal(b, &r) != nil {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	cost := mustCharged(t, m, a.ID, "demo-large", meter.Usage{InputTokens: 15, OutputTokens: 16})
	if r.Usage.PaymeterCost != cost.String() {
		t.Fatalf("paymeter_cost %q, charged %s", r.Usage.PaymeterCost, cost)
	}
	mustVerify(t, m)
}

// What bills outside the priced tokens, or could be read otherwise than
// priced, is refused before anything is held or forwarded.
func TestResponses_RefusedBeforeForwarding(t *testing.T) {
	up := newDemoUpstream(t)
	m := MustRunMain(t, demoConfig(t, up.URL+"/v1", 4096))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	for _, tt := range []struct{ name, extra, code, field string }{
		{"background", `,"background":true`, "unsupported_field", "background"},
		{"web search", `,"tools":[{"type":"web_search"}]`, "unsupported_field", "tools[0]"},
		{"stored prompt", `,"prompt":{"id":"pmpt_1"}`, "unsupported_field", "prompt"},
		{"priority tier", `,"service_tier":"priority"`, "unsupported_field", "service_tier"},
		{"folded limit", `,"max_output_tokens":16,"Max_Output_Tokens":100000`, "ambiguous_field", "Max_Output_Tokens"},
		{"duplicate model", `,"model":"demo-large"`, "ambiguous_field", "model"},
		{"chat's max_tokens", `,"max_tokens":16`, "unsupported_field", "max_tokens"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := mustError(t, post(t, m, "/v1/responses", key, responsesBody(tt.extra)), http.StatusBadRequest, tt.code)
			if e.Error.Details["field"] != tt.field {
				t.Fatalf("details %v, want field %q", e.Error.Details, tt.field)
			}
		})
	}
	if n := up.requests.Load(); n != 0 {
		t.Fatalf("upstream saw %d requests, want none", n)
	}
	if acct := account(t, m, a.ID); acct.Balance != amt(t, "1") || acct.Held != 0 {
		t.Fatalf("account %+v, want untouched", acct)
	}
}

// The recorded Responses streams of internal/upstream/testdata, replayed
// by an upstream, are charged through paymeter exactly as priced: usage
// from the final event (completed, incomplete, failed; LF or CRLF), or the
// estimate when an error event ends the stream; the final event reaches
// the client with its framing and the cost in its usage.
func TestResponses_RecordedStreamsCharged(t *testing.T) {
	for _, tt := range []struct {
		fixture, model string
		usage          meter.Usage
		cost           string
	}{
		{"responses_stream.sse", "gpt-5-mini", meter.Usage{InputTokens: 166, CachedInputTokens: 1152, OutputTokens: 212, ReasoningTokens: 192}, "0.0004943"},
		{"responses_stream_crlf.sse", "gpt-5-mini", meter.Usage{InputTokens: 166, CachedInputTokens: 1152, OutputTokens: 212, ReasoningTokens: 192}, "0.0004943"},
		{"responses_stream_incomplete.sse", "gpt-4.1", meter.Usage{InputTokens: 87, OutputTokens: 16}, "0.000302"},
		{"responses_stream_failed.sse", "gpt-4o-mini", meter.Usage{InputTokens: 8, CachedInputTokens: 32, OutputTokens: 9}, "0.000009"},
		// No usage: 13 prompt bytes + 8 + 16 input tokens, 11 delivered bytes as 3 output tokens.
		{"responses_stream_error.sse", "gpt-4o-mini", meter.Usage{InputTokens: 37, OutputTokens: 3}, "0.00000735"},
	} {
		t.Run(tt.fixture, func(t *testing.T) {
			recorded := string(mustReadFile(t, "../../internal/upstream/testdata/"+tt.fixture))
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				fmt.Fprint(w, recorded)
			}))
			t.Cleanup(up.Close)
			cfg := testConfig(t, up.URL+"/v1")
			cached := func(s string) *meter.Amount { a := amt(t, s); return &a }
			cfg.Models = map[string]ModelConfig{
				"gpt-5-mini":  {Input: amt(t, "0.25"), CachedInput: cached("0.025"), Output: amt(t, "2"), MaxOutputTokens: 4096},
				"gpt-4.1":     {Input: amt(t, "2"), CachedInput: cached("0.5"), Output: amt(t, "8"), MaxOutputTokens: 4096},
				"gpt-4o-mini": {Input: amt(t, "0.15"), CachedInput: cached("0.075"), Output: amt(t, "0.6"), MaxOutputTokens: 4096},
			}
			m := MustRunMain(t, cfg)
			a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
			resp := post(t, m, "/v1/responses", key, `{"model":"`+tt.model+`","input":"Tell a story.","stream":true}`)
			body := string(readAll(t, resp))
			waitSettled(t, m, a.ID)
			entries := usageEntries(t, m, a.ID)
			estimated := strings.Contains(tt.fixture, "error")
			if len(entries) != 1 || entries[0].Usage != tt.usage || entries[0].Estimated != estimated || -entries[0].Amount != amt(t, tt.cost) {
				t.Fatalf("entries %+v, want one of %+v (estimated %t) charged %s", entries, tt.usage, estimated, tt.cost)
			}
			if got := resp.Trailer.Get("X-Paymeter-Cost"); got != tt.cost {
				t.Fatalf("trailer %q, want %s", got, tt.cost)
			}
			if estimated {
				if body != recorded {
					t.Fatalf("stream changed on the way:\n%q", body)
				}
				return
			}
			want := recorded
			i := strings.LastIndex(want, `"total_tokens":`)
			j := i + strings.IndexByte(want[i:], '}')
			want = want[:j] + `,"paymeter_cost":"` + tt.cost + `"` + want[j:]
			if body != want {
				t.Fatalf("client got\n%q\nwant the recorded stream with the cost in the final usage", body[max(0, len(body)-400):])
			}
		})
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A model bought from an Anthropic upstream is not served on the
// Responses route: paymeter does not translate (unsupported_api).
func TestResponses_AnthropicModelRefused(t *testing.T) {
	up := newDemoUpstream(t)
	cfg := demoConfig(t, up.URL+"/v1", 4096)
	cfg.Upstreams = map[string]NamedUpstream{"anthropic": {URL: up.URL + "/v1", APIKey: upstreamKey, API: "anthropic"}}
	write := amt(t, "3.75")
	cfg.Models["claude"] = ModelConfig{Upstream: "anthropic", Input: amt(t, "3"), Output: amt(t, "15"), CacheWrite: &write, MaxOutputTokens: 4096}
	m := MustRunMain(t, cfg)
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	e := mustError(t, post(t, m, "/v1/responses", key, `{"model":"claude","input":"Hi."}`), http.StatusBadRequest, "unsupported_api")
	if e.Error.Details["model"] != "claude" {
		t.Fatalf("details %v, want the model named", e.Error.Details)
	}
	if n := up.requests.Load(); n != 0 || account(t, m, a.ID).Held != 0 {
		t.Fatalf("upstream saw %d requests, want none and nothing held", n)
	}
}

// The demo's prompt cache and reasoning model on the Responses API: a
// repeated long instructions prefix is reported as cached_tokens and
// charged at cached_input, the reasoning model's reasoning tokens as
// output; whole and streamed alike.
func TestResponses_DemoCachedAndReasoningTokensCharged(t *testing.T) {
	up := newDemoUpstream(t)
	cfg := testConfig(t, up.URL+"/v1")
	cached := amt(t, "0.25")
	cfg.Models = map[string]ModelConfig{
		"demo-small":    {Input: amt(t, "0.5"), CachedInput: &cached, Output: amt(t, "1.5"), MaxOutputTokens: 4096},
		"demo-reasoner": {Input: amt(t, "1.1"), Output: amt(t, "4.4"), MaxOutputTokens: 4096},
	}
	m := MustRunMain(t, cfg)
	// 1160 bytes: 290 demo tokens, 293 as a message; the prompt is 302.
	instructions := strings.Repeat("You are a careful assistant. ", 40)
	for _, stream := range []bool{false, true} {
		a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
		extra := ""
		if stream {
			extra = `,"stream":true`
			instructions = strings.ReplaceAll(instructions, ".", "!") // a prefix of its own, as long
		}
		for i, tt := range []struct {
			name, body string
			usage      meter.Usage
			cost       string
		}{
			// 302 × 0.5 + 16 × 1.5 per million.
			{"first", `{"model":"demo-small","instructions":"` + instructions + `","input":"Say hello."` + extra + `}`,
				meter.Usage{InputTokens: 302, OutputTokens: 16}, "0.000175"},
			// The instructions' 293 tokens are cached in blocks of 64: 256.
			{"same prefix", `{"model":"demo-small","instructions":"` + instructions + `","input":"Say goodbye."` + extra + `}`,
				meter.Usage{InputTokens: 302 - 256, CachedInputTokens: 256, OutputTokens: 16}, "0.000111"},
			// 7 × 1.1 + 16 × 4.4 per million: 8 of the 16 are reasoning.
			{"reasoning", `{"model":"demo-reasoner","input":"Why?"` + extra + `}`,
				meter.Usage{InputTokens: 7, OutputTokens: 16, ReasoningTokens: 8}, "0.0000781"},
		} {
			resp := post(t, m, "/v1/responses", key, tt.body)
			body := string(readAll(t, resp))
			var r responseObject
			if stream {
				events := parseSSE(t, body)
				r = *events[len(events)-1].Response
			} else if err := json.Unmarshal([]byte(body), &r); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || r.Usage == nil || r.Usage.meter() != tt.usage || r.Usage.PaymeterCost != tt.cost {
				t.Fatalf("%s (stream %t): status %d usage %+v, want %+v costing %s", tt.name, stream, resp.StatusCode, r.Usage, tt.usage, tt.cost)
			}
			waitSettled(t, m, a.ID)
			entries := usageEntries(t, m, a.ID)
			if len(entries) != i+1 || entries[0].Usage != tt.usage || -entries[0].Amount != amt(t, tt.cost) {
				t.Fatalf("%s (stream %t): entries %+v, want %+v charged %s", tt.name, stream, entries, tt.usage, tt.cost)
			}
		}
	}
	mustVerify(t, m)
}
