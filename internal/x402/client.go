package x402

import (
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// The payer's side of the protocol, for Go clients of paymeter: its load
// driver and its tests. Browsers and agents use the npm clients.

// NewAuthorization authorizes a transfer of value from the key's address to
// n.PayTo, valid from a minute ago for validFor, with a random nonce.
func NewAuthorization(key *ecdsa.PrivateKey, n *Network, value int64, now time.Time, validFor time.Duration) Authorization {
	a := Authorization{
		From:        crypto.PubkeyToAddress(key.PublicKey),
		To:          n.PayTo,
		Value:       big.NewInt(value),
		ValidAfter:  big.NewInt(now.Add(-time.Minute).Unix()),
		ValidBefore: big.NewInt(now.Add(validFor).Unix()),
	}
	rand.Read(a.Nonce[:])
	return a
}

// Sign signs a on n with EIP-712, v as 27/28 as wallets produce it.
func Sign(key *ecdsa.PrivateKey, n *Network, a *Authorization) ([]byte, error) {
	digest, err := Digest(n, a)
	if err != nil {
		return nil, err
	}
	sig, err := crypto.Sign(digest[:], key)
	if err != nil {
		return nil, err
	}
	sig[64] += 27
	return sig, nil
}

func exactPayload(a *Authorization, sig []byte) ExactPayload {
	return ExactPayload{
		Signature: hexutil.Encode(sig),
		Authorization: AuthorizationJSON{
			From: a.From.Hex(), To: a.To.Hex(), Nonce: hexutil.Encode(a.Nonce[:]),
			Value: Uint{*a.Value}, ValidAfter: Uint{*a.ValidAfter}, ValidBefore: Uint{*a.ValidBefore},
		},
	}
}

// EncodePaymentV1 returns an X-PAYMENT header value.
func EncodePaymentV1(n *Network, a *Authorization, sig []byte) string {
	return encodeJSON(PaymentPayloadV1{X402Version: 1, Scheme: SchemeExact, Network: n.Name, Payload: exactPayload(a, sig)})
}

// EncodePaymentV2 returns a PAYMENT-SIGNATURE header value paying accepted.
func EncodePaymentV2(accepted Requirement, resource *Resource, a *Authorization, sig []byte) string {
	return encodeJSON(PaymentPayloadV2{X402Version: 2, Resource: resource, Accepted: accepted, Payload: exactPayload(a, sig)})
}

// DecodeReceipt decodes an X-PAYMENT-RESPONSE or PAYMENT-RESPONSE value.
func DecodeReceipt(header string) (*SettleResponse, error) {
	raw, err := decodeBase64(header)
	if err != nil {
		return nil, err
	}
	var r SettleResponse
	if err := strictJSON(raw, &r); err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	return &r, nil
}

func encodeJSON(v any) string {
	b, _ := json.Marshal(v) // plain structs: cannot fail
	return base64.StdEncoding.EncodeToString(b)
}
