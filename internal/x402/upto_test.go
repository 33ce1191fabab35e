package x402_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

var uptoFacilitator = common.HexToAddress("0x1111111111111111111111111111111111111111")

func uptoTerms(amount meter.USDC) func(*x402.Network) (x402.UptoTerms, bool) {
	return func(*x402.Network) (x402.UptoTerms, bool) {
		return x402.UptoTerms{Amount: amount, Facilitator: uptoFacilitator, MinValidity: 11 * time.Minute, MaxTimeoutSeconds: 900}, true
	}
}

func uptoChallenge(n *x402.Network, amount meter.USDC) *x402.Challenge {
	return &x402.Challenge{Amount: amount, MaxTimeoutSeconds: 60, Networks: []*x402.Network{n},
		Resource: x402.Resource{URL: "http://paymeter.test/v1/chat/completions", Description: "inference", MimeType: "application/json"},
		Upto:     &x402.UptoOffer{Amount: amount, MaxTimeoutSeconds: 900, Facilitators: map[*x402.Network]common.Address{n: uptoFacilitator}}}
}

// signedUpto builds an upto header for amount on n, after letting edit
// change the permit (and the accepted requirement).
func signedUpto(t testing.TB, key *ecdsa.PrivateKey, n *x402.Network, amount meter.USDC, edit func(*x402.Permit2Authorization, *x402.Requirement)) string {
	t.Helper()
	ch := uptoChallenge(n, amount)
	req := ch.UptoRequirement(n)
	a := &x402.Permit2Authorization{
		From: crypto.PubkeyToAddress(key.PublicKey), Token: n.Asset, Amount: big.NewInt(int64(amount)),
		Spender: x402.UptoProxyAddress, Nonce: big.NewInt(time.Now().UnixNano()), Deadline: big.NewInt(testNow.Unix() + 900),
		To: n.PayTo, Facilitator: uptoFacilitator, ValidAfter: big.NewInt(0),
	}
	if edit != nil {
		edit(a, &req)
	}
	sig, err := x402.SignUpto(key, n.ChainID, a)
	if err != nil {
		t.Fatal(err)
	}
	return x402.EncodeUpto(req, &ch.Resource, a, sig)
}

// The permit @x402/evm 2.27's upto client signed (testdata/upto_viem.json,
// made with viem): paymeter hashes it to the digest viem signed.
func TestVerifyUptoAcceptsThePermitOfTheNPMClient(t *testing.T) {
	raw, err := os.ReadFile("testdata/upto_viem.json")
	if err != nil {
		t.Fatal(err)
	}
	var vec struct {
		Payer       string          `json:"payer"`
		Requirement json.RawMessage `json:"requirement"`
		Payload     struct {
			Payload json.RawMessage `json:"payload"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(raw, &vec); err != nil {
		t.Fatal(err)
	}
	header := base64.StdEncoding.EncodeToString([]byte(`{"x402Version":2,"accepted":` + string(vec.Requirement) +
		`,"payload":` + string(vec.Payload.Payload) + `}`))
	if !x402.IsUpto(header) {
		t.Fatal("IsUpto = false for an upto payment")
	}
	p, err := x402.DecodeUpto(header)
	if err != nil {
		t.Fatal(err)
	}
	n := baseSepolia()
	n.PayTo = common.HexToAddress("0x00000000000000000000000000000000000Fee01")
	v := mustVerifier(t, n)
	v.Now = func() time.Time { return time.Unix(p.Permit.Deadline.Int64()-900, 0) }
	got, _, err := v.VerifyUpto(context.Background(), p, uptoTerms(12345))
	if err != nil || got != n {
		t.Fatalf("VerifyUpto = %v, %v; want the network", got, err)
	}
	if p.Permit.From.Hex() != vec.Payer {
		t.Fatalf("from %s, want %s", p.Permit.From.Hex(), vec.Payer)
	}
	if want := "eip155:84532/permit2/" + vec.Payer + "/" + p.Permit.Nonce.String(); p.Key() != want {
		t.Fatalf("key %s, want %s", p.Key(), want)
	}
}

func TestVerifyUptoRefusesWithAStableReason(t *testing.T) {
	n := baseSepolia()
	key := mustKey(t)
	other := mustKey(t)
	cases := []struct {
		name   string
		edit   func(*x402.Permit2Authorization, *x402.Requirement)
		key    *ecdsa.PrivateKey
		reason string
	}{
		{"wrong spender", func(a *x402.Permit2Authorization, _ *x402.Requirement) { a.Spender = x402.Permit2Address }, nil, x402.ReasonPermit2Spender},
		{"wrong witness.to", func(a *x402.Permit2Authorization, _ *x402.Requirement) { a.To = uptoFacilitator }, nil, x402.ReasonPermit2Recipient},
		{"wrong facilitator", func(a *x402.Permit2Authorization, _ *x402.Requirement) { a.Facilitator = payTo }, nil, x402.ReasonUptoFacilitator},
		{"wrong token", func(a *x402.Permit2Authorization, _ *x402.Requirement) { a.Token = payTo }, nil, x402.ReasonPermit2Token},
		{"amount below the quote", func(a *x402.Permit2Authorization, _ *x402.Requirement) { a.Amount = big.NewInt(999) }, nil, x402.ReasonPermit2Amount},
		{"amount above the quote", func(a *x402.Permit2Authorization, _ *x402.Requirement) { a.Amount = big.NewInt(1001) }, nil, x402.ReasonPermit2Amount},
		{"accepted amount", func(_ *x402.Permit2Authorization, r *x402.Requirement) { r.Amount = "999" }, nil, x402.ReasonInvalidRequirements},
		{"not yet valid", func(a *x402.Permit2Authorization, _ *x402.Requirement) { a.ValidAfter = big.NewInt(testNow.Unix() + 5) }, nil, x402.ReasonPermit2NotYetValid},
		{"expired deadline", func(a *x402.Permit2Authorization, _ *x402.Requirement) { a.Deadline = big.NewInt(testNow.Unix() - 1) }, nil, x402.ReasonPermit2Deadline},
		{"deadline too soon to settle", func(a *x402.Permit2Authorization, _ *x402.Requirement) { a.Deadline = big.NewInt(testNow.Unix() + 60) }, nil, x402.ReasonPermit2Deadline},
		{"deadline too far", func(a *x402.Permit2Authorization, _ *x402.Requirement) {
			a.Deadline = big.NewInt(testNow.Unix() + 3600)
		}, nil, x402.ReasonPermit2DeadlineFar},
		{"another signer", nil, other, x402.ReasonPermit2Signature},
	}
	v := mustVerifier(t, n)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			signer := key
			if c.key != nil {
				signer = c.key
			}
			edit := c.edit
			if c.key != nil { // signed by another key, claiming to be from key
				from := crypto.PubkeyToAddress(key.PublicKey)
				edit = func(a *x402.Permit2Authorization, _ *x402.Requirement) { a.From = from }
			}
			p, err := x402.DecodeUpto(signedUpto(t, signer, n, 1000, edit))
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = v.VerifyUpto(context.Background(), p, uptoTerms(1000))
			if got := reasonOf(err); got != c.reason || meter.ErrorCode(err) != meter.ECodeInvalidPayment {
				t.Fatalf("reason %q (%v), want %q", got, err, c.reason)
			}
		})
	}
	t.Run("a network without upto", func(t *testing.T) {
		p, _ := x402.DecodeUpto(signedUpto(t, key, n, 1000, nil))
		_, _, err := v.VerifyUpto(context.Background(), p, func(*x402.Network) (x402.UptoTerms, bool) { return x402.UptoTerms{}, false })
		if got := reasonOf(err); got != x402.ReasonInvalidNetwork {
			t.Fatalf("reason %q, want %q", got, x402.ReasonInvalidNetwork)
		}
	})
}

func TestDecodeUptoRefusesMalformedPayloads(t *testing.T) {
	n := baseSepolia()
	good := signedUpto(t, mustKey(t), n, 1000, nil)
	raw, _ := base64.StdEncoding.DecodeString(good)
	edit := func(from, to string) string {
		if !strings.Contains(string(raw), from) {
			t.Fatalf("%q not in %s", from, raw)
		}
		return base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(raw), from, to, 1)))
	}
	cases := map[string]string{
		"v1":                 edit(`"x402Version":2`, `"x402Version":1`),
		"exact scheme":       edit(`"scheme":"upto"`, `"scheme":"exact"`),
		"extra payload key":  edit(`"permit2Authorization":{`, `"permit2Authorization":{"extra":1,`),
		"key in other case":  edit(`"spender"`, `"Spender"`),
		"key twice":          edit(`"spender":`, `"deadline":"1","spender":`),
		"short address":      edit(`"spender":"0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002"`, `"spender":"0x4020A4f3b7b90ccA423B9fabCc0CE57C6C2400"`),
		"hex nonce too long": edit(`"nonce":"`, `"nonce":"0x`+strings.Repeat("0", 66)),
		"signed amount":      edit(`"amount":"1000"},`, `"amount":"-1000"},`),
		"exponent deadline":  edit(`"deadline":"`, `"deadline":"1e`),
		"network":            edit(`"network":"eip155:84532"`, `"network":"base-sepolia"`),
		"not base64":         "%%%",
		"huge":               strings.Repeat("A", x402.MaxHeaderBytes+1),
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := x402.DecodeUpto(h); meter.ErrorCode(err) != meter.ECodeInvalidPayment {
				t.Fatalf("err %v, want invalid_payment", err)
			}
		})
	}
	t.Run("hex nonce", func(t *testing.T) {
		p, err := x402.DecodeUpto(good)
		if err != nil {
			t.Fatal(err)
		}
		hexNonce := "0x" + strings.Repeat("0", 64-len(p.Permit.Nonce.Text(16))) + p.Permit.Nonce.Text(16)
		q, err := x402.DecodeUpto(edit(`"nonce":"`+p.Permit.Nonce.String()+`"`, `"nonce":"`+hexNonce+`"`))
		if err != nil || q.Key() != p.Key() || !strings.Contains(string(q.JSON), `"nonce":"`+p.Permit.Nonce.String()+`"`) {
			t.Fatalf("hex nonce: %v; key %s want %s; stored %s", err, q.Key(), p.Key(), q.JSON)
		}
	})
}

func TestChallengeOffersUptoInV2Only(t *testing.T) {
	n := baseSepolia()
	ch := uptoChallenge(n, 5000)
	pr, err := x402.ParseChallengeV2(ch.HeaderV2("payment required"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Accepts) != 2 || pr.Accepts[0].Scheme != "exact" || pr.Accepts[1].Scheme != "upto" {
		t.Fatalf("accepts %+v", pr.Accepts)
	}
	u := pr.Accepts[1]
	if u.Amount != "5000" || u.MaxTimeoutSeconds != 900 || u.Extra == nil || u.Extra.FacilitatorAddress != uptoFacilitator.Hex() ||
		u.Extra.AssetTransferMethod != "permit2" || u.PayTo != payTo.Hex() || u.Asset != asset.Hex() {
		t.Fatalf("upto requirement %+v %+v", u, u.Extra)
	}
	if len(ch.AcceptsV1()) != 1 {
		t.Fatalf("v1 accepts %d entries; upto has no v1 form", len(ch.AcceptsV1()))
	}
}
