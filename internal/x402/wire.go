package x402

import (
	"encoding/json"
	"fmt"
	"math/big"
)

// The JSON shapes of the protocol. Field names are the spec's; a struct per
// version where the versions differ.

// SchemeExact is the only scheme paymeter accepts.
const SchemeExact = "exact"

// TokenDomain is the extra data of an exact EVM requirement: the token's
// EIP-712 domain name and version, which the client signs over. An upto
// requirement adds its asset transfer method and the address that will
// settle (upto.go).
type TokenDomain struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// AssetTransferMethod and FacilitatorAddress are an upto
	// requirement's: "permit2", and whom the permit's witness must name.
	AssetTransferMethod string `json:"assetTransferMethod,omitempty"`
	FacilitatorAddress  string `json:"facilitatorAddress,omitempty"`
}

// RequirementV1 is one entry of a v1 402 body's accepts list.
type RequirementV1 struct {
	Scheme            string       `json:"scheme"`
	Network           string       `json:"network"`
	MaxAmountRequired string       `json:"maxAmountRequired"`
	Resource          string       `json:"resource"`
	Description       string       `json:"description"`
	MimeType          string       `json:"mimeType"`
	PayTo             string       `json:"payTo"`
	MaxTimeoutSeconds int          `json:"maxTimeoutSeconds"`
	Asset             string       `json:"asset"`
	Extra             *TokenDomain `json:"extra,omitempty"`
}

// Requirement is one entry of a v2 PAYMENT-REQUIRED accepts list.
type Requirement struct {
	Scheme            string       `json:"scheme"`
	Network           string       `json:"network"`
	Amount            string       `json:"amount"`
	Asset             string       `json:"asset"`
	PayTo             string       `json:"payTo"`
	MaxTimeoutSeconds int          `json:"maxTimeoutSeconds"`
	Extra             *TokenDomain `json:"extra,omitempty"`
}

// Resource describes what a v2 payment buys.
type Resource struct {
	URL         string `json:"url"`
	Description string `json:"description"`
	MimeType    string `json:"mimeType"`
}

// PaymentRequired is the v2 PAYMENT-REQUIRED header, before base64.
type PaymentRequired struct {
	X402Version int           `json:"x402Version"`
	Error       string        `json:"error,omitempty"`
	Resource    Resource      `json:"resource"`
	Accepts     []Requirement `json:"accepts"`
	// Extensions are the extensions the server declares, by key.
	Extensions map[string]json.RawMessage `json:"extensions,omitempty"`
}

// ExactPayload is the payload of an exact EVM payment: the EIP-3009
// authorization and its signature.
type ExactPayload struct {
	Signature     string            `json:"signature"`
	Authorization AuthorizationJSON `json:"authorization"`
}

// AuthorizationJSON is an EIP-3009 TransferWithAuthorization as sent.
type AuthorizationJSON struct {
	From        string `json:"from"`
	To          string `json:"to"`
	Value       Uint   `json:"value"`
	ValidAfter  Uint   `json:"validAfter"`
	ValidBefore Uint   `json:"validBefore"`
	Nonce       string `json:"nonce"`
}

// PaymentPayloadV1 is the decoded X-PAYMENT header.
type PaymentPayloadV1 struct {
	X402Version int          `json:"x402Version"`
	Scheme      string       `json:"scheme"`
	Network     string       `json:"network"`
	Payload     ExactPayload `json:"payload"`
}

// PaymentPayloadV2 is the decoded PAYMENT-SIGNATURE header.
type PaymentPayloadV2 struct {
	X402Version int             `json:"x402Version"`
	Resource    *Resource       `json:"resource,omitempty"`
	Accepted    Requirement     `json:"accepted"`
	Payload     ExactPayload    `json:"payload"`
	Extensions  json.RawMessage `json:"extensions,omitempty"`
}

// SettleResponse is the receipt: the X-PAYMENT-RESPONSE or
// PAYMENT-RESPONSE header before base64, and a facilitator's /settle
// answer.
type SettleResponse struct {
	Success     bool   `json:"success"`
	ErrorReason string `json:"errorReason,omitempty"`
	Transaction string `json:"transaction"`
	Network     string `json:"network"`
	Payer       string `json:"payer,omitempty"`
}

// Uint is a uint256 sent as a decimal string ("1000"). A bare JSON integer
// is accepted too; anything else (signs, fractions, exponents, hex, more
// than 78 digits) is refused.
type Uint struct{ big.Int }

// NewUint returns u as a Uint.
func NewUint(u uint64) Uint {
	var v Uint
	v.SetUint64(u)
	return v
}

// maxUint256 is 2²⁵⁶ − 1.
var maxUint256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// UnmarshalJSON implements json.Unmarshaler.
func (u *Uint) UnmarshalJSON(b []byte) error {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	if len(b) == 0 || len(b) > 78 {
		return fmt.Errorf("not a uint256: %d digits", len(b))
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return fmt.Errorf("not a decimal uint256")
		}
	}
	if _, ok := u.SetString(string(b), 10); !ok || u.Cmp(maxUint256) > 0 {
		return fmt.Errorf("not a uint256")
	}
	return nil
}

// MarshalJSON implements json.Marshaler: a decimal string.
func (u Uint) MarshalJSON() ([]byte, error) { return []byte(`"` + u.String() + `"`), nil }

// String returns the decimal digits.
func (u *Uint) String() string { return u.Int.String() }
