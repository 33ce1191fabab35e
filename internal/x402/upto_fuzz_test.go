package x402_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// FuzzDecodeUpto: an upto PAYMENT-SIGNATURE from anyone never panics, is
// refused as invalid_payment or decoded, and what is decoded re-decodes
// from its stored JSON to the same authorization (what is stored and sent
// to a facilitator is what was verified).
func FuzzDecodeUpto(f *testing.F) {
	raw, err := os.ReadFile("testdata/upto_viem.json")
	if err != nil {
		f.Fatal(err)
	}
	var vec struct {
		Requirement json.RawMessage `json:"requirement"`
		Payload     struct {
			Payload json.RawMessage `json:"payload"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(raw, &vec); err != nil {
		f.Fatal(err)
	}
	f.Add(base64.StdEncoding.EncodeToString([]byte(`{"x402Version":2,"accepted":` + string(vec.Requirement) +
		`,"payload":` + string(vec.Payload.Payload) + `}`)))
	f.Add(signedUpto(f, mustKey(f), baseSepolia(), 1000, nil))
	f.Add("")
	f.Fuzz(func(t *testing.T, header string) {
		p, err := x402.DecodeUpto(header)
		if err != nil {
			if meter.ErrorCode(err) != meter.ECodeInvalidPayment {
				t.Fatalf("refusal %v is not invalid_payment", err)
			}
			return
		}
		q, err := x402.DecodeUptoJSON(p.JSON)
		if err != nil {
			t.Fatalf("stored JSON %s does not decode: %v", p.JSON, err)
		}
		if q.Key() != p.Key() || string(q.JSON) != string(p.JSON) || q.Permit.Amount.Cmp(p.Permit.Amount) != 0 ||
			q.Permit.Deadline.Cmp(p.Permit.Deadline) != 0 || q.Permit.To != p.Permit.To || q.Permit.Facilitator != p.Permit.Facilitator {
			t.Fatalf("round trip changed the authorization: %+v → %+v", p.Permit, q.Permit)
		}
	})
}
