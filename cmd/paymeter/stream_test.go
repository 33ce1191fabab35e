package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

const streamChat = `{"model":"demo-small","stream":true,"max_tokens":8,"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello."}]}`

// Usage comes from the stream's final chunk; the cost arrives as a trailer.
// A client that did not ask for usage does not get the usage chunk that
// paymeter asked the upstream for; one that asked does.
func TestStream_UsageFromFinalChunk(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	for _, tt := range []struct {
		name      string
		body      string
		wantUsage bool
	}{
		{"usage not asked", streamChat, false},
		{"usage asked", strings.Replace(streamChat, `"stream":true`, `"stream":true,"stream_options":{"include_usage":true}`, 1), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := post(t, m, "/v1/chat/completions", key, tt.body)
			body := string(readAll(t, resp))
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
				t.Fatalf("status=%d type=%q, want 200 text/event-stream", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if !strings.HasSuffix(body, "data: [DONE]\n\n") {
				t.Fatalf("stream does not end with [DONE]: %q", body[max(0, len(body)-80):])
			}
			if got := strings.Contains(body, `"prompt_tokens":19`); got != tt.wantUsage {
				t.Fatalf("usage chunk passed on=%v, want %v", got, tt.wantUsage)
			}
			// 19 in and 8 out at 0.5 and 1.5 per million.
			if got, want := resp.Trailer.Get("X-Paymeter-Cost"), "0.0000215"; got != want {
				t.Fatalf("trailer X-Paymeter-Cost=%q, want %q", got, want)
			}
		})
	}
	seen := up.seen()
	if len(seen) != 2 || !strings.Contains(string(seen[0].Body), `"include_usage":true`) {
		t.Fatalf("upstream did not get include_usage: %s", seen[0].Body)
	}
	entries := usageEntries(t, m, a.ID)
	if len(entries) != 2 || entries[0].Usage != (meter.Usage{InputTokens: 19, OutputTokens: 8}) || entries[0].Estimated {
		t.Fatalf("entries=%+v, want two exact 19/8 usage entries", entries)
	}
	if got, want := account(t, m, a.ID).Balance, amt(t, "1")-2*amt(t, "0.0000215"); got != want {
		t.Fatalf("balance=%s, want %s", got, want)
	}
	mustVerify(t, m)
}

// slowEvents is a long stream without usage: one word per event.
func slowEvents(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"word%03d \"}}]}\n\n", i))
	}
	return append(out, "data: [DONE]\n\n")
}

// A client that leaves mid-stream pays for what the upstream sent: the
// rest of the stream is drained for the upstream's usage, and this one
// sends none, so all of its text is estimated: above nothing, below the hold.
func TestStream_ClientAbortChargesWhatWasSent(t *testing.T) {
	up := newFixtureUpstream(t)
	up.Events, up.Delay = slowEvents(60), 20*time.Millisecond
	m := MustRunMain(t, testConfig(t, up.URL()))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	ctx, cancel := context.WithCancel(context.Background())
	body := `{"model":"demo-small","stream":true,"max_tokens":1000,"messages":[{"role":"user","content":"Tell me a long story."}]}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, m.URL()+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	events := readEvents(t, bufio.NewReader(resp.Body), 5)
	if !strings.Contains(events[4], "word004") {
		t.Fatalf("fifth event=%q, want word004", events[4])
	}
	cancel()
	resp.Body.Close()

	acct := waitSettled(t, m, a.ID)
	entries := usageEntries(t, m, a.ID)
	if len(entries) != 1 || !entries[0].Estimated {
		t.Fatalf("entries=%+v, want one estimated usage entry", entries)
	}
	charged := -entries[0].Amount
	// Worst case: 1000 output tokens at 1.5/M = 0.0015 plus the prompt.
	// Sent: 60 words of 8 bytes, about 120 output tokens.
	if charged <= 0 || charged >= amt(t, "0.0005") {
		t.Fatalf("charged %s, want more than 0 and far below the 0.0015 hold", charged)
	}
	if out := entries[0].Usage.OutputTokens; out < 100 || out > 150 {
		t.Fatalf("estimated output tokens=%d, want about what the upstream sent (120)", out)
	}
	if acct.Balance != amt(t, "1")-charged {
		t.Fatalf("balance=%s, want 1 - %s", acct.Balance, charged)
	}
	// The upstream request ended with the client's.
	if n := len(up.seen()); n != 1 {
		t.Fatalf("upstream saw %d requests, want 1", n)
	}
	mustVerify(t, m)
}

// An upstream that stops sending mid-stream is cut off after the idle
// timeout; the client gets an error event and pays for what it received.
func TestStream_UpstreamStallsMidStream(t *testing.T) {
	up := newFixtureUpstream(t)
	cfg := testConfig(t, up.URL())
	cfg.Upstream.IdleTimeout = Duration(150 * time.Millisecond)
	m := MustRunMain(t, cfg)
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	// Three words, then silence longer than the idle timeout.
	up.Events = append(slowEvents(3)[:3], "")
	up.Delay = 50 * time.Millisecond
	stall := make(chan struct{})
	t.Cleanup(func() { close(stall) })
	up.Server.Config.Handler = stallAfter(up, stall)

	resp := post(t, m, "/v1/chat/completions", key, `{"model":"demo-small","stream":true,"max_tokens":100,"messages":[{"role":"user","content":"Hi"}]}`)
	body := string(readAll(t, resp))
	if !strings.Contains(body, "word002") || !strings.Contains(body, `"code":"upstream_timeout"`) {
		t.Fatalf("body=%q, want three words then an upstream_timeout error event", body)
	}
	waitSettled(t, m, a.ID)
	entries := usageEntries(t, m, a.ID)
	if len(entries) != 1 || !entries[0].Estimated || entries[0].Amount >= 0 {
		t.Fatalf("entries=%+v, want one estimated charge", entries)
	}
	mustVerify(t, m)
}

// stallAfter streams up.Events and then blocks until stall closes.
func stallAfter(up *fixtureUpstream, stall chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		up.mu.Lock()
		up.requests = append(up.requests, seenRequest{Path: r.URL.Path})
		up.mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range up.Events {
			io.WriteString(w, ev)
			w.(http.Flusher).Flush()
		}
		select {
		case <-stall:
		case <-r.Context().Done():
		}
	})
}

// A streaming request the upstream answers with a whole JSON response (as
// some upstreams do) is metered like any other: never free.
func TestStream_WholeResponseStillCharged(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	// The fixture answers /v1/completions with a whole response, streamed or not.
	resp := post(t, m, "/v1/completions", key, `{"model":"demo-small","stream":true,"prompt":"Say hello.","max_tokens":8}`)
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK || string(body) != withCost(fixture("completions.json"), "0.0000135") {
		t.Fatalf("status=%d body=%s, want the completions reply", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Paymeter-Cost"); got != "0.0000135" {
		t.Fatalf("cost=%q, want 0.0000135", got)
	}
	if got := resp.Header.Get("X-Paymeter-Balance"); got != "0.9999865" {
		t.Fatalf("X-Paymeter-Balance=%q, want 0.9999865 (after the capture)", got)
	}
	if acct := waitSettled(t, m, a.ID); acct.Balance != amt(t, "1")-amt(t, "0.0000135") {
		t.Fatalf("balance=%s, want 1 - 0.0000135", acct.Balance)
	}
	mustVerify(t, m)
}
