package x402

import (
	"bytes"
	"encoding/json"
	"math/big"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/paymeter/paymeter/internal/meter"
)

// The `upto` scheme on EVM (x402 v2 only): the payer signs a Permit2
// PermitWitnessTransferFrom of up to the quoted amount, with the x402 upto
// proxy as spender and a witness naming payTo and the one address allowed
// to settle it (the facilitator: paymeter's relayer, or an x402
// facilitator's signer). After the request is metered, that address calls
// the proxy's settle(permit, amount, owner, witness, signature) with the
// metered cost, at most the signed maximum (docs/design.md §5).

// SchemeUpto is the x402 scheme that settles the metered cost.
const SchemeUpto = "upto"

// AssetTransferPermit2 is the extra.assetTransferMethod of an upto
// requirement: Permit2 is its only method.
const AssetTransferPermit2 = "permit2"

// Permit2Address and UptoProxyAddress are the canonical Permit2 and x402
// upto proxy contracts, at the same address on every EVM chain (CREATE2).
var (
	Permit2Address   = common.HexToAddress("0x000000000022D473030F116dDEE9F6B43aC78BA3")
	UptoProxyAddress = common.HexToAddress("0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002")
)

// maxUptoSignature bounds a signature: 65 bytes for an account, more for a
// smart wallet (EIP-1271), never the whole header.
const maxUptoSignature = 2048

// UptoPayloadJSON is the payload of an upto payment as sent.
type UptoPayloadJSON struct {
	Signature            string                   `json:"signature"`
	Permit2Authorization Permit2AuthorizationJSON `json:"permit2Authorization"`
}

// Permit2AuthorizationJSON is a PermitWitnessTransferFrom as sent. The
// nonce is a uint256: decimal from @x402/evm, 0x-hex in the spec's example.
type Permit2AuthorizationJSON struct {
	From      string               `json:"from"`
	Permitted TokenPermissionsJSON `json:"permitted"`
	Spender   string               `json:"spender"`
	Nonce     string               `json:"nonce"`
	Deadline  Uint                 `json:"deadline"`
	Witness   UptoWitnessJSON      `json:"witness"`
}

// TokenPermissionsJSON is Permit2's TokenPermissions.
type TokenPermissionsJSON struct {
	Token  string `json:"token"`
	Amount Uint   `json:"amount"`
}

// UptoWitnessJSON is the upto proxy's witness.
type UptoWitnessJSON struct {
	To          string `json:"to"`
	Facilitator string `json:"facilitator"`
	ValidAfter  Uint   `json:"validAfter"`
}

// uptoPaymentV2 is a decoded PAYMENT-SIGNATURE of the upto scheme. The
// payload is decoded apart, strictly: every field it signs, nothing else.
type uptoPaymentV2 struct {
	X402Version int             `json:"x402Version"`
	Resource    *Resource       `json:"resource,omitempty"`
	Accepted    Requirement     `json:"accepted"`
	Payload     json.RawMessage `json:"payload"`
	Extensions  json.RawMessage `json:"extensions,omitempty"`
}

// canonicalUpto is what is stored and sent to a facilitator: the payment
// as verified, encoded anew.
type canonicalUpto struct {
	X402Version int             `json:"x402Version"`
	Resource    *Resource       `json:"resource,omitempty"`
	Accepted    Requirement     `json:"accepted"`
	Payload     UptoPayloadJSON `json:"payload"`
	Extensions  json.RawMessage `json:"extensions,omitempty"`
}

// Permit2Authorization is a decoded PermitWitnessTransferFrom with the
// upto witness.
type Permit2Authorization struct {
	From        common.Address
	Token       common.Address
	Amount      *big.Int // the signed maximum, atomic units
	Spender     common.Address
	Nonce       *big.Int // Permit2's unordered nonce
	Deadline    *big.Int // Unix seconds
	To          common.Address
	Facilitator common.Address
	ValidAfter  *big.Int // Unix seconds
}

// UptoPayment is a decoded upto payment, before verification.
type UptoPayment struct {
	// Network is the CAIP-2 id the client named, ChainID its chain id.
	Network  string
	ChainID  int64
	Accepted Requirement
	Permit   Permit2Authorization
	// Signature is the payer's, over the Permit2 EIP-712 document.
	Signature []byte
	// JSON is the payment as verified, re-encoded (see Payment.JSON).
	JSON json.RawMessage
}

// Key identifies an upto authorization for replay protection. A Permit2
// nonce is single use per owner across every token (Permit2's nonce
// bitmap is keyed by owner alone), so the token is not part of the key: a
// nonce signed for one token cannot be spent on another either.
func (p *UptoPayment) Key() string { return p.keyOf(p.Permit.From.Hex()) }

// keyOf is Key with the payer's checksummed address given.
func (p *UptoPayment) keyOf(from string) string {
	return "eip155:" + strconv.FormatInt(p.ChainID, 10) + "/permit2/" + from + "/" + p.Permit.Nonce.String()
}

// IsUpto reports whether a v2 payment header names the upto scheme, so
// that the caller decodes it with DecodeUpto. Anything undecodable is
// left to DecodePayment to refuse.
func IsUpto(header string) bool {
	if len(header) > MaxHeaderBytes {
		return false
	}
	raw, err := decodeBase64(header)
	if err != nil {
		return false
	}
	var fast canonicalUpto
	if fastUpto(raw, &fast) {
		// The plain shape: its scheme is the one json.Unmarshal reads.
		return fast.Accepted.Scheme == SchemeUpto
	}
	return isUptoJSON(raw)
}

// isUptoJSON is IsUpto for any JSON.
func isUptoJSON(raw []byte) bool {
	var v struct {
		Accepted struct {
			Scheme string `json:"scheme"`
		} `json:"accepted"`
	}
	return json.Unmarshal(raw, &v) == nil && v.Accepted.Scheme == SchemeUpto
}

// DecodeUpto decodes a PAYMENT-SIGNATURE header of the upto scheme. It
// checks the shape only (sizes, exact field names, addresses of 20 bytes,
// uint256 values); VerifyUpto checks the rest.
func DecodeUpto(header string) (*UptoPayment, error) {
	if len(header) > MaxHeaderBytes {
		return nil, Invalid(ReasonInvalidPayload, "payment header longer than %d bytes", MaxHeaderBytes)
	}
	raw, err := decodeBase64(header)
	if err != nil {
		return nil, Invalid(ReasonInvalidPayload, "payment header is not base64")
	}
	return DecodeUptoJSON(raw)
}

// DecodeUptoJSON decodes an upto payment as stored: its JSON. The plain
// shape takes a one-pass fast path (upto_fast.go); anything else, and
// every refusal, goes through the general strict decoder.
func DecodeUptoJSON(raw []byte) (*UptoPayment, error) {
	var v canonicalUpto
	if fastUpto(raw, &v) {
		if p := finishFastUpto(raw, &v); p != nil {
			return p, nil
		}
	}
	return decodeUptoSlow(raw)
}

// finishFastUpto is the rest of DecodeUptoJSON for a payment fastUpto
// read; nil for anything it would refuse, which decodeUptoSlow refuses
// with its reason.
func finishFastUpto(raw []byte, v *canonicalUpto) *UptoPayment {
	if v.X402Version != 2 || v.Accepted.Scheme != SchemeUpto {
		return nil
	}
	id, err := ParseCAIP2(v.Accepted.Network)
	if err != nil {
		return nil
	}
	p := &UptoPayment{Network: v.Accepted.Network, ChainID: id, Accepted: v.Accepted}
	if p.setPermit(&v.Payload) != nil {
		return nil
	}
	v.Payload.Permit2Authorization.Nonce = p.Permit.Nonce.String()
	p.JSON = appendCanonicalUpto(make([]byte, 0, len(raw)+64), v)
	return p
}

// UptoHeader is a PAYMENT-SIGNATURE header that names the upto scheme,
// decoded once (ParseUptoHeader): what DecodeUpto gives for it.
type UptoHeader struct {
	payment *UptoPayment
	err     error
}

// ParseUptoHeader is IsUpto and, for an upto payment, DecodeUpto, with
// the header read once: ok is IsUpto(header).
func ParseUptoHeader(header string) (h *UptoHeader, ok bool) {
	if len(header) > MaxHeaderBytes {
		return nil, false
	}
	raw, err := decodeBase64(header)
	if err != nil {
		return nil, false
	}
	var v canonicalUpto
	if fastUpto(raw, &v) {
		if v.Accepted.Scheme != SchemeUpto {
			return nil, false
		}
		if p := finishFastUpto(raw, &v); p != nil {
			return &UptoHeader{payment: p}, true
		}
	} else if !isUptoJSON(raw) {
		return nil, false
	}
	p, err := decodeUptoSlow(raw)
	return &UptoHeader{payment: p, err: err}, true
}

// decodeUptoSlow is the general strict decoder: any JSON, every check.
func decodeUptoSlow(raw []byte) (*UptoPayment, error) {
	if err := checkKeys(raw); err != nil {
		return nil, Invalid(ReasonInvalidPayload, "payment: %v", err)
	}
	var v uptoPaymentV2
	if err := strictJSON(raw, &v); err != nil {
		return nil, Invalid(ReasonInvalidPayload, "payment header is not an x402 v2 payment: %v", err)
	}
	if v.X402Version != 2 {
		return nil, Invalid(ReasonInvalidVersion, "the upto scheme is x402 v2 only; the payment carries x402Version %d", v.X402Version)
	}
	if v.Accepted.Scheme != SchemeUpto {
		return nil, Invalid(ReasonUnsupportedScheme, "scheme %q is not upto", v.Accepted.Scheme)
	}
	id, err := ParseCAIP2(v.Accepted.Network)
	if err != nil {
		return nil, Invalid(ReasonInvalidNetwork, "%v", err)
	}
	var pj UptoPayloadJSON
	dec := json.NewDecoder(bytes.NewReader(v.Payload))
	dec.DisallowUnknownFields() // the payload is what is signed: its shape is exact
	if err := dec.Decode(&pj); err != nil || dec.More() {
		return nil, Invalid(ReasonInvalidPayload, "payload is not an upto Permit2 payload: %v", errOr(err, "trailing data"))
	}
	p := &UptoPayment{Network: v.Accepted.Network, ChainID: id, Accepted: v.Accepted}
	if err := p.setPermit(&pj); err != nil {
		return nil, err
	}
	pj.Permit2Authorization.Nonce = p.Permit.Nonce.String() // one spelling stored and sent: decimal
	b, err := json.Marshal(canonicalUpto{X402Version: 2, Resource: v.Resource, Accepted: v.Accepted, Payload: pj, Extensions: v.Extensions})
	if err != nil {
		return nil, Invalid(ReasonInvalidPayload, "payment: %v", err)
	}
	p.JSON = b
	return p, nil
}

func errOr(err error, fallback string) string {
	if err != nil {
		return err.Error()
	}
	return fallback
}

// setPermit converts the payload's fields, refusing any of the wrong shape.
func (p *UptoPayment) setPermit(pj *UptoPayloadJSON) error {
	a := &pj.Permit2Authorization
	addrs := []struct {
		name string
		s    string
		dst  *common.Address
	}{
		{"permit2Authorization.from", a.From, &p.Permit.From},
		{"permit2Authorization.permitted.token", a.Permitted.Token, &p.Permit.Token},
		{"permit2Authorization.spender", a.Spender, &p.Permit.Spender},
		{"permit2Authorization.witness.to", a.Witness.To, &p.Permit.To},
		{"permit2Authorization.witness.facilitator", a.Witness.Facilitator, &p.Permit.Facilitator},
	}
	for _, f := range addrs {
		addr, ok := parseAddress(f.s)
		if !ok {
			return Invalid(ReasonInvalidPayload, "%s is not an address of 20 bytes", f.name)
		}
		*f.dst = addr
	}
	nonce, ok := parsePermit2Nonce(a.Nonce)
	if !ok {
		return Invalid(ReasonInvalidPayload, "permit2Authorization.nonce is not a uint256 (decimal, or 0x and 64 hex digits)")
	}
	sig, ok := parseHex(pj.Signature)
	if !ok || len(sig) < 65 || len(sig) > maxUptoSignature {
		return Invalid(ReasonInvalidPayload, "signature is not hex of 65 to %d bytes", maxUptoSignature)
	}
	if a.Deadline.Sign() == 0 || a.Permitted.Amount.Sign() == 0 {
		// A missing field decodes as zero; neither is ever valid.
		return Invalid(ReasonInvalidPayload, "permit2Authorization lacks a deadline or a permitted amount")
	}
	p.Permit.Amount, p.Permit.Deadline = &a.Permitted.Amount.Int, &a.Deadline.Int
	p.Permit.ValidAfter, p.Permit.Nonce = &a.Witness.ValidAfter.Int, nonce
	p.Signature = sig
	return nil
}

// parsePermit2Nonce reads a uint256 nonce: decimal digits, as @x402/evm
// sends it, or 0x and exactly 64 hex digits, as the spec's example does.
func parsePermit2Nonce(s string) (*big.Int, bool) {
	if len(s) == 66 && (s[:2] == "0x" || s[:2] == "0X") {
		b, ok := parseHex(s)
		if !ok {
			return nil, false
		}
		return new(big.Int).SetBytes(b), true
	}
	var u Uint
	if err := u.UnmarshalJSON([]byte(strconv.Quote(s))); err != nil {
		return nil, false
	}
	return &u.Int, true
}

// UptoOffer is the upto side of a 402: the most the request may cost
// (its worst case, raised to the smallest amount settled), and, for each
// network that offers upto, the one address that will settle it.
type UptoOffer struct {
	Amount            meter.USDC
	MaxTimeoutSeconds int
	Facilitators      map[*Network]common.Address
}

// uptoRequirements are the upto entries of a v2 accepts list, after the
// exact ones, in the order of the networks.
func (c *Challenge) uptoRequirements() []Requirement {
	if c.Upto == nil {
		return nil
	}
	var out []Requirement
	for _, n := range c.Networks {
		if _, ok := c.Upto.Facilitators[n]; ok {
			out = append(out, c.UptoRequirement(n))
		}
	}
	return out
}

// UptoRequirement is the v2 upto requirement for one network: its amount
// is the most the request may cost, its facilitatorAddress the address
// that will settle it (the permit's witness must name it).
func (c *Challenge) UptoRequirement(n *Network) Requirement {
	return Requirement{
		Scheme: SchemeUpto, Network: n.CAIP2(), Amount: amountString(c.Upto.Amount), Asset: n.Asset.Hex(),
		PayTo: n.PayTo.Hex(), MaxTimeoutSeconds: c.Upto.MaxTimeoutSeconds,
		Extra: &TokenDomain{Name: n.TokenName, Version: n.TokenVersion,
			AssetTransferMethod: AssetTransferPermit2, FacilitatorAddress: c.Upto.Facilitators[n].Hex()},
	}
}

// UptoSettleResponse is the receipt of an upto payment (the upto spec's
// SettlementResponse): amount is what is settled, in atomic units. A
// stream's receipt goes out before its cost is known, without amount.
type UptoSettleResponse struct {
	Success     bool   `json:"success"`
	ErrorReason string `json:"errorReason,omitempty"`
	Transaction string `json:"transaction"`
	Network     string `json:"network"`
	Payer       string `json:"payer,omitempty"`
	Amount      string `json:"amount,omitempty"`
}

// encodePermitJSON is the payload of p as sent, for tests and clients.
func encodePermitJSON(a *Permit2Authorization, sig []byte) UptoPayloadJSON {
	return UptoPayloadJSON{
		Signature: hexutil.Encode(sig),
		Permit2Authorization: Permit2AuthorizationJSON{
			From:      a.From.Hex(),
			Permitted: TokenPermissionsJSON{Token: a.Token.Hex(), Amount: Uint{*a.Amount}},
			Spender:   a.Spender.Hex(), Nonce: a.Nonce.String(), Deadline: Uint{*a.Deadline},
			Witness: UptoWitnessJSON{To: a.To.Hex(), Facilitator: a.Facilitator.Hex(),
				ValidAfter: Uint{*a.ValidAfter}},
		},
	}
}
