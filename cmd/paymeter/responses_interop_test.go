package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// The official openai SDK's client.responses.create, whole and streamed,
// through paymeter in front of the demo upstream: the SDK reads the text,
// the usage and the cost in it, and the journal charged exactly the priced
// cost of that usage.
func TestInterop_OpenAIResponses(t *testing.T) {
	node := needNode(t)
	up := newDemoUpstream(t)
	m := MustRunMain(t, demoConfig(t, up.URL+"/v1", 4096))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	out := runNode(t, node, "responses.mjs", m.URL(), key, "demo-small")
	type call struct {
		Status    string        `json:"status"`
		Text      string        `json:"text"`
		FinalText string        `json:"finalText"`
		Usage     responseUsage `json:"usage"`
		Types     []string      `json:"types"`
	}
	var got struct{ Whole, Stream call }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	// 12 of the demo's 16 words, cut by max_output_tokens.
	want := meter.Usage{InputTokens: 15, OutputTokens: 12}
	w, s := got.Whole, got.Stream
	if w.Status != "incomplete" || len(strings.Fields(w.Text)) != 12 || w.Usage.meter() != want {
		t.Fatalf("whole response %+v, want 12 words and %+v", w, want)
	}
	if s.Status != "incomplete" || s.Text != w.Text || s.FinalText != w.Text || s.Usage.meter() != want {
		t.Fatalf("streamed response %+v, want the same text %q and usage", s, w.Text)
	}
	if first, last := s.Types[0], s.Types[len(s.Types)-1]; first != "response.created" || last != "response.incomplete" {
		t.Fatalf("event types %v", s.Types)
	}
	waitSettled(t, m, a.ID)
	cost := m.Config.Prices()["demo-small"].Cost(want)
	entries := usageEntries(t, m, a.ID)
	if len(entries) != 2 {
		t.Fatalf("usage entries %+v, want 2", entries)
	}
	for _, e := range entries {
		if e.Estimated || e.Usage != want || -e.Amount != cost {
			t.Fatalf("entry %+v, want %+v charged %s", e, want, cost)
		}
	}
	if w.Usage.PaymeterCost != cost.String() || s.Usage.PaymeterCost != cost.String() {
		t.Fatalf("the SDK read paymeter_cost %q and %q, want %s", w.Usage.PaymeterCost, s.Usage.PaymeterCost, cost)
	}
	if got, want := account(t, m, a.ID).Balance, amt(t, "1")-2*cost; got != want {
		t.Fatalf("balance %s, want %s", got, want)
	}
	mustVerify(t, m)
}
