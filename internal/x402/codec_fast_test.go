package x402

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// codecSeeds are payments of both versions as clients send them, and
// hostile variants of them: keys in other cases or twice, escapes,
// Unicode, deep nesting, HTML characters, extensions.
func codecSeeds(tb testing.TB) [][]byte {
	key, err := crypto.GenerateKey()
	if err != nil {
		tb.Fatal(err)
	}
	n := &Network{Name: "base-sepolia", ChainID: 84532, TokenName: "USDC", TokenVersion: "2",
		Asset: common.HexToAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e"),
		PayTo: common.HexToAddress("0x209693Bc6afc0C5328bA36FaF03C514EF312287C")}
	raw := func(header string) []byte {
		b, err := base64.StdEncoding.DecodeString(header)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	v1 := raw(seedPayment(tb, key, n, 1, nil))
	v2 := raw(seedPayment(tb, key, n, 2, &Resource{URL: "https://api.example/v1/chat", Description: "inference: <a> & \u2028 é", MimeType: "application/json"}))
	withID := bytes.Replace(v2, []byte(`"payload":`), []byte(`"extensions":{"payment-identifier":{"info":{"id":"pay_0123456789abcdef"},"x":"<&>"}}, "payload":`), 1)
	seeds := [][]byte{v1, v2, withID,
		bytes.Replace(v1, []byte(`"scheme"`), []byte(`"Scheme"`), 1),
		bytes.Replace(v1, []byte(`"scheme"`), []byte(`"\u0073cheme"`), 1),
		bytes.Replace(v1, []byte(`"scheme"`), []byte(`"ſcheme"`), 1),
		bytes.Replace(v1, []byte(`"to":`), []byte(`"to":"0x0000000000000000000000000000000000000001","to":`), 1),
		bytes.Replace(v1, []byte(`"value":"`), []byte(`"value":"000`), 1),
		bytes.Replace(v1, []byte(`"value":"`), []byte(`"VALUE":"1","value":"`), 1),
		bytes.Replace(v1, []byte(`{`), []byte(` { `), 2),
		bytes.Replace(v2, []byte(`"accepted":{`), []byte(`"accepted":{"extra":null,`), 1),
		bytes.Replace(v2, []byte(`"payload":`), []byte(`"extensions":null,"payload":`), 1),
		append(append([]byte(nil), v1...), '}'),
		[]byte(`{"x402Version":1,"a":` + strings.Repeat(`[`, 20) + strings.Repeat(`]`, 20) + `}`),
		[]byte(`{"x402Version":1,"a":` + strings.Repeat(`{"b":`, 15) + `1` + strings.Repeat(`}`, 15) + `}`),
		[]byte(`{"x402Version":1,"a":` + strings.Repeat(`{"b":`, 16) + `{}` + strings.Repeat(`}`, 16) + `}`),
		[]byte(`{"x402Version":2,"Extensions":{}}`),
		[]byte(`{"x402Version":2,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k17":17,"k18":18,"k19":19,"k20":20,"k21":21,"k22":22,"k23":23,"k24":24,"k25":25,"k26":26,"k27":27,"k28":28,"k29":29,"k30":30,"k31":31,"k32":32,"k33":33,"k1":0}`),
		[]byte(`[]`), []byte(`"x"`), []byte(`{}`), []byte(`{"":1,"":2}`),
	}
	return seeds
}

func seedPayment(tb testing.TB, key *ecdsa.PrivateKey, n *Network, version int, resource *Resource) string {
	a := NewAuthorization(key, n, 2500, time.Unix(1_790_000_000, 0), time.Minute)
	sig, err := Sign(key, n, &a)
	if err != nil {
		tb.Fatal(err)
	}
	if version == 1 {
		return EncodePaymentV1(n, &a, sig)
	}
	return EncodePaymentV2((&Challenge{Amount: 2500, MaxTimeoutSeconds: 60}).Requirement(n), resource, &a, sig)
}

// cleanKeys says "clean" only of documents checkKeys accepts.
func FuzzCleanKeys(f *testing.F) {
	for _, s := range codecSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if json.Valid(raw) && cleanKeys(raw) {
			if err := checkKeys(raw); err != nil {
				t.Fatalf("cleanKeys accepted %q, which checkKeys refuses: %v", raw, err)
			}
		}
	})
}

// For valid JSON, json.Unmarshal decodes a payment as strictJSON does:
// the same value, or the same error.
func FuzzUnmarshalIsStrict(f *testing.F) {
	for _, s := range codecSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		for _, mk := range []func() any{func() any { return new(PaymentPayloadV1) }, func() any { return new(PaymentPayloadV2) }} {
			a, b := mk(), mk()
			errA, errB := json.Unmarshal(raw, a), strictJSON(raw, b)
			if fmt.Sprint(errA) != fmt.Sprint(errB) || !reflect.DeepEqual(a, b) {
				t.Fatalf("%q: Unmarshal %+v %v, strictJSON %+v %v", raw, a, errA, b, errB)
			}
		}
	})
}

// appendPayment writes what json.Marshal writes, for whatever a payment
// decodes to.
func FuzzAppendPayment(f *testing.F) {
	for _, s := range codecSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, v := range []any{new(PaymentPayloadV1), new(PaymentPayloadV2)} {
			if json.Unmarshal(raw, v) != nil {
				continue
			}
			want, err := json.Marshal(v)
			if err != nil {
				continue
			}
			if got := appendPayment(nil, v); !bytes.Equal(got, want) {
				t.Fatalf("%q:\nappendPayment %s\njson.Marshal  %s", raw, got, want)
			}
		}
	})
}

// The seeds decode, or are refused, by the fast forms as by the slow.
func TestCodecFastFormsAgreeOnSeeds(t *testing.T) {
	for _, raw := range codecSeeds(t) {
		if json.Valid(raw) && cleanKeys(raw) && checkKeys(raw) != nil {
			t.Errorf("cleanKeys accepted %q", raw)
		}
		if !json.Valid(raw) || checkKeys(raw) != nil {
			continue
		}
		for _, v := range []any{new(PaymentPayloadV1), new(PaymentPayloadV2)} {
			if json.Unmarshal(raw, v) != nil {
				continue
			}
			want, _ := json.Marshal(v)
			if got := appendPayment(nil, v); !bytes.Equal(got, want) {
				t.Errorf("%q:\nappendPayment %s\njson.Marshal  %s", raw, got, want)
			}
		}
	}
	// The client's own payments are clean, and re-encode to themselves.
	key, _ := crypto.GenerateKey()
	n := &Network{Name: "base-sepolia", ChainID: 84532, TokenName: "USDC", TokenVersion: "2",
		Asset: common.HexToAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e"),
		PayTo: common.HexToAddress("0x209693Bc6afc0C5328bA36FaF03C514EF312287C")}
	for version := 1; version <= 2; version++ {
		h := seedPayment(t, key, n, version, nil)
		raw, _ := base64.StdEncoding.DecodeString(h)
		if !cleanKeys(raw) {
			t.Errorf("v%d payment not clean: %s", version, raw)
		}
		p, err := DecodePayment(version, h)
		if err != nil || !bytes.Equal(p.JSON, raw) {
			t.Errorf("v%d: %v\n%s\n%s", version, err, p.JSON, raw)
		}
	}
}

// transferHash is the struct hash apitypes computes, for any amounts
// and times a uint256 holds.
func FuzzTransferHash(f *testing.F) {
	f.Add([]byte{1}, []byte{}, []byte{0xff}, []byte("nonce"))
	f.Add(bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{0xff}, 32), []byte{})
	n := &Network{Name: "base-sepolia", ChainID: 84532, TokenName: "USDC", TokenVersion: "2",
		Asset: common.HexToAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e"),
		PayTo: common.HexToAddress("0x209693Bc6afc0C5328bA36FaF03C514EF312287C")}
	f.Fuzz(func(t *testing.T, value, after, before, nonce []byte) {
		if len(value) > 32 || len(after) > 32 || len(before) > 32 {
			return
		}
		a := Authorization{From: common.BytesToAddress(nonce), To: n.PayTo, Value: new(big.Int).SetBytes(value),
			ValidAfter: new(big.Int).SetBytes(after), ValidBefore: new(big.Int).SetBytes(before)}
		copy(a.Nonce[:], nonce)
		td := TypedData(n, &a)
		want, err := td.HashStruct(td.PrimaryType, td.Message)
		got, ok := transferHash(&a)
		if err != nil || !ok || !bytes.Equal(got[:], want) {
			t.Fatalf("transferHash %x %v, apitypes %x %v", got, ok, want, err)
		}
	})
}
