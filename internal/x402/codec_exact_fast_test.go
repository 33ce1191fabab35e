package x402

import (
	"encoding/base64"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// exactSeeds are exact payments as clients send them: v1, and v2 with and
// without a resource and with the extensions @x402/fetch echoes back from
// the 402 (payment-identifier among them).
func exactSeeds(t testing.TB) map[int][]string {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	n := &Network{Name: "base-sepolia", ChainID: 84532, Asset: common.HexToAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e"),
		TokenName: "USDC", TokenVersion: "2", PayTo: common.HexToAddress("0x209693Bc6afc0C5328bA36FaF03C514EF312287C")}
	a := NewAuthorization(key, n, 1200, time.Unix(1_790_000_000, 0), 10*time.Minute)
	sig, err := Sign(key, n, &a)
	if err != nil {
		t.Fatal(err)
	}
	raw := func(header string) string {
		b, err := base64.StdEncoding.DecodeString(header)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	accepted := Requirement{Scheme: SchemeExact, Network: n.CAIP2(), Amount: "1200", Asset: n.Asset.Hex(), PayTo: n.PayTo.Hex(),
		MaxTimeoutSeconds: 300, Extra: &TokenDomain{Name: "USDC", Version: "2"}}
	res := &Resource{URL: "http://a.test/v1/chat/completions", Description: "d", MimeType: "application/json"}
	v2 := raw(EncodePaymentV2(accepted, res, &a, sig))
	bare := raw(EncodePaymentV2(accepted, nil, &a, sig))
	ext := v2[:len(v2)-1] + `,"extensions":{"payment-identifier":{"info":{"required":false,"id":"pay_0123456789abcdef"},"schema":{"type":"object"}},"sign-in-with-x":{"info":{"domain":"a.test","nonce":"n"}}}}`
	return map[int][]string{
		1: {raw(EncodePaymentV1(n, &a, sig))},
		2: {v2, bare, ext, " " + ext + "\n", bare[:len(bare)-1] + `,"extensions":{}}`},
	}
}

// The fast path and the general decoder agree on every payment, to the
// stored bytes and the error's words, over mutations of the seeds aimed
// at what the fast path must not take: case-folded and repeated keys,
// escapes, HTML characters, numbers of other spellings, nulls, trailing
// data, cut documents.
func TestDecodeExactFastEqualsSlowOnMutations(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	pieces := []string{`\u0070`, `\"`, "<", "&", ">", "null", "1e0", "2.0", "-1", "ſ", "K", "\u212a", "\x00", "\n", " ", "}", "{", "]",
		",", ":", `""`, `"x"`, "0", "00", `"0x"`, "é", "\xff", `"Payload":1,`, `"extensions":{},`}
	accepted := map[bool]int{}
	for version, seeds := range exactSeeds(t) {
		for _, seed := range seeds {
			if !fastTakes(version, []byte(seed)) {
				t.Fatalf("v%d seed %s: not taken by the fast path", version, seed)
			}
			sameAsGeneral(t, version, []byte(seed))
			for range 3000 {
				b := mutate(r, seed, pieces)
				if sameAsGeneral(t, version, b) {
					accepted[fastTakes(version, b)]++
				}
			}
		}
	}
	t.Logf("mutations decoded: %d by the fast path, %d by the general decoder only", accepted[true], accepted[false])
	if accepted[true] == 0 || accepted[false] == 0 {
		t.Fatalf("decoded mutations by path %v: the test must see both paths accept", accepted)
	}
}

// sameAsGeneral fails t unless both decoders answer raw alike; it reports
// whether they accepted it.
func sameAsGeneral(t *testing.T, version int, raw []byte) bool {
	t.Helper()
	got, gerr := decodePaymentWith(version, raw, true)
	want, werr := decodePaymentWith(version, raw, false)
	if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
		t.Fatalf("v%d %q: fast %v, general %v", version, raw, gerr, werr)
	}
	if gerr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("v%d %q: fast\n%+v\n%s\ngeneral\n%+v\n%s", version, raw, got, got.JSON, want, want.JSON)
	}
	return gerr == nil
}

func fastTakes(version int, raw []byte) bool {
	if version == 1 {
		return fastExactV1(raw, new(PaymentPayloadV1))
	}
	return fastExactV2(raw, new(PaymentPayloadV2))
}

// BenchmarkDecodeExactV2 decodes the payment @x402/fetch sends, with the
// extensions it echoes.
func BenchmarkDecodeExactV2(b *testing.B) {
	raw := []byte(exactSeeds(b)[2][2])
	for _, fast := range []bool{false, true} {
		b.Run(map[bool]string{false: "general", true: "fast"}[fast], func(b *testing.B) {
			for b.Loop() {
				if _, err := decodePaymentWith(2, raw, fast); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
