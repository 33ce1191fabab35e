package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// A search_result's "source" (a string the upstream renders for its
// citations) is held like any text: 600 KB of it is 600 039 prompt bytes
// with the blocks' allowances, 600 063 input tokens at the dearest input
// rate ($6/M, a one-hour cache write) and 1 output token at $15/M. An
// account with $0.01 is refused before the upstream is called; one that
// can afford it is charged what the upstream bills, within the hold.
func TestMessages_SearchResultSourceHeld(t *testing.T) {
	src := strings.Repeat("word ", 120_000)
	up := newAnthropicUpstream(t)
	up.Serve = func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","usage":{"input_tokens":%d,"output_tokens":1}}`, len(body)/4)
	}
	cfg := messagesConfig(t, up.URL)
	cfg.Limits.MaxBodyBytes = 1 << 20
	m := MustRunMain(t, cfg)
	body := `{"model":"claude-sonnet-4-5","max_tokens":1,"messages":[{"role":"user","content":[{"type":"search_result","source":"` + src +
		`","title":"t","content":[{"type":"text","text":"x"}]}]}]}`

	poor, key := mustApp(t, m, "0.01", meter.DefaultKeyScopes)
	e := mustAnthropicError(t, postMessages(t, m, key, body), http.StatusPaymentRequired, "billing_error", meter.ECodeInsufficientCredit)
	if e.Error.Details["required"] != "3.600393" {
		t.Fatalf("required %v, want 3.600393 (600063 input tokens at $6/M, 1 output at $15/M)", e.Error.Details["required"])
	}
	if n := len(up.seen()); n != 0 {
		t.Fatalf("upstream called %d times for a refused request", n)
	}
	if got := account(t, m, poor.ID).Balance; got != amt(t, "0.01") {
		t.Fatalf("balance %s, want 0.01", got)
	}

	rich, key := mustApp(t, m, "5", meter.DefaultKeyScopes)
	resp := postMessages(t, m, key, body)
	if out := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, out)
	}
	waitSettled(t, m, rich.ID)
	entries := usageEntries(t, m, rich.ID)
	if sent := string(up.seen()[0].Body); sent != body {
		t.Fatalf("forwarded body changed (%d bytes, sent %d)", len(body), len(sent))
	}
	// The upstream's 150 043 input tokens at $3/M and 1 output at $15/M.
	want := meter.Usage{InputTokens: 150_043, OutputTokens: 1}
	if len(entries) != 1 || entries[0].Usage != want || entries[0].Estimated || -entries[0].Amount != amt(t, "0.450144") {
		t.Fatalf("entries %+v, want %+v charged 0.450144", entries, want)
	}
	if got := account(t, m, rich.ID).Balance; got != amt(t, "4.549856") {
		t.Fatalf("balance %s, want 4.549856", got)
	}
	mustVerify(t, m)
}
