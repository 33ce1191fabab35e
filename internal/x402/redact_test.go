package x402

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://base-mainnet.example.com/v2/SECRETKEY", "https://base-mainnet.example.com/…"},
		{"https://user:SECRET@rpc.example.com", "https://rpc.example.com/…"},
		{"http://127.0.0.1:8545", "http://127.0.0.1:8545"},
		{"wss://node.example.com/ws?apikey=SECRET", "wss://node.example.com/…"},
	} {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	err := fmt.Errorf("simulate: %w", &url.Error{Op: "Post", URL: "https://rpc.example.com/v3/SECRET?key=SECRET2", Err: errors.New("dial tcp: refused")})
	got := Redact(err)
	if strings.Contains(got, "SECRET") || !strings.Contains(got, "rpc.example.com") || !strings.Contains(got, "refused") {
		t.Fatalf("Redact = %q: the credential must go, the host and the cause stay", got)
	}
}

func TestDecodePaymentReencodes(t *testing.T) {
	raw := `{"x402Version":1,"scheme":"exact","network":"base-sepolia","junk":{"deep":[1,2]},"payload":{"signature":"0x` +
		strings.Repeat("11", 65) + `","authorization":{"from":"0x0000000000000000000000000000000000000001","to":"0x0000000000000000000000000000000000000002",` +
		`"value":"10","validAfter":"0","validBefore":"99","nonce":"0x` + strings.Repeat("22", 32) + `","extra":"x"}}}`
	p, err := DecodePaymentJSON([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(p.JSON), "junk") || strings.Contains(string(p.JSON), `"extra":"x"`) {
		t.Fatalf("re-encoded payment %s keeps fields paymeter did not verify", p.JSON)
	}
	again, err := DecodePaymentJSON(p.JSON)
	if err != nil || string(again.JSON) != string(p.JSON) {
		t.Fatalf("re-encoding is not stable: %s / %v", again.JSON, err)
	}
	for _, bad := range []string{
		strings.Replace(raw, `"nonce"`, `"Nonce"`, 1),
		strings.Replace(raw, `"from"`, `"from":"0x0000000000000000000000000000000000000003","from"`, 1),
		strings.Repeat("[", 40) + strings.Repeat("]", 40),
	} {
		if _, err := DecodePaymentJSON([]byte(bad)); err == nil {
			t.Errorf("accepted %.80s…", bad)
		}
	}
}
