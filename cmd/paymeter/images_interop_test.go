package main

import (
	"encoding/json"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// The official openai npm SDK generates images through paymeter: it reads
// the answer (with paymeter_cost in its usage, beside the upstream's
// input_tokens), and the refusal of an unpriced
// size as an APIError with paymeter's code; the journal charged the two
// images exactly.
func TestInterop_OpenAIImages(t *testing.T) {
	node := needNode(t)
	up := newDemoUpstream(t)
	m := MustRunMain(t, imageConfig(t, up.URL+"/v1"))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	out := runNode(t, node, "images.mjs", m.URL(), key)
	var got struct {
		Images     int    `json:"images"`
		PNG        string `json:"png"`
		BodyCost   string `json:"bodyCost"`
		Input      int    `json:"inputTokens"`
		HeaderCost string `json:"headerCost"`
		Refused    struct {
			Status int    `json:"status"`
			Code   string `json:"code"`
		} `json:"refused"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	// 2 × 0.17 + the 0.001 request fee.
	if got.Images != 2 || got.PNG != "PNG" || got.BodyCost != "0.341" || got.HeaderCost != "0.341" || got.Input != 4 ||
		got.Refused.Status != 400 || got.Refused.Code != meter.ECodeImageNotPriced {
		t.Fatalf("client saw %+v; want 2 PNGs costing 0.341 in body and header, 4 input tokens, and 400 image_not_priced", got)
	}
	entries := usageEntries(t, m, a.ID)
	if len(entries) != 1 || entries[0].Amount != -amt(t, "0.341") {
		t.Fatalf("journal %+v, want one charge of 0.341", entries)
	}
	mustVerify(t, m)
}
