package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
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
	hangUpOn(t, m, "/v1/responses", "Authorization: Bearer "+key, body, marker)
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
