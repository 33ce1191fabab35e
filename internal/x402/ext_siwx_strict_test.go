package x402

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// siwxSeeds are proofs in the shape @x402/extensions' client sends.
var siwxSeeds = []string{
	`{"domain":"api.example.com","address":"0x857b06519E91e3A54538791bDbb0E22373e36b66","statement":"Sign in to pay with your balance",` +
		`"uri":"https://api.example.com/v1/chat/completions","version":"1","chainId":"eip155:84532","type":"eip191",` +
		`"nonce":"a1b2c3d4e5f6a7b8c9d0e1f2","issuedAt":"2026-12-02T10:30:00.000Z","expirationTime":"2026-12-02T10:35:00.000Z",` +
		`"resources":["https://api.example.com/v1/chat/completions"],"signatureScheme":"eip191","signature":"0x` +
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef00" + `"}`,
	`{"domain":"a","address":"0x857b06519E91e3A54538791bDbb0E22373e36b66","uri":"https://a/","version":"1",` +
		`"chainId":"eip155:1","type":"eip191","nonce":"abcdefgh","issuedAt":"2024-01-15T10:30:00.000Z","resources":[],"signature":"0x00"}`,
}

// The strict one-pass decoder and the checked path agree on every proof,
// to the error's words, over mutations aimed at what the strict decoder
// must not take: keys in another case or twice, escapes, non-ASCII,
// nulls, numbers, nesting, trailing data, cut documents.
func TestDecodeSIWXStrictEqualsChecked(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	pieces := []string{`\u0064`, `\"`, "<", "&", "null", "1", "ſ", "\u212a", "\x00", "\n", " ", "}", "{", "[", "]",
		",", ":", `""`, `"x"`, "é", "\xff", `"Domain":"evil",`, `"domain":"evil",`, `"x":{"a":[1]},`, `"resources":["r"],`}
	accepted := map[bool]int{}
	for _, seed := range siwxSeeds {
		var p SIWXPayload
		if !siwxStrictFast([]byte(seed), &p) {
			t.Fatalf("seed %s: not taken by the strict decoder", seed)
		}
		for range 5000 {
			b := mutate(r, seed, pieces)
			got, gerr := decodeSIWXJSON(b, true)
			want, werr := decodeSIWXJSON(b, false)
			if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
				t.Fatalf("%q: strict %v, checked %v", b, gerr, werr)
			}
			if gerr == nil {
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%q: strict %+v, checked %+v", b, got, want)
				}
				var p SIWXPayload
				accepted[siwxStrictFast(b, &p)]++
			}
		}
	}
	t.Logf("mutations decoded: %d by the strict decoder, %d by the checked path only", accepted[true], accepted[false])
	if accepted[true] == 0 || accepted[false] == 0 {
		t.Fatalf("decoded mutations by path %v: the test must see both paths accept", accepted)
	}
}
