package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// An upstream that reports a running usage total in every chunk (vLLM's
// continuous usage stats) is drained to its [DONE] when the client hangs
// up, and charged its last total: what it bills for the whole answer, not
// the total of the chunk the client left at (found by review).
func TestStream_ClientGoneDrainedPastRunningUsageTotals(t *testing.T) {
	const hidden = 3999
	const words = 200
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		out := 0
		chunk := func(content string) {
			fmt.Fprintf(w, `data: {"id":"c","object":"chat.completion.chunk","model":"demo-small","choices":[{"index":0,"delta":{"content":%q}}],"usage":{"prompt_tokens":5,"completion_tokens":%d}}`+"\n\n", content, out)
			fl.Flush()
		}
		chunk("")
		time.Sleep(100 * time.Millisecond)
		out = 1
		chunk("Hi")
		for range words {
			time.Sleep(time.Millisecond)
			out++
			chunk(" word")
		}
		fmt.Fprintf(w, `data: {"id":"c","object":"chat.completion.chunk","model":"demo-small","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":%d}}`+"\n\ndata: [DONE]\n\n", hidden+1+words)
		fl.Flush()
	}))
	t.Cleanup(up.Close)
	m := MustRunMain(t, testConfig(t, up.URL+"/v1"))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	hangUpAt(t, m, key, `{"model":"demo-small","stream":true,"messages":[{"role":"user","content":"Think."}]}`, `"Hi"`)

	waitSettled(t, m, a.ID)
	entries := usageEntries(t, m, a.ID)
	if len(entries) != 1 {
		t.Fatalf("usage entries %+v, want 1", entries)
	}
	if e := entries[0]; e.Usage.OutputTokens != hidden+1+words {
		t.Fatalf("charged output %d (estimated %v); the upstream billed %d", e.Usage.OutputTokens, e.Estimated, hidden+1+words)
	}
}
