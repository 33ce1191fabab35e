package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/demo"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/upstream"
)

// responsesHello is a Responses API request to the demo: 3 + (3+3) + (3+3)
// input tokens, and 16 output tokens when nothing cuts it short.
const responsesHello = `{"model":"demo-small","instructions":"Be brief.","input":"Say hello."%s}`

func responsesBody(extra string) string { return fmt.Sprintf(responsesHello, extra) }

// responseUsage is the usage of a Response object, as a client reads it.
type responseUsage struct {
	InputTokens        int64 `json:"input_tokens"`
	InputTokensDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokens        int64 `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	PaymeterCost string `json:"paymeter_cost"`
}

func (u responseUsage) meter() meter.Usage {
	return meter.Usage{InputTokens: u.InputTokens - u.InputTokensDetails.CachedTokens, CachedInputTokens: u.InputTokensDetails.CachedTokens,
		OutputTokens: u.OutputTokens, ReasoningTokens: u.OutputTokensDetails.ReasoningTokens}
}

type responseObject struct {
	Status string         `json:"status"`
	Model  string         `json:"model"`
	Usage  *responseUsage `json:"usage"`
}

// mustCharged checks the account's one usage entry is exactly the priced
// cost of want, reported (not estimated), and returns that cost.
func mustCharged(t *testing.T, m *Main, accountID int64, model string, want meter.Usage) meter.Amount {
	t.Helper()
	waitSettled(t, m, accountID)
	entries := usageEntries(t, m, accountID)
	cost := m.Config.Prices()[model].Cost(want)
	if len(entries) != 1 || entries[0].Estimated || entries[0].Usage != want || -entries[0].Amount != cost {
		t.Fatalf("usage entries %+v, want one of %+v charged %s", entries, want, cost)
	}
	return cost
}

func TestResponses_PlainChargedExactly(t *testing.T) {
	up := newDemoUpstream(t)
	m := MustRunMain(t, demoConfig(t, up.URL+"/v1", 4096))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	resp := post(t, m, "/v1/responses", key, responsesBody(`,"max_output_tokens":20`))
	body := readAll(t, resp)
	var r responseObject
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &r) != nil || r.Usage == nil {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	want := meter.Usage{InputTokens: 15, OutputTokens: 16}
	if r.Status != "completed" || r.Usage.meter() != want {
		t.Fatalf("response %s, want completed with %+v", body, want)
	}
	cost := mustCharged(t, m, a.ID, "demo-small", want)
	// 15 at 0.5 and 16 at 1.5 per million.
	if cost != amt(t, "0.0000315") || resp.Header.Get("X-Paymeter-Cost") != cost.String() || r.Usage.PaymeterCost != cost.String() {
		t.Fatalf("charged %s, header %q, body paymeter_cost %q: want all 0.0000315",
			cost, resp.Header.Get("X-Paymeter-Cost"), r.Usage.PaymeterCost)
	}
	if got := account(t, m, a.ID).Balance; got != amt(t, "1")-cost {
		t.Fatalf("balance %s, want 1 - %s", got, cost)
	}
	mustVerify(t, m)
}

// With no max_output_tokens the hold is the model's cap, and the upstream
// is bound to it: paymeter writes max_output_tokens into the body.
func TestResponses_ModelCapWrittenAsMaxOutputTokens(t *testing.T) {
	up := newDemoUpstream(t)
	m := MustRunMain(t, demoConfig(t, up.URL+"/v1", 5))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	for _, limit := range []string{"", `,"max_output_tokens":0`, `,"max_output_tokens":null`} {
		resp := post(t, m, "/v1/responses", key, responsesBody(limit))
		body := readAll(t, resp)
		var r responseObject
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &r) != nil || r.Status != "incomplete" || r.Usage.OutputTokens != 5 {
			t.Fatalf("%q: status %d %s, want the demo cut at the model's 5 tokens", limit, resp.StatusCode, body)
		}
	}
	waitSettled(t, m, a.ID)
	if entries := usageEntries(t, m, a.ID); len(entries) != 3 || entries[0].Usage != (meter.Usage{InputTokens: 15, OutputTokens: 5}) {
		t.Fatalf("entries %+v, want three of 15 in, 5 out", entries)
	}
	mustVerify(t, m)
}

// sseEvent is one event of a Responses stream as a client reads it.
type sseEvent struct {
	name string
	Type string `json:"type"`
	// Delta is a delta event's text; Response the final event's response.
	Delta    string          `json:"delta"`
	Response *responseObject `json:"response"`
}

func parseSSE(t *testing.T, body string) []sseEvent {
	t.Helper()
	var out []sseEvent
	for _, raw := range strings.SplitAfter(body, "\n\n") {
		if raw == "" {
			continue
		}
		name, data, ok := strings.Cut(strings.TrimSuffix(raw, "\n\n"), "\ndata: ")
		var ev sseEvent
		if !ok || json.Unmarshal([]byte(data), &ev) != nil || name != "event: "+ev.Type {
			t.Fatalf("event %q is not an event line and one data line", raw)
		}
		ev.name = name
		out = append(out, ev)
	}
	return out
}

func TestResponses_StreamChargedExactly(t *testing.T) {
	up := newDemoUpstream(t)
	m := MustRunMain(t, demoConfig(t, up.URL+"/v1", 4096))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	resp := post(t, m, "/v1/responses", key, responsesBody(`,"stream":true,"max_output_tokens":12`))
	body := string(readAll(t, resp))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	events := parseSSE(t, body)
	last := events[len(events)-1]
	deltas := 0
	for _, ev := range events {
		if ev.Type == "response.output_text.delta" {
			deltas++
		}
	}
	want := meter.Usage{InputTokens: 15, OutputTokens: 12}
	if last.Type != "response.incomplete" || last.Response == nil || last.Response.Usage == nil || last.Response.Usage.meter() != want || deltas != 12 {
		t.Fatalf("last event %+v after %d deltas, want response.incomplete with %+v after 12", last, deltas, want)
	}
	cost := mustCharged(t, m, a.ID, "demo-small", want)
	if trailer := resp.Trailer.Get("X-Paymeter-Cost"); trailer != cost.String() || last.Response.Usage.PaymeterCost != cost.String() {
		t.Fatalf("trailer %q, paymeter_cost %q, charged %s: want all equal", trailer, last.Response.Usage.PaymeterCost, cost)
	}
	if strings.Contains(body, "[DONE]") || strings.Count(body, "paymeter_cost") != 1 {
		t.Fatalf("stream %q: want no [DONE] and the cost once", body[max(0, len(body)-300):])
	}
	mustVerify(t, m)
}

// hangUpResponses streams body to /v1/responses over a raw connection and
// closes it as soon as a line holding marker arrives.
func hangUpResponses(t *testing.T, m *Main, key, body, marker string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(m.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/responses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", key, len(body), body)
	br := bufio.NewReader(conn)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(line, marker) {
			return
		}
	}
}

// A client that leaves after the first word is charged the upstream's own
// usage: paymeter drains the rest of the stream for response.completed
// (docs/design.md §2).
func TestResponses_ClientGoneDrainedForUsage(t *testing.T) {
	d := &demo.Server{APIKey: upstreamKey, ChunkDelay: 5 * time.Millisecond}
	up := httptest.NewServer(d)
	t.Cleanup(up.Close)
	m := MustRunMain(t, demoConfig(t, up.URL+"/v1", 4096))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	hangUpResponses(t, m, key, responsesBody(`,"stream":true`), "response.output_text.delta")
	mustCharged(t, m, a.ID, "demo-small", meter.Usage{InputTokens: 15, OutputTokens: 16})
	mustVerify(t, m)
}

// responsesEvent is one event of a Responses stream, as an upstream sends it.
func responsesEvent(typ, fields string) string {
	return fmt.Sprintf("event: %s\ndata: {\"type\":%q%s}\n\n", typ, typ, fields)
}

// An upstream that never sends its final event: the client who left is
// charged the estimate of all the upstream sent (the drain reads it).
func TestResponses_ClientGoneWithoutUsageEstimated(t *testing.T) {
	const words = 400
	finished := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		fmt.Fprint(w, responsesEvent("response.created", `,"response":{"model":"demo-small","usage":null}`))
		fmt.Fprint(w, responsesEvent("response.output_text.delta", `,"delta":"Hi"`))
		fl.Flush()
		time.Sleep(50 * time.Millisecond)
		for range words {
			fmt.Fprint(w, responsesEvent("response.output_text.delta", `,"delta":" word"`))
		}
		fl.Flush()
		close(finished)
	}))
	t.Cleanup(up.Close)
	m := MustRunMain(t, demoConfig(t, up.URL+"/v1", 4096))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	body := responsesBody(`,"stream":true,"max_output_tokens":1000`)
	hangUpResponses(t, m, key, body, `"Hi"`)
	<-finished
	waitSettled(t, m, a.ID)
	info, err := upstream.InspectRequest([]byte(body), upstream.APIResponses)
	if err != nil {
		t.Fatal(err)
	}
	price := m.Config.Prices()["demo-small"]
	want := upstream.EstimateUsage(info, price, 2+words*5)
	entries := usageEntries(t, m, a.ID)
	if len(entries) != 1 || !entries[0].Estimated || entries[0].Usage != want || -entries[0].Amount != price.Cost(want) {
		t.Fatalf("entries %+v, want one estimate of %+v charged %s", entries, want, price.Cost(want))
	}
	mustVerify(t, m)
}

// An upstream that fails, whole or before its stream delivers anything,
// charges nothing, and the hold is released.
func TestResponses_UpstreamFailureChargesNothing(t *testing.T) {
	failing := newFixtureUpstream(t)
	failing.Status = http.StatusInternalServerError
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, responsesEvent("response.created", `,"response":{"model":"demo-small","usage":null}`))
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // mid-chunk: the stream breaks off
		}
	}))
	t.Cleanup(broken.Close)

	for _, tt := range []struct {
		name, url, body string
		status          int
	}{
		{"500", failing.URL(), responsesBody(""), http.StatusBadGateway},
		{"500 to a stream", failing.URL(), responsesBody(`,"stream":true`), http.StatusBadGateway},
		{"stream broken before any text", broken.URL + "/v1", responsesBody(`,"stream":true`), http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := MustRunMain(t, demoConfig(t, tt.url, 4096))
			a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
			resp := post(t, m, "/v1/responses", key, tt.body)
			body := string(readAll(t, resp))
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status == http.StatusOK && !strings.Contains(body, `"code":"upstream_error"`) {
				t.Fatalf("stream %q does not tell the client it broke off", body)
			}
			acct := waitSettled(t, m, a.ID)
			if entries := usageEntries(t, m, a.ID); len(entries) != 0 || acct.Balance != amt(t, "1") {
				t.Fatalf("entries %+v, balance %s: want nothing charged", entries, acct.Balance)
			}
			mustVerify(t, m)
		})
	}
}

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
