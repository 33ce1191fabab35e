package main

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/demo"
	"github.com/paymeter/paymeter/internal/meter"
)

// demoUpstreamForTest is the built-in demo upstream (a Go encoding/json
// server, which matches keys case-insensitively, the last match winning)
// over real HTTP, counting the requests it was sent.
type demoUpstreamForTest struct {
	*httptest.Server
	requests atomic.Int64
}

func newDemoUpstream(tb testing.TB) *demoUpstreamForTest {
	tb.Helper()
	d := &demoUpstreamForTest{}
	h := &demo.Server{APIKey: upstreamKey}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.requests.Add(1)
		h.ServeHTTP(w, r)
	}))
	tb.Cleanup(d.Server.Close)
	return d
}

// demoConfig prices both demo models, demo-large ten times dearer.
func demoConfig(tb testing.TB, url string, maxOutput int64) *Config {
	cfg := testConfig(tb, url)
	cfg.Models = map[string]ModelConfig{
		"demo-small": {Input: amt(tb, "0.5"), Output: amt(tb, "1.5"), MaxOutputTokens: maxOutput},
		"demo-large": {Input: amt(tb, "5"), Output: amt(tb, "15"), MaxOutputTokens: maxOutput},
	}
	return cfg
}

const userHi = `"messages":[{"role":"user","content":"Say hello."}]`

// H5: a key that the upstream's decoder folds onto a priced field (case,
// Unicode simple folding, escapes), a duplicate key, or a field the proxy
// does not know is refused before anything is held or forwarded: what is
// priced is what the upstream serves.
func TestPricing_FoldedKeysRefused(t *testing.T) {
	up := newDemoUpstream(t)
	m := MustRunMain(t, demoConfig(t, up.URL+"/v1", 4096))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes|meter.Scopes(meter.ScopeKeys))
	small := mintSession(t, m, key, `{"models":["demo-small"]}`)

	for _, tt := range []struct {
		name, body, code, field string
	}{
		{"upper-case model and max_tokens", `{"model":"demo-small","MODEL":"demo-large","max_tokens":1,"MAX_TOKENS":2000,` + userHi + `}`,
			"ambiguous_field", "MODEL"},
		{"escaped upper-case key", `{"model":"demo-small","\u004dodel":"demo-large",` + userHi + `}`, "ambiguous_field", "Model"},
		{"kelvin sign", `{"model":"demo-small","max_tokens":1,"max_to\u212aens":2000,` + userHi + `}`, "ambiguous_field", "max_to\u212aens"},
		{"long s", `{"model":"demo-small","ſtream":true,` + userHi + `}`, "ambiguous_field", "ſtream"},
		{"folded stream_options", `{"model":"demo-small","stream":true,"Stream_Options":{"include_usage":false},` + userHi + `}`,
			"ambiguous_field", "Stream_Options"},
		{"escaped duplicate", `{"model":"demo-small","mod\u0065l":"demo-large",` + userHi + `}`, "ambiguous_field", "model"},
		{"folded content", `{"model":"demo-small","messages":[{"role":"user","content":"hi","Content":"` + strings.Repeat("x", 3000) + `"}]}`,
			"ambiguous_field", "messages[0].Content"},
		{"unknown field", `{"model":"demo-small","options":{"num_predict":100000},` + userHi + `}`, "unsupported_field", "options"},
		{"store", `{"model":"demo-small","store":true,` + userHi + `}`, "unsupported_field", "store"},
	} {
		for _, who := range []struct{ name, token string }{{"key", key}, {"session", small.SessionToken}} {
			t.Run(tt.name+"/"+who.name, func(t *testing.T) {
				e := mustError(t, post(t, m, "/v1/chat/completions", who.token, tt.body), http.StatusBadRequest, tt.code)
				if got := e.Error.Details["field"]; got != tt.field {
					t.Fatalf("details.field=%v, want %q", got, tt.field)
				}
			})
		}
	}
	if n := up.requests.Load(); n != 0 {
		t.Fatalf("upstream saw %d requests, want 0", n)
	}
	if acct := account(t, m, a.ID); acct.Balance != amt(t, "1") || acct.Held != 0 {
		t.Fatalf("balance=%s held=%s, want 1 and 0", acct.Balance, acct.Held)
	}
	mustVerify(t, m)
}

// H5: the hold is the upstream's bound. A request with no output limit, or
// a limit of 0 or null, is forwarded with the held cap written in, so the
// upstream (which would otherwise answer at its own length) stops there.
func TestPricing_HeldCapWrittenIntoBody(t *testing.T) {
	up := newDemoUpstream(t)
	// The demo answers 16 tokens when no limit is given; the cap is 5.
	m := MustRunMain(t, demoConfig(t, up.URL+"/v1", 5))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	for i, body := range []string{
		`{"model":"demo-small",` + userHi + `}`,
		`{"model":"demo-small","max_tokens":0,` + userHi + `}`,
		`{"model":"demo-small","max_tokens":null,"max_completion_tokens":0,` + userHi + `}`,
		`{"model":"demo-small","stream":true,` + userHi + `}`,
	} {
		resp := post(t, m, "/v1/chat/completions", key, body)
		if raw := readAll(t, resp); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status=%d body=%s, want 200", body, resp.StatusCode, raw)
		}
		entries := usageEntries(t, m, a.ID)
		if len(entries) != i+1 {
			t.Fatalf("%s: %d entries, want %d", body, len(entries), i+1)
		}
		if e := entries[0]; e.Estimated || e.Usage.OutputTokens != 5 {
			t.Fatalf("%s: entry %+v, want the upstream's own usage with 5 output tokens (the held cap)", body, e)
		}
	}
	// The larger of max_tokens and max_completion_tokens is held: the
	// demo serves the smaller, so the charge stays within the hold.
	resp := post(t, m, "/v1/chat/completions", key, `{"model":"demo-small","max_tokens":3,"max_completion_tokens":2,`+userHi+`}`)
	if raw := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("status=%d body=%s", resp.StatusCode, raw)
	}
	if e := usageEntries(t, m, a.ID)[0]; e.Usage.OutputTokens != 2 || e.Estimated {
		t.Fatalf("entry %+v, want the upstream's 2 output tokens", e)
	}
	mustVerify(t, m)
}

// H5: usage is always asked for on a stream: a client's folded or repeated
// include_usage:false (the demo's decoder takes the last, case-insensitively)
// cannot make the stream unmetered.
func TestPricing_StreamUsageForced(t *testing.T) {
	up := newDemoUpstream(t)
	m := MustRunMain(t, demoConfig(t, up.URL+"/v1", 4096))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	for i, opts := range []string{
		`{"include_usage":false}`,
		`{"include_usage":true,"Include_Usage":false}`,
		`{"include_usage":true,"include_usage":false}`,
	} {
		body := `{"model":"demo-small","stream":true,"max_tokens":7,"stream_options":` + opts + `,` + userHi + `}`
		resp := post(t, m, "/v1/chat/completions", key, body)
		raw := readAll(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status=%d body=%s", opts, resp.StatusCode, raw)
		}
		entries := usageEntries(t, m, a.ID)
		if len(entries) != i+1 || entries[0].Estimated || entries[0].Usage.OutputTokens != 7 {
			t.Fatalf("%s: entries %+v, want the upstream's usage (7 output tokens), not an estimate", opts, entries)
		}
	}
	mustVerify(t, m)
}

// H3: a content part is priced by the bound its model's config gives its
// kind; a kind without one, or an unknown kind, is refused, naming the part.
func TestPricing_ContentParts(t *testing.T) {
	up := newFixtureUpstream(t)
	cfg := testConfig(t, up.URL())
	cfg.Models["demo-vision"] = ModelConfig{Input: amt(t, "1.5"), Output: amt(t, "1.5"), MaxOutputTokens: 16, MaxImageTokens: 2000}
	m := MustRunMain(t, cfg)
	// 0.01 credits: 6,666 input tokens of demo-vision at 1.5/M. Two
	// images at 2,000 tokens each fit; six do not (by their JSON length
	// they would).
	a, key := mustApp(t, m, "0.01", meter.DefaultKeyScopes)

	image := `{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}`
	chat := func(model string, parts ...string) string {
		return `{"model":"` + model + `","max_tokens":4,"messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},` +
			strings.Join(parts, ",") + `]}]}`
	}
	t.Run("no bound configured", func(t *testing.T) {
		e := mustError(t, post(t, m, "/v1/chat/completions", key, chat("demo-small", image)), http.StatusBadRequest, "content_not_priced")
		if e.Error.Details["part"] != "messages[0].content[1]" || e.Error.Details["type"] != "image_url" {
			t.Fatalf("details=%v, want part messages[0].content[1] of type image_url", e.Error.Details)
		}
	})
	for _, tt := range []struct{ name, model, part, typ string }{
		{"audio", "demo-vision", `{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}`, "input_audio"},
		{"file", "demo-vision", `{"type":"file","file":{"file_id":"file-1"}}`, "file"},
		{"unknown kind", "demo-vision", `{"type":"input_video","video":{"url":"x"}}`, "input_video"},
		{"image hidden in a text part", "demo-small", `{"type":"text","text":"a","image_url":{"url":"https://example.com/b.png"}}`, "image_url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := mustError(t, post(t, m, "/v1/chat/completions", key, chat(tt.model, tt.part)), http.StatusBadRequest, "content_not_priced")
			if e.Error.Details["type"] != tt.typ {
				t.Fatalf("details=%v, want type %s", e.Error.Details, tt.typ)
			}
		})
	}
	t.Run("images held at their bound", func(t *testing.T) {
		six := strings.TrimSuffix(strings.Repeat(image+",", 6), ",")
		mustError(t, post(t, m, "/v1/chat/completions", key, chat("demo-vision", six)), http.StatusPaymentRequired, meter.ECodeInsufficientCredit)
		resp := post(t, m, "/v1/chat/completions", key, chat("demo-vision", image, image))
		if raw := readAll(t, resp); resp.StatusCode != http.StatusOK {
			t.Fatalf("two images: status=%d body=%s, want 200", resp.StatusCode, raw)
		}
	})
	if n := len(up.seen()); n != 1 {
		t.Fatalf("upstream saw %d requests, want 1", n)
	}
	if acct := account(t, m, a.ID); acct.Held != 0 {
		t.Fatalf("held=%s, want 0", acct.Held)
	}
	mustVerify(t, m)
}

// H3: a field that changes the price per token or bills outside tokens is
// refused; fields that only shape the output pass through.
func TestPricing_BillingFields(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	_, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	for _, tt := range []struct{ name, extra, field string }{
		{"priority tier", `"service_tier":"priority"`, "service_tier"},
		{"flex tier", `"service_tier":"flex"`, "service_tier"},
		{"audio output", `"modalities":["text","audio"]`, "modalities"},
		{"audio params", `"audio":{"voice":"alloy","format":"wav"}`, "audio"},
		{"prediction", `"prediction":{"type":"content","content":"` + strings.Repeat("x", 100) + `"}`, "prediction"},
		{"web search", `"web_search_options":{}`, "web_search_options"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"model":"demo-small",` + tt.extra + `,` + userHi + `}`
			e := mustError(t, post(t, m, "/v1/chat/completions", key, body), http.StatusBadRequest, "unsupported_field")
			if e.Error.Details["field"] != tt.field {
				t.Fatalf("details=%v, want field %s", e.Error.Details, tt.field)
			}
		})
	}
	if n := len(up.seen()); n != 0 {
		t.Fatalf("upstream saw %d requests, want 0", n)
	}
	shaping := `{"model":"demo-small","service_tier":"auto","modalities":["text"],"temperature":0.2,"top_p":1,"stop":["x"],` +
		`"seed":1,"logprobs":true,"top_logprobs":2,"user":"u","response_format":{"type":"text"},"reasoning_effort":"low",` +
		`"presence_penalty":0,"frequency_penalty":0,"logit_bias":{"1":0},"tool_choice":"none","parallel_tool_calls":false,` + userHi + `}`
	if resp := post(t, m, "/v1/chat/completions", key, shaping); resp.StatusCode != http.StatusOK {
		t.Fatalf("output-shaping fields: status=%d body=%s, want 200", resp.StatusCode, readAll(t, resp))
	} else {
		readAll(t, resp)
	}
}

// M5: a client that leaves mid-stream is charged the prompt's bound (the
// upstream bills the whole prompt, whatever was delivered), plus an
// estimate of the delivered output.
func TestPricing_ClientAbortChargesWholePrompt(t *testing.T) {
	up := newFixtureUpstream(t)
	up.Events, up.Delay = slowEvents(60), 20*time.Millisecond
	m := MustRunMain(t, testConfig(t, up.URL()))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	ctx, cancel := context.WithCancel(context.Background())
	prompt := strings.Repeat("x", 4000)
	body := `{"model":"demo-small","stream":true,"max_tokens":1000,"messages":[{"role":"user","content":"` + prompt + `"}]}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, m.URL()+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readEvents(t, bufio.NewReader(resp.Body), 5)
	cancel()
	resp.Body.Close()

	waitSettled(t, m, a.ID)
	entries := usageEntries(t, m, a.ID)
	if len(entries) != 1 || !entries[0].Estimated {
		t.Fatalf("entries=%+v, want one estimated entry", entries)
	}
	// The worst-case input bound: 4000 content bytes, the role's 4, the
	// per-message 8 and per-request 16 allowances.
	if got, want := entries[0].Usage.InputTokens, int64(4000+4+8+16); got != want {
		t.Fatalf("input tokens=%d, want the prompt's bound %d", got, want)
	}
	if out := entries[0].Usage.OutputTokens; out < 100 || out > 150 {
		t.Fatalf("output tokens=%d, want about what the upstream sent (120)", out)
	}
	mustVerify(t, m)
}
