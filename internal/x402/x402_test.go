package x402_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

var (
	payTo   = common.HexToAddress("0x209693Bc6afc0C5328bA36FaF03C514EF312287C")
	asset   = common.HexToAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e")
	testNow = time.Unix(1_790_000_000, 0)
)

func baseSepolia() *x402.Network {
	return &x402.Network{Name: "base-sepolia", ChainID: 84532, Asset: asset, TokenName: "USDC", TokenVersion: "2", PayTo: payTo}
}

func mustKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustVerifier(t testing.TB, nets ...*x402.Network) *x402.Verifier {
	t.Helper()
	v := &x402.Verifier{Networks: nets, Skew: 5 * time.Second, Now: func() time.Time { return testNow }}
	if err := v.Init(); err != nil {
		t.Fatal(err)
	}
	return v
}

// signed builds a v1 payment header for value on n, after letting edit
// change the authorization.
func signed(t testing.TB, key *ecdsa.PrivateKey, n *x402.Network, value int64, edit func(*x402.Authorization)) (string, x402.Authorization) {
	t.Helper()
	a := x402.NewAuthorization(key, n, value, testNow, 60*time.Second)
	if edit != nil {
		edit(&a)
	}
	sig, err := x402.Sign(key, n, &a)
	if err != nil {
		t.Fatal(err)
	}
	return x402.EncodePaymentV1(n, &a, sig), a
}

func reasonOf(err error) string {
	var me *meter.Error
	if !errors.As(err, &me) {
		return ""
	}
	r, _ := me.Details["reason"].(string)
	return r
}

// Sign hashes with go-ethereum's apitypes.TypedDataAndHash whole; Verify
// with a cached domain separator: a payment accepted here proves the two agree.
func TestVerifyAcceptsAValidPaymentOfEitherVersion(t *testing.T) {
	n := baseSepolia()
	v := mustVerifier(t, n)
	key := mustKey(t)

	h1, a := signed(t, key, n, 2500, nil)
	p, err := x402.DecodePayment(1, h1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(context.Background(), p, 2500, 60)
	if err != nil || got != n {
		t.Fatalf("v1: network %v, err %v", got, err)
	}
	if p.Authorization.From != crypto.PubkeyToAddress(key.PublicKey) || p.Authorization.Nonce != a.Nonce {
		t.Fatalf("decoded authorization differs: %+v", p.Authorization)
	}

	ch := &x402.Challenge{Amount: 2500, MaxTimeoutSeconds: 60, Networks: []*x402.Network{n}}
	sig, _ := x402.Sign(key, n, &a)
	h2 := x402.EncodePaymentV2(ch.Requirement(n), nil, &a, sig)
	p2, err := x402.DecodePayment(2, h2)
	if err != nil {
		t.Fatal(err)
	}
	if p2.ChainID != 84532 || p2.Network != "eip155:84532" {
		t.Fatalf("v2 network: %q %d", p2.Network, p2.ChainID)
	}
	if _, err := v.Verify(context.Background(), p2, 2500, 60); err != nil {
		t.Fatalf("v2: %v", err)
	}
	wantKey := "eip155:84532/" + asset.Hex() + "/" + a.From.Hex() + "/0x"
	if k := p2.Key(asset); !strings.HasPrefix(k, wantKey) || len(k) != len(wantKey)+64 {
		t.Fatalf("payment key %q", k)
	}
}

func TestVerifyRefusesWithTheSpecReason(t *testing.T) {
	n := baseSepolia()
	v := mustVerifier(t, n)
	key, other := mustKey(t), mustKey(t)
	future := func(a *x402.Authorization) { a.ValidAfter = big.NewInt(testNow.Add(time.Minute).Unix()) }

	cases := []struct {
		name   string
		header func() string
		amount meter.USDC
		reason string
	}{
		{"value below the quote", func() string { h, _ := signed(t, key, n, 2499, nil); return h }, 2500, x402.ReasonValue},
		{"value above the quote", func() string { h, _ := signed(t, key, n, 2501, nil); return h }, 2500, x402.ReasonValue},
		{"other recipient", func() string {
			h, _ := signed(t, key, n, 2500, func(a *x402.Authorization) { a.To = asset })
			return h
		}, 2500, x402.ReasonRecipientMismatch},
		{"not valid yet", func() string { h, _ := signed(t, key, n, 2500, future); return h }, 2500, x402.ReasonValidAfter},
		{"expires within 6 s", func() string {
			h, _ := signed(t, key, n, 2500, func(a *x402.Authorization) { a.ValidBefore = big.NewInt(testNow.Unix() + 5) })
			return h
		}, 2500, x402.ReasonValidBefore},
		{"valid for too long", func() string {
			h, _ := signed(t, key, n, 2500, func(a *x402.Authorization) { a.ValidBefore = big.NewInt(testNow.Unix() + 3600) })
			return h
		}, 2500, x402.ReasonValidBefore},
		{"signed by someone else", func() string {
			a := x402.NewAuthorization(key, n, 2500, testNow, time.Minute)
			sig, _ := x402.Sign(other, n, &a)
			return x402.EncodePaymentV1(n, &a, sig)
		}, 2500, x402.ReasonSignature},
		{"signed for another token", func() string {
			a := x402.NewAuthorization(key, n, 2500, testNow, time.Minute)
			wrong := *n
			wrong.TokenName = "USD Coin"
			sig, _ := x402.Sign(key, &wrong, &a)
			return x402.EncodePaymentV1(n, &a, sig)
		}, 2500, x402.ReasonSignature},
		{"high-s signature", func() string {
			a := x402.NewAuthorization(key, n, 2500, testNow, time.Minute)
			sig, _ := x402.Sign(key, n, &a)
			// (r, n−s, v^1) is the same signature's malleable twin.
			s := new(big.Int).SetBytes(sig[32:64])
			s.Sub(crypto.S256().Params().N, s)
			s.FillBytes(sig[32:64])
			sig[64] ^= 1
			return x402.EncodePaymentV1(n, &a, sig)
		}, 2500, x402.ReasonSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := x402.DecodePayment(1, c.header())
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			_, err = v.Verify(context.Background(), p, c.amount, 60)
			if meter.ErrorCode(err) != meter.ECodeInvalidPayment || reasonOf(err) != c.reason {
				t.Fatalf("got %v (reason %q), want invalid_payment %q", err, reasonOf(err), c.reason)
			}
		})
	}
}

func TestVerifyRefusesUnconfiguredNetworksAndMismatchedV2Requirements(t *testing.T) {
	n := baseSepolia()
	v := mustVerifier(t, n)
	key := mustKey(t)

	base := *n
	base.Name, base.ChainID = "base", 8453
	h, _ := signed(t, key, &base, 2500, nil)
	p, err := x402.DecodePayment(1, h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), p, 2500, 60); reasonOf(err) != x402.ReasonInvalidNetwork {
		t.Fatalf("base mainnet payment: %v", err)
	}

	a := x402.NewAuthorization(key, n, 2500, testNow, time.Minute)
	sig, _ := x402.Sign(key, n, &a)
	req := (&x402.Challenge{Amount: 2500, MaxTimeoutSeconds: 60}).Requirement(n)
	req.Asset = payTo.Hex()
	p, err = x402.DecodePayment(2, x402.EncodePaymentV2(req, nil, &a, sig))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), p, 2500, 60); reasonOf(err) != x402.ReasonInvalidRequirements {
		t.Fatalf("v2 naming another asset: %v", err)
	}
}

// contractWallet is an EIP-1271 checker that accepts one signature.
type contractWallet struct {
	wallet common.Address
	sig    []byte
	calls  int
}

func (c *contractWallet) IsValidSignature(_ context.Context, _ int64, w common.Address, _ [32]byte, sig []byte) (bool, error) {
	c.calls++
	return w == c.wallet && string(sig) == string(c.sig), nil
}

func TestVerifyAsksTheContractWhenTheSignatureIsNotTheSigners(t *testing.T) {
	n := baseSepolia()
	key := mustKey(t)
	wallet := common.HexToAddress("0x00000000000000000000000000000000000c0de1")
	a := x402.NewAuthorization(key, n, 2500, testNow, time.Minute)
	a.From = wallet
	sig, _ := x402.Sign(key, n, &a) // the owner signs for the wallet
	p, err := x402.DecodePayment(1, x402.EncodePaymentV1(n, &a, sig))
	if err != nil {
		t.Fatal(err)
	}

	if _, err := mustVerifier(t, n).Verify(context.Background(), p, 2500, 60); reasonOf(err) != x402.ReasonSignature {
		t.Fatalf("without a chain: %v", err)
	}
	cw := &contractWallet{wallet: wallet, sig: sig}
	v := mustVerifier(t, n)
	v.Contracts = cw
	if _, err := v.Verify(context.Background(), p, 2500, 60); err != nil || cw.calls != 1 {
		t.Fatalf("with the contract: err %v, calls %d", err, cw.calls)
	}
}

func TestDecodePaymentRefusesMalformedHeaders(t *testing.T) {
	key := mustKey(t)
	n := baseSepolia()
	good, _ := signed(t, key, n, 1, nil)
	raw, _ := base64.StdEncoding.DecodeString(good)
	mutate := func(f func(m map[string]any)) string {
		var m map[string]any
		json.Unmarshal(raw, &m)
		f(m)
		b, _ := json.Marshal(m)
		return base64.StdEncoding.EncodeToString(b)
	}
	auth := func(m map[string]any) map[string]any {
		return m["payload"].(map[string]any)["authorization"].(map[string]any)
	}
	cases := map[string]struct {
		version int
		header  string
		reason  string
	}{
		"not base64":       {1, "%%%", x402.ReasonInvalidPayload},
		"not JSON":         {1, base64.StdEncoding.EncodeToString([]byte("[1,2")), x402.ReasonInvalidPayload},
		"too long":         {1, strings.Repeat("A", x402.MaxHeaderBytes+1), x402.ReasonInvalidPayload},
		"v2 header for v1": {2, good, x402.ReasonInvalidVersion},
		"other scheme":     {1, mutate(func(m map[string]any) { m["scheme"] = "upto" }), x402.ReasonUnsupportedScheme},
		"unknown network":  {1, mutate(func(m map[string]any) { m["network"] = "solana" }), x402.ReasonInvalidNetwork},
		"negative value":   {1, mutate(func(m map[string]any) { auth(m)["value"] = "-1" }), x402.ReasonInvalidPayload},
		"hex value":        {1, mutate(func(m map[string]any) { auth(m)["value"] = "0x10" }), x402.ReasonInvalidPayload},
		"short nonce":      {1, mutate(func(m map[string]any) { auth(m)["nonce"] = "0x1234" }), x402.ReasonInvalidPayload},
		"bad from":         {1, mutate(func(m map[string]any) { auth(m)["from"] = "0xabc" }), x402.ReasonInvalidPayload},
		"no validBefore":   {1, mutate(func(m map[string]any) { delete(auth(m), "validBefore") }), x402.ReasonInvalidPayload},
		"short signature": {1, mutate(func(m map[string]any) {
			m["payload"].(map[string]any)["signature"] = "0x1234"
		}), x402.ReasonInvalidPayload},
		"version 3": {3, good, x402.ReasonInvalidVersion},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := x402.DecodePayment(c.version, c.header)
			if reasonOf(err) != c.reason {
				t.Fatalf("got %v (reason %q), want %q", err, reasonOf(err), c.reason)
			}
		})
	}
	// Numbers may come as JSON integers too.
	p, err := x402.DecodePayment(1, mutate(func(m map[string]any) { auth(m)["value"] = 1 }))
	if err != nil || p.Authorization.Value.Int64() != 1 {
		t.Fatalf("integer value: %v", err)
	}
}

func TestChallengeCarriesBothVersions(t *testing.T) {
	n := baseSepolia()
	ch := &x402.Challenge{Amount: 123456, MaxTimeoutSeconds: 60, Networks: []*x402.Network{n},
		Resource: x402.Resource{URL: "http://127.0.0.1:8080/v1/chat/completions", Description: "chat", MimeType: "application/json"}}
	v1 := ch.AcceptsV1()
	if len(v1) != 1 || v1[0].Network != "base-sepolia" || v1[0].MaxAmountRequired != "123456" ||
		v1[0].Resource != ch.Resource.URL || v1[0].Extra.Name != "USDC" || v1[0].Asset != asset.Hex() {
		t.Fatalf("v1 accepts: %+v", v1)
	}
	pr, err := x402.ParseChallengeV2(ch.HeaderV2("payment required"))
	if err != nil {
		t.Fatal(err)
	}
	if pr.X402Version != 2 || pr.Resource != ch.Resource || len(pr.Accepts) != 1 ||
		pr.Accepts[0].Network != "eip155:84532" || pr.Accepts[0].Amount != "123456" || pr.Accepts[0].PayTo != payTo.Hex() {
		t.Fatalf("v2: %+v", pr)
	}
	r := x402.SettleResponse{Success: true, Transaction: "0xabc", Network: "base-sepolia", Payer: payTo.Hex()}
	back, err := x402.DecodeReceipt(x402.EncodeReceipt(r))
	if err != nil || *back != r {
		t.Fatalf("receipt round trip: %+v %v", back, err)
	}
}

func BenchmarkVerify(b *testing.B) {
	n := baseSepolia()
	v := mustVerifier(b, n)
	h, _ := signed(b, mustKey(b), n, 2500, nil)
	b.ReportAllocs()
	for b.Loop() {
		p, err := x402.DecodePayment(1, h)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Verify(context.Background(), p, 2500, 60); err != nil {
			b.Fatal(err)
		}
	}
}
