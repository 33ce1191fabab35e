package main

import (
	"encoding/json"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// The official Anthropic client, @anthropic-ai/sdk, against paymeter in
// front of the demo as an Anthropic upstream: messages.create and
// messages.stream get the text, the usage and the cost in band; the
// journal charged exactly that; and the client reads paymeter's refusals
// (a key with no credits, whose 402 is also the x402 challenge, and a
// malformed key) as its own error classes, with paymeter's code.
func TestInterop_AnthropicSDK(t *testing.T) {
	node := needNode(t)
	up := newAnthropicUpstream(t)
	cfg := messagesConfig(t, up.URL)
	// With x402 on, the broke key's 402 is the x402 challenge too.
	cfg.X402 = x402Config(t, up.URL+"/v1", newFacilitatorStub(t).URL).X402
	m := MustRunMain(t, cfg)
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	_, broke := mustApp(t, m, "0", meter.DefaultKeyScopes)

	out := runNode(t, node, "messages.mjs", m.URL(), key, broke)
	type usage struct {
		InputTokens  int64  `json:"input_tokens"`
		OutputTokens int64  `json:"output_tokens"`
		Cost         string `json:"paymeter_cost"`
	}
	type refusal struct {
		Status    int    `json:"status"`
		Class     string `json:"class"`
		Type      string `json:"type"`
		Code      string `json:"code"`
		ErrorCode string `json:"errorCode"`
		RequestID string `json:"requestID"`
		X402      int    `json:"x402Version"`
		Accepts   int    `json:"accepts"`
	}
	var got struct {
		Plain struct {
			Text  string `json:"text"`
			Usage usage  `json:"usage"`
		} `json:"plain"`
		Streamed struct {
			Text  string `json:"text"`
			Usage usage  `json:"usage"`
			Cost  string `json:"cost"`
		} `json:"streamed"`
		Broke   refusal `json:"broke"`
		Invalid refusal `json:"invalid"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	// The demo: 12 input tokens, 8 output, at 3 and 15 per million.
	const cost = "0.000156"
	if got.Plain.Text == "" || got.Plain.Text != got.Streamed.Text ||
		got.Plain.Usage != (usage{12, 8, cost}) || got.Streamed.Usage.InputTokens != 12 || got.Streamed.Usage.OutputTokens != 8 ||
		got.Streamed.Cost != cost {
		t.Fatalf("client saw %s; want the same text twice, 12 in, 8 out, cost %s in band", out, cost)
	}
	if b := got.Broke; b.Status != 402 || b.Class != "PaymentRequiredError" || b.Type != "billing_error" ||
		b.Code != meter.ECodeInsufficientCredit || b.ErrorCode != meter.ECodeInsufficientCredit || b.RequestID == "" ||
		b.X402 != 1 || b.Accepts != 1 {
		t.Fatalf("broke key: client read %+v", b)
	}
	if i := got.Invalid; i.Status != 401 || i.Class != "AuthenticationError" || i.Type != "authentication_error" ||
		i.Code != meter.ECodeInvalidAPIKey || i.ErrorCode != meter.ECodeInvalidAPIKey {
		t.Fatalf("invalid key: client read %+v", i)
	}
	entries := usageEntries(t, m, a.ID)
	if len(entries) != 2 {
		t.Fatalf("entries %+v, want 2", entries)
	}
	for _, e := range entries {
		if e.Usage != (meter.Usage{InputTokens: 12, OutputTokens: 8}) || e.Estimated || -e.Amount != amt(t, cost) {
			t.Fatalf("entry %+v, want 12/8 charged %s", e, cost)
		}
	}
	if got, want := account(t, m, a.ID).Balance, amt(t, "1")-2*amt(t, cost); got != want {
		t.Fatalf("balance %s, want %s", got, want)
	}
	mustVerify(t, m)
}
