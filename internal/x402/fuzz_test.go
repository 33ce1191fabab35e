package x402_test

import (
	"context"
	"math/big"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// FuzzDecodePayment feeds both decoders arbitrary headers: they must never
// panic, and what they accept must verify or be refused cleanly.
func FuzzDecodePayment(f *testing.F) {
	n := baseSepolia()
	key := mustKey(f)
	h, a := signed(f, key, n, 2500, nil)
	sig, _ := x402.Sign(key, n, &a)
	f.Add(1, h)
	f.Add(2, x402.EncodePaymentV2((&x402.Challenge{Amount: 2500, MaxTimeoutSeconds: 60}).Requirement(n), nil, &a, sig))
	f.Add(1, "eyJ4NDAyVmVyc2lvbiI6MX0=")
	f.Add(2, "")
	v := mustVerifier(f, n)
	f.Fuzz(func(t *testing.T, version int, header string) {
		p, err := x402.DecodePayment(version, header)
		if err != nil {
			if meter.ErrorCode(err) != meter.ECodeInvalidPayment {
				t.Fatalf("decode error %v is not invalid_payment", err)
			}
			return
		}
		if _, err := v.Verify(context.Background(), p, 2500, 60); err != nil && meter.ErrorCode(err) != meter.ECodeInvalidPayment {
			t.Fatalf("verify error %v is not invalid_payment", err)
		}
	})
}

// FuzzChallenge round-trips the 402 builders: whatever the amount and
// resource, the v2 header decodes to what was put in.
func FuzzChallenge(f *testing.F) {
	f.Add(int64(2500), "http://127.0.0.1/v1/chat/completions", "chat", 60)
	f.Add(int64(0), "", "\x00\"\\", 0)
	f.Fuzz(func(t *testing.T, amount int64, url, desc string, timeout int) {
		ch := &x402.Challenge{Amount: meter.USDC(amount), MaxTimeoutSeconds: timeout, Networks: []*x402.Network{baseSepolia()},
			Resource: x402.Resource{URL: url, Description: desc, MimeType: "application/json"}}
		pr, err := x402.ParseChallengeV2(ch.HeaderV2("payment required"))
		if err != nil {
			t.Fatal(err)
		}
		want := ch.Requirement(ch.Networks[0])
		// JSON carries valid UTF-8 through unchanged.
		if utf8.ValidString(url) && utf8.ValidString(desc) && pr.Resource != ch.Resource {
			t.Fatalf("resource %+v, want %+v", pr.Resource, ch.Resource)
		}
		if pr.Accepts[0].Amount != want.Amount || pr.Accepts[0].MaxTimeoutSeconds != timeout {
			t.Fatalf("amount/timeout lost: %+v", pr.Accepts[0])
		}
		if v1 := ch.AcceptsV1(); v1[0].MaxAmountRequired != want.Amount {
			t.Fatalf("v1 amount %q", v1[0].MaxAmountRequired)
		}
	})
}

// FuzzPaymentRoundTrip encodes payments of both versions and decodes them:
// every field must come back as it was signed.
func FuzzPaymentRoundTrip(f *testing.F) {
	f.Add(int64(2500), int64(0), int64(1_790_000_060), []byte("nonce"))
	f.Add(int64(1), int64(1<<62), int64(1<<62), []byte{})
	n := baseSepolia()
	key := mustKey(f)
	f.Fuzz(func(t *testing.T, value, after, before int64, nonce []byte) {
		if value < 0 || after < 0 || before <= 0 {
			return
		}
		a := x402.NewAuthorization(key, n, value, time.Unix(0, 0), 0)
		a.ValidAfter, a.ValidBefore = big.NewInt(after), big.NewInt(before)
		copy(a.Nonce[:], nonce)
		sig, err := x402.Sign(key, n, &a)
		if err != nil {
			t.Fatal(err)
		}
		req := (&x402.Challenge{Amount: meter.USDC(value), MaxTimeoutSeconds: 60}).Requirement(n)
		for version, header := range map[int]string{1: x402.EncodePaymentV1(n, &a, sig), 2: x402.EncodePaymentV2(req, nil, &a, sig)} {
			p, err := x402.DecodePayment(version, header)
			if err != nil {
				t.Fatalf("v%d: %v", version, err)
			}
			got := p.Authorization
			if got.From != a.From || got.To != a.To || got.Nonce != a.Nonce || got.Value.Cmp(a.Value) != 0 ||
				got.ValidAfter.Cmp(a.ValidAfter) != 0 || got.ValidBefore.Cmp(a.ValidBefore) != 0 || string(p.Signature) != string(sig) {
				t.Fatalf("v%d: decoded %+v, signed %+v", version, got, a)
			}
		}
	})
}
