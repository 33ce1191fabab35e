package payclient

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/x402"
)

// Whatever a server sends as its 402, parsing it never panics, and every
// requirement it keeps is one this client can show and sign: a positive
// amount, real addresses, exact or (v2) upto with its facilitator.
func FuzzParseOffer(f *testing.F) {
	ch := uptoChallenge(3000, 5000)
	f.Add(ch.HeaderV2("payment_required"), v1Of(ch, "payment_required"))
	f.Add(b64(`{"x402Version":2,"accepts":[{"scheme":"upto","network":"eip155:1","amount":"1","asset":"0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",`+
		`"payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","maxTimeoutSeconds":60,"extra":{"facilitatorAddress":"0x1111111111111111111111111111111111111111","spender":1}}]}`), "")
	f.Add("", `{"x402Version":1,"accepts":[{"scheme":"exact"}]}`)
	f.Fuzz(func(t *testing.T, header, body string) {
		h := http.Header{}
		h.Set(x402.HeaderRequired, header)
		o := parseOffer(h, []byte(body))
		if len(o.reqs) == 0 && len(o.refused) == 0 {
			t.Fatal("nothing kept and no reason")
		}
		for _, r := range o.reqs {
			if r.Units <= 0 || r.Asset == (common.Address{}) || r.PayTo == (common.Address{}) {
				t.Fatalf("kept %+v", r)
			}
			switch {
			case r.Scheme == x402.SchemeExact:
			case r.Scheme == x402.SchemeUpto && r.Version == 2 && r.Facilitator != (common.Address{}):
			default:
				t.Fatalf("kept %+v", r)
			}
		}
	})
}

// Whatever challenge a 402 declares, a proof is only ever signed for the
// request's own host, and decodes as one.
func FuzzSIWXProof(f *testing.F) {
	u, _ := url.Parse("http://127.0.0.1:8080/v1/chat/completions")
	f.Add(b64(`{"x402Version":2,"accepts":[],"extensions":{"sign-in-with-x":` + string(declared(siwxInfo(&url.URL{Scheme: "http", Host: "127.0.0.1:8080"}))) + `}}`))
	f.Add(b64(`{"x402Version":2,"extensions":{"sign-in-with-x":{"info":{"domain":"127.0.0.1:8080","uri":"http://127.0.0.1:8080/","statement":"a\nb"},"supportedChains":[{"chainId":"eip155:1","type":"eip191"}]}}}`))
	key, _ := crypto.GenerateKey()
	c := &Client{Key: key}
	f.Fuzz(func(t *testing.T, required string) {
		h, signed, err := c.siwxProof(required, u)
		if err != nil {
			return
		}
		p, err := x402.DecodeSIWX(h)
		if err != nil || p.Domain != "127.0.0.1:8080" || signed.Domain != p.Domain || p.Address != c.Address().Hex() {
			t.Fatalf("signed %+v (%v) for %s", p, err, u)
		}
	})
}
