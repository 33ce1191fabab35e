package x402

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/paymeter/paymeter/internal/meter"
)

// Headers of both protocol versions.
const (
	HeaderPaymentV1  = "X-PAYMENT"          // v1 payment, client → server
	HeaderResponseV1 = "X-PAYMENT-RESPONSE" // v1 receipt, server → client
	HeaderPaymentV2  = "PAYMENT-SIGNATURE"  // v2 payment, client → server
	HeaderRequired   = "PAYMENT-REQUIRED"   // v2 requirements on a 402
	HeaderResponseV2 = "PAYMENT-RESPONSE"   // v2 receipt, server → client
)

// MaxHeaderBytes caps a payment header before it is decoded. An EOA payment
// is about 600 bytes; the cap leaves room for smart-wallet signatures.
const MaxHeaderBytes = 8 << 10

// Payment is a decoded payment of either version, before verification.
type Payment struct {
	Version int
	Scheme  string
	// Network is the network as the client named it: a v1 name or, in v2,
	// a CAIP-2 id. ChainID is the chain id it stands for.
	Network string
	ChainID int64
	// Accepted is, in v2, the requirement the client says it paid for.
	Accepted      *Requirement
	Authorization Authorization
	Signature     []byte
	// JSON is the payment as decoded and verified, encoded anew: what is
	// stored and what a facilitator is sent, so that it reads exactly the
	// fields paymeter checked (never a duplicate key or a field in another
	// case that its parser might prefer).
	JSON json.RawMessage

	payer string // Authorization.From checksummed, once (PayerHex)
}

// PayerHex is the payer's address, checksummed: computed once, as a
// checksum costs a Keccak-256.
func (p *Payment) PayerHex() string {
	if p.payer == "" {
		p.payer = p.Authorization.From.Hex()
	}
	return p.payer
}

// Authorization is an EIP-3009 TransferWithAuthorization.
type Authorization struct {
	From, To    common.Address
	Value       *big.Int
	ValidAfter  *big.Int
	ValidBefore *big.Int
	Nonce       [32]byte
}

// Key identifies a payment for replay protection: an EIP-3009 nonce is
// single-use per (chain, token, payer).
func (p *Payment) Key(asset common.Address) string {
	return fmt.Sprintf("eip155:%d/%s/%s/0x%x", p.ChainID, networkHex(asset), p.PayerHex(), p.Authorization.Nonce)
}

// Invalid returns a 402 invalid_payment error carrying an x402 reason.
func Invalid(reason, format string, args ...any) *meter.Error {
	return meter.Errorf(meter.ECodeInvalidPayment, format, args...).WithDetail("reason", reason)
}

// DecodePayment decodes a payment header: version 1 for X-PAYMENT, 2 for
// PAYMENT-SIGNATURE. It checks the shape only; Verifier checks the rest.
func DecodePayment(version int, header string) (*Payment, error) {
	if len(header) > MaxHeaderBytes {
		return nil, Invalid(ReasonInvalidPayload, "payment header longer than %d bytes", MaxHeaderBytes)
	}
	raw, err := decodeBase64(header)
	if err != nil {
		return nil, Invalid(ReasonInvalidPayload, "payment header is not base64")
	}
	return decodePaymentJSON(version, raw)
}

// DecodePaymentJSON decodes a payment as stored: its JSON, of whichever
// version it names.
func DecodePaymentJSON(raw []byte) (*Payment, error) {
	var v struct {
		X402Version int `json:"x402Version"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, Invalid(ReasonInvalidPayload, "payment is not JSON")
	}
	return decodePaymentJSON(v.X402Version, raw)
}

func decodePaymentJSON(version int, raw []byte) (*Payment, error) {
	return decodePaymentWith(version, raw, true)
}

// decodePaymentWith is decodePaymentJSON, trying the one-pass decoder of
// the plain shape first when fast (codec_exact_fast.go).
func decodePaymentWith(version int, raw []byte, fast bool) (*Payment, error) {
	p := &Payment{Version: version}
	var payload ExactPayload
	var canonical any
	switch version {
	case 1:
		var v PaymentPayloadV1
		if !fast || !fastExactV1(raw, &v) {
			keys, err := decodeGeneral(raw, &v)
			if keys != nil {
				return nil, Invalid(ReasonInvalidPayload, "payment: %v", keys)
			}
			if err != nil {
				return nil, Invalid(ReasonInvalidPayload, "payment header is not an x402 v1 payment: %v", err)
			}
		}
		if v.X402Version != 1 {
			return nil, Invalid(ReasonInvalidVersion, "%s carries x402Version %d; it must be 1", HeaderPaymentV1, v.X402Version)
		}
		p.Scheme, p.Network, payload, canonical = v.Scheme, v.Network, v.Payload, &v
		id, ok := ChainIDOf(v.Network)
		if !ok {
			return nil, Invalid(ReasonInvalidNetwork, "network %q is not an x402 v1 EVM network", v.Network)
		}
		p.ChainID = id
	case 2:
		var v PaymentPayloadV2
		if !fast || !fastExactV2(raw, &v) {
			keys, err := decodeGeneral(raw, &v)
			if keys != nil {
				return nil, Invalid(ReasonInvalidPayload, "payment: %v", keys)
			}
			if err != nil {
				return nil, Invalid(ReasonInvalidPayload, "payment header is not an x402 v2 payment: %v", err)
			}
		}
		if v.X402Version != 2 {
			return nil, Invalid(ReasonInvalidVersion, "%s carries x402Version %d; it must be 2", HeaderPaymentV2, v.X402Version)
		}
		p.Scheme, p.Network, payload, p.Accepted, canonical = v.Accepted.Scheme, v.Accepted.Network, v.Payload, &v.Accepted, &v
		id, err := ParseCAIP2(v.Accepted.Network)
		if err != nil {
			return nil, Invalid(ReasonInvalidNetwork, "%v", err)
		}
		p.ChainID = id
	default:
		return nil, Invalid(ReasonInvalidVersion, "x402 version %d is not supported", version)
	}
	if p.Scheme != SchemeExact {
		return nil, Invalid(ReasonUnsupportedScheme, "scheme %q is not supported; pay with %q", p.Scheme, SchemeExact)
	}
	if err := p.setAuthorization(&payload); err != nil {
		return nil, err
	}
	b := appendPayment(make([]byte, 0, len(raw)), canonical)
	if b == nil {
		var err error
		if b, err = json.Marshal(canonical); err != nil {
			return nil, Invalid(ReasonInvalidPayload, "payment: %v", err)
		}
	}
	p.JSON = b
	return p, nil
}

// decodeGeneral decodes one JSON object into v. Keys that differ only in
// case, or repeat, are refused first (keys; cleanKeys, checkKeys), then
// anything json.Unmarshal refuses and trailing data (err).
func decodeGeneral(raw []byte, v any) (keys, err error) {
	valid := json.Valid(raw)
	if !valid || !cleanKeys(raw) { // codec_fast.go
		if err := checkKeys(raw); err != nil {
			return err, nil
		}
	}
	if valid { // one JSON value and nothing after it: what strictJSON checks, in one pass
		return nil, json.Unmarshal(raw, v)
	}
	return nil, strictJSON(raw, v)
}

func (p *Payment) setAuthorization(e *ExactPayload) error {
	a := &e.Authorization
	from, ok := parseAddress(a.From)
	if !ok {
		return Invalid(ReasonInvalidPayload, "authorization.from is not an address")
	}
	to, ok := parseAddress(a.To)
	if !ok {
		return Invalid(ReasonInvalidPayload, "authorization.to is not an address")
	}
	nonce, ok := parseHex(a.Nonce)
	if !ok || len(nonce) != 32 {
		return Invalid(ReasonInvalidPayload, "authorization.nonce is not 32 bytes of hex")
	}
	sig, ok := parseHex(e.Signature)
	if !ok || len(sig) < 65 {
		return Invalid(ReasonInvalidPayload, "signature is not hex of at least 65 bytes")
	}
	if a.ValidBefore.Sign() == 0 {
		// A missing field decodes as zero; a zero validBefore is never valid.
		return Invalid(ReasonInvalidPayload, "authorization lacks validBefore")
	}
	p.Authorization = Authorization{From: from, To: to, Value: &a.Value.Int, ValidAfter: &a.ValidAfter.Int,
		ValidBefore: &a.ValidBefore.Int}
	copy(p.Authorization.Nonce[:], nonce)
	p.Signature = sig
	return nil
}

func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not base64")
}

// strictJSON decodes one JSON object; unknown fields are ignored, as the
// spec lets versions add them, but trailing data is refused.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON object")
	}
	return nil
}

func parseAddress(s string) (common.Address, bool) {
	b, ok := parseHex(s)
	if !ok || len(b) != common.AddressLength {
		return common.Address{}, false
	}
	return common.BytesToAddress(b), true
}

func parseHex(s string) ([]byte, bool) {
	if len(s) < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return nil, false
	}
	b, err := hex.DecodeString(s[2:])
	return b, err == nil
}

// Challenge is what a 402 asks for: one amount, payable on any of the
// configured networks.
type Challenge struct {
	Amount            meter.USDC
	Resource          Resource
	MaxTimeoutSeconds int
	Networks          []*Network
	// Upto, when set, offers the upto scheme beside exact, in v2 only
	// (upto.go).
	Upto *UptoOffer
	// Extensions are declared in the v2 402, by key (sign-in-with-x).
	Extensions map[string]json.RawMessage
}

// AcceptsV1 is the accepts list of the v1 402 body.
func (c *Challenge) AcceptsV1() []RequirementV1 {
	out := make([]RequirementV1, 0, len(c.Networks))
	for _, n := range c.Networks {
		out = append(out, RequirementV1{
			Scheme: SchemeExact, Network: n.Name, MaxAmountRequired: amountString(c.Amount),
			Resource: c.Resource.URL, Description: c.Resource.Description, MimeType: c.Resource.MimeType,
			PayTo: networkHex(n.PayTo), MaxTimeoutSeconds: c.MaxTimeoutSeconds, Asset: networkHex(n.Asset),
			Extra: &TokenDomain{Name: n.TokenName, Version: n.TokenVersion},
		})
	}
	return out
}

// Requirement is the v2 requirement for one network.
func (c *Challenge) Requirement(n *Network) Requirement {
	return Requirement{
		Scheme: SchemeExact, Network: n.CAIP2(), Amount: amountString(c.Amount), Asset: networkHex(n.Asset),
		PayTo: networkHex(n.PayTo), MaxTimeoutSeconds: c.MaxTimeoutSeconds,
		Extra: &TokenDomain{Name: n.TokenName, Version: n.TokenVersion},
	}
}

// HeaderV2 is the value of the PAYMENT-REQUIRED header.
func (c *Challenge) HeaderV2(reason string) string {
	pr := PaymentRequired{X402Version: 2, Error: reason, Resource: c.Resource, Accepts: make([]Requirement, 0, len(c.Networks)),
		Extensions: c.Extensions}
	for _, n := range c.Networks {
		pr.Accepts = append(pr.Accepts, c.Requirement(n))
	}
	pr.Accepts = append(pr.Accepts, c.uptoRequirements()...)
	return encodeJSON(pr)
}

// ParseChallengeV2 decodes a PAYMENT-REQUIRED header value.
func ParseChallengeV2(header string) (*PaymentRequired, error) {
	raw, err := decodeBase64(header)
	if err != nil {
		return nil, err
	}
	var pr PaymentRequired
	if err := strictJSON(raw, &pr); err != nil {
		return nil, err
	}
	return &pr, nil
}

// EncodeReceipt returns the X-PAYMENT-RESPONSE / PAYMENT-RESPONSE value.
func EncodeReceipt(r SettleResponse) string {
	return encodeJSON(r)
}

// ReceiptHeader names the receipt header for a payment's version.
func ReceiptHeader(version int) string {
	if version == 1 {
		return HeaderResponseV1
	}
	return HeaderResponseV2
}

func amountString(u meter.USDC) string { return strconv.FormatInt(int64(u), 10) }
