package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// Input the upstream adds from its own store, named by a typeless item
// reference or a reasoning item's id, is refused input_not_bounded for a
// model without max_input_tokens (demo-small), as previous_response_id
// and {"type":"item_reference"} are, before anything is forwarded.
func TestResponses_StoredItemsByIDNotBounded(t *testing.T) {
	up := newDemoUpstream(t)
	m := MustRunMain(t, demoConfig(t, up.URL+"/v1", 4096))
	_, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	for _, tt := range []struct{ name, body string }{
		{"control: typed item_reference", `{"model":"demo-small","input":[{"type":"item_reference","id":"msg_1"}],"max_output_tokens":20}`},
		{"typeless item reference", `{"model":"demo-small","input":[{"id":"msg_1"}],"max_output_tokens":20}`},
		{"reasoning item by id", `{"model":"demo-small","input":[{"role":"user","content":"q"},{"type":"reasoning","id":"rs_1","summary":[]}],"max_output_tokens":20}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := up.requests.Load()
			resp := post(t, m, "/v1/responses", key, tt.body)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d (upstream saw %d new requests), want 400 input_not_bounded: %s",
					resp.StatusCode, up.requests.Load()-before, readAll(t, resp))
			}
			mustError(t, resp, http.StatusBadRequest, "input_not_bounded")
		})
	}
	if n := up.requests.Load(); n != 0 {
		t.Fatalf("upstream saw %d requests, want none", n)
	}
}

// An upstream that does what OpenAI does with {"id":"msg_…"} (prepends the
// stored item: here 200,000 tokens). The model has a context window, so
// the request is priced at it (400,000 tokens, 2 credits at 5 per
// million): an account holding 0.01 credits is refused, not served for
// less than the upstream bills.
func TestResponses_TypelessReferenceNotServedForLessThanBilled(t *testing.T) {
	var seen atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"resp_1","object":"response","status":"completed","model":"demo-large","output":[],` +
			`"usage":{"input_tokens":200000,"input_tokens_details":{"cached_tokens":0},"output_tokens":10,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":200010}}`))
	}))
	defer up.Close()
	cfg := demoConfig(t, up.URL+"/v1", 4096)
	large := cfg.Models["demo-large"]
	large.MaxInputTokens = 400000
	cfg.Models["demo-large"] = large
	m := MustRunMain(t, cfg)
	a, key := mustApp(t, m, "0.01", meter.DefaultKeyScopes)
	resp := post(t, m, "/v1/responses", key, `{"model":"demo-large","input":[{"id":"msg_0123456789"}],"max_output_tokens":16}`)
	if resp.StatusCode == http.StatusOK {
		readAll(t, resp)
		acct := waitSettled(t, m, a.ID)
		billed := m.Config.Prices()["demo-large"].Cost(meter.Usage{InputTokens: 200000, OutputTokens: 10})
		t.Fatalf("served (upstream saw %d requests): the upstream bills %s, the account paid %s and holds %s",
			seen.Load(), billed, amt(t, "0.01")-acct.Balance, acct.Balance)
	}
	mustError(t, resp, http.StatusPaymentRequired, "insufficient_credits")
	if acct := waitSettled(t, m, a.ID); seen.Load() != 0 || acct.Balance != amt(t, "0.01") {
		t.Fatalf("upstream saw %d requests, balance %s: want none and 0.01", seen.Load(), acct.Balance)
	}
	mustVerify(t, m)
}

// TestMessages_ThinkingStreamCutAtTimeLimitIsCharged, on /v1/responses. A
// reasoning model that is still reasoning (its reasoning item added, no
// summary, no text) when paymeter cuts the stream at
// limits.max_request_duration has billed the operator for everything it
// thought: the stream is charged the prompt's bound (the stream reports
// no input before it completes) and the whole output bound held.
func TestResponses_ReasoningStreamCutAtTimeLimitIsCharged(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"in_progress\",\"model\":\"demo-large\",\"output\":[],\"usage\":null}}\n\n"+
			"event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"sequence_number\":1,\"output_index\":0,\"item\":{\"id\":\"rs_1\",\"type\":\"reasoning\",\"summary\":[]}}\n\n")
		w.(http.Flusher).Flush()
		select { // reasoning, silently, past the time limit
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer up.Close()
	cfg := demoConfig(t, up.URL+"/v1", 4096)
	cfg.Limits.MaxRequestDuration = Duration(time.Second)
	m := MustRunMain(t, cfg)
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	resp := post(t, m, "/v1/responses", key, `{"model":"demo-large","input":"Think hard.","reasoning":{"effort":"high"},"max_output_tokens":1000,"stream":true}`)
	if body := string(readAll(t, resp)); !strings.Contains(body, "upstream_timeout") {
		t.Fatalf("stream %q, want an error event for the time limit", body)
	}
	waitSettled(t, m, a.ID)
	entries := usageEntries(t, m, a.ID)
	if len(entries) != 1 || entries[0].Usage.OutputTokens < 1000 {
		t.Fatalf("usage entries %+v: a stream cut mid-reasoning charged %+v, want the 1000 output tokens held", entries, entries[0].Usage)
	}
	// "Think hard." (11 bytes) + 8 for its item + 16 for the request.
	want := meter.Usage{InputTokens: 11 + 8 + 16, OutputTokens: 1000}
	cost := m.Config.Prices()["demo-large"].Cost(want)
	if !entries[0].Estimated || entries[0].Usage != want || -entries[0].Amount != cost || cost != amt(t, "0.015175") {
		t.Fatalf("usage entry %+v, want an estimate of %+v charged %s", entries[0], want, cost)
	}
	mustVerify(t, m)
}
