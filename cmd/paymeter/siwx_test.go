package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// siwxInfo is a challenge as a client completes it: the 402's info and
// the chain it signs for.
type siwxInfo struct {
	x402.SIWXInfo
	ChainID string `json:"chainId"`
	Type    string `json:"type"`
}

// siwxEntry is one proof for siwx.mjs to sign (MODE=sign).
type siwxEntry struct {
	Info       siwxInfo `json:"info"`
	RequestURL string   `json:"requestUrl,omitempty"`
	Key        string   `json:"key,omitempty"`
	Address    string   `json:"address,omitempty"`
}

// siwxSign has @x402/extensions sign each entry; it returns the headers.
func siwxSign(t *testing.T, node string, entries []siwxEntry) []string {
	t.Helper()
	in, _ := json.Marshal(entries)
	out := siwxNode(t, node, in, "MODE=sign")
	var headers []string
	if err := json.Unmarshal(out, &headers); err != nil || len(headers) != len(entries) {
		t.Fatalf("siwx.mjs sign printed %s: %v", out, err)
	}
	return headers
}

// siwxDeclared is the sign-in-with-x declaration of a 402.
func siwxDeclared(t *testing.T, resp *http.Response) *x402.SIWXDeclaration {
	t.Helper()
	readAll(t, resp)
	if resp.StatusCode != http.StatusPaymentRequired {
		t.Fatalf("status %d, want 402", resp.StatusCode)
	}
	pr, err := x402.ParseChallengeV2(resp.Header.Get(x402.HeaderRequired))
	if err != nil {
		t.Fatal(err)
	}
	var d x402.SIWXDeclaration
	if err := json.Unmarshal(pr.Extensions[x402.ExtensionSIWX], &d); err != nil || len(d.SupportedChains) == 0 {
		t.Fatalf("402 extensions %s: %v", pr.Extensions, err)
	}
	return &d
}

// siwxChallenge asks m for a chat completion without credentials and
// returns the sign-in-with-x challenge of its 402, completed for its first chain.
func siwxChallenge(t *testing.T, m *Main) siwxInfo {
	t.Helper()
	d := siwxDeclared(t, postWith(t, m, "/v1/chat/completions", chatBody))
	return siwxInfo{SIWXInfo: d.Info, ChainID: d.SupportedChains[0].ChainID, Type: d.SupportedChains[0].Type}
}

var _ = meter.ECodeInvalidSIWX
