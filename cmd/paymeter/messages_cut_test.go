package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// A Messages stream still thinking when paymeter cuts it at
// limits.max_request_duration has delivered nothing, yet the upstream
// bills all the thinking: it is charged the reported input and its whole
// output bound, not released for free.
func TestMessages_ThinkingStreamCutAtTimeLimitIsCharged(t *testing.T) {
	up := newAnthropicUpstream(t)
	up.Serve = func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"demo-large\",\"content\":[],\"usage\":{\"input_tokens\":40,\"output_tokens\":1}}}\n\n"+
			"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}\n\n")
		w.(http.Flusher).Flush()
		select { // thinking, silently, past the time limit
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}
	cfg := messagesConfig(t, up.URL)
	cfg.Limits.MaxRequestDuration = Duration(time.Second)
	m := MustRunMain(t, cfg)
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	resp := postMessages(t, m, key, `{"model":"demo-large","max_tokens":1000,"stream":true,"thinking":{"type":"enabled","budget_tokens":800},"messages":[{"role":"user","content":"Think hard."}]}`)
	if body := string(readAll(t, resp)); !strings.Contains(body, "event: error") {
		t.Fatalf("stream %q, want an error event for the time limit", body)
	}
	waitSettled(t, m, a.ID)
	entries := usageEntries(t, m, a.ID)
	want := meter.Usage{InputTokens: 40, OutputTokens: 1000}
	if len(entries) != 1 || !entries[0].Estimated || entries[0].Usage != want {
		t.Fatalf("usage entries %+v, want one estimated charge of %+v", entries, want)
	}
	if cost := -entries[0].Amount; cost != m.Config.Prices()["demo-large"].Cost(want) {
		t.Fatalf("charged %s, want %s", cost, m.Config.Prices()["demo-large"].Cost(want))
	}
	mustVerify(t, m)
}
