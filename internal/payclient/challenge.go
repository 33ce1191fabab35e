package payclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// Requirement is one requirement of a 402 that this client can pay,
// checked: what it signs and what it shows are the same values.
type Requirement struct {
	Version int    // x402 protocol version, 1 or 2
	Scheme  string // "exact", or "upto" (v2 only)
	// Network is the network as the 402 names it: a v1 name
	// ("base-sepolia") or a v2 CAIP-2 id ("eip155:84532").
	Network string
	ChainID int64
	Asset   common.Address
	PayTo   common.Address
	// Units is the price in the token's atomic units (USDC: 10⁻⁶); of an
	// upto requirement, the most that may be settled.
	Units                   meter.USDC
	TokenName, TokenVersion string
	MaxTimeoutSeconds       int
	// Facilitator is an upto requirement's extra.facilitatorAddress: the
	// only address the permit lets settle it (its witness names it).
	Facilitator common.Address

	v2       *x402.Requirement // as received, echoed in the v2 payment
	resource *x402.Resource
}

// Credits is the price in credits (1 credit = 1 USDC), saturating.
func (r *Requirement) Credits() meter.Amount { return r.Units.Amount() }

// CAIP2 is the requirement's network as a CAIP-2 id.
func (r *Requirement) CAIP2() string { return "eip155:" + strconv.FormatInt(r.ChainID, 10) }

// network is the requirement as the x402 package's signer wants it.
func (r *Requirement) network() *x402.Network {
	return &x402.Network{Name: r.Network, ChainID: r.ChainID, Asset: r.Asset, TokenName: r.TokenName,
		TokenVersion: r.TokenVersion, PayTo: r.PayTo}
}

// maxRequiredHeader bounds the PAYMENT-REQUIRED header before decoding:
// paymeter's, with a few networks, is about 1 KiB.
const maxRequiredHeader = 16 << 10

// maxUnitsDigits keeps a price within int64 (and far above any sane one).
const maxUnitsDigits = 18

// usdcNames are the EIP-712 domain names of USDC: Circle's on Base Sepolia
// (and paymeter's test USDC) and on Base and the other mainnets.
var usdcNames = map[string]bool{"USDC": true, "USD Coin": true}

// maxAccepts bounds how many requirements of a 402 are looked at.
const maxAccepts = 32

// offer is what a 402 offers this client: the requirements it can pay,
// why it cannot pay the others, and its sign-in-with-x declaration.
type offer struct {
	reqs    []*Requirement // payable, v2 first, in the 402's order
	refused []string       // "v2: accepts[1]: …", one per requirement refused
	siwx    json.RawMessage
}

// parseOffer reads the requirements of a 402: the v2 header and the v1
// body (body may be nil). Nothing it refuses is an error yet: which
// requirement is wanted (the version, the scheme) decides (Client.pick).
func parseOffer(h http.Header, body []byte) *offer {
	o := &offer{}
	if v := h.Get(x402.HeaderRequired); v != "" {
		parseV2(o, v)
	}
	if len(body) > 0 {
		if err := parseV1(o, body); err != nil {
			o.refused = append(o.refused, "v1: "+err.Error())
		}
	}
	if len(o.reqs) == 0 && len(o.refused) == 0 {
		o.refused = append(o.refused, "it carries no x402 requirements (no "+x402.HeaderRequired+" header, no accepts in the body)")
	}
	return o
}

func parseV2(o *offer, header string) {
	refuse := func(format string, args ...any) { o.refused = append(o.refused, "v2: "+fmt.Sprintf(format, args...)) }
	if len(header) > maxRequiredHeader {
		refuse("%s is longer than %d bytes", x402.HeaderRequired, maxRequiredHeader)
		return
	}
	pr, err := x402.ParseChallengeV2(header)
	if err != nil {
		refuse("%s is not base64 JSON", x402.HeaderRequired)
		return
	}
	if pr.X402Version != 2 {
		refuse("%s says x402Version %d, not 2", x402.HeaderRequired, pr.X402Version)
		return
	}
	if len(pr.Accepts) == 0 {
		refuse("accepts is empty")
	}
	extras := rawExtras(header)
	for i := range pr.Accepts[:min(len(pr.Accepts), maxAccepts)] {
		a := pr.Accepts[i]
		r, err := checkV2(&a, extras[i])
		if err != nil {
			refuse("accepts[%d]: %v", i, err)
			continue
		}
		r.resource = &pr.Resource
		o.reqs = append(o.reqs, r)
	}
	o.siwx = pr.Extensions[x402.ExtensionSIWX]
}

func checkV2(a *x402.Requirement, extra map[string]json.RawMessage) (*Requirement, error) {
	id, err := x402.ParseCAIP2(a.Network)
	if err != nil {
		return nil, errors.New(printable(err.Error(), 200))
	}
	r := &Requirement{Version: 2, Network: a.Network, ChainID: id, v2: a}
	if a.Scheme == x402.SchemeUpto {
		if err := r.checkUpto(a, extra); err != nil {
			return nil, err
		}
		return r, nil
	}
	if err := r.check(a.Scheme, a.Amount, a.Asset, a.PayTo, a.MaxTimeoutSeconds, a.Extra); err != nil {
		return nil, err
	}
	return r, nil
}

// v1Body is a v1 402 body: x402's {x402Version, accepts, error}, where
// paymeter's error is its error object and the spec's a string.
type v1Body struct {
	X402Version int                  `json:"x402Version"`
	Accepts     []x402.RequirementV1 `json:"accepts"`
}

func parseV1(o *offer, body []byte) error {
	var b v1Body
	if err := json.Unmarshal(body, &b); err != nil {
		return errors.New("the body is not an x402 v1 JSON object")
	}
	if b.X402Version != 1 || len(b.Accepts) == 0 {
		if b.X402Version == 0 && len(b.Accepts) == 0 {
			return nil // not an x402 body; the header may carry v2
		}
		return fmt.Errorf("the body says x402Version %d with %d requirements", b.X402Version, len(b.Accepts))
	}
	for i := range b.Accepts[:min(len(b.Accepts), maxAccepts)] {
		a := &b.Accepts[i]
		id, ok := x402.ChainIDOf(a.Network)
		if !ok {
			o.refused = append(o.refused, fmt.Sprintf("v1: accepts[%d]: network %q is not an x402 v1 EVM network", i, printable(a.Network, 64)))
			continue
		}
		r := &Requirement{Version: 1, Network: a.Network, ChainID: id}
		if err := r.check(a.Scheme, a.MaxAmountRequired, a.Asset, a.PayTo, a.MaxTimeoutSeconds, a.Extra); err != nil {
			o.refused = append(o.refused, fmt.Sprintf("v1: accepts[%d]: %v", i, err))
			continue
		}
		o.reqs = append(o.reqs, r)
	}
	return nil
}

// check validates the fields both versions share and sets them on r.
func (r *Requirement) check(scheme, amount, asset, payTo string, timeout int, extra *x402.TokenDomain) error {
	if scheme != x402.SchemeExact {
		return fmt.Errorf("scheme %q is not %q", printable(scheme, 32), x402.SchemeExact)
	}
	units, err := parseUnits(amount)
	if err != nil {
		return err
	}
	var ok bool
	if r.Asset, ok = parseAddress(asset); !ok {
		return errors.New("asset is not an address")
	}
	if r.PayTo, ok = parseAddress(payTo); !ok {
		return errors.New("payTo is not an address")
	}
	if extra == nil || extra.Name == "" || extra.Version == "" || len(extra.Name) > 64 || len(extra.Version) > 16 {
		return errors.New("extra lacks the token's EIP-712 name and version")
	}
	// Max and the credits shown count USDC units (10⁻⁶ USD). The name is
	// part of the EIP-712 domain signed, so a token by another name (an
	// EIP-3009 token of 8 decimals, whose million units are 0.01 BTC)
	// gets no usable signature from a 402 that names it USDC either.
	if !usdcNames[extra.Name] {
		return fmt.Errorf("token %q is not USDC (its EIP-712 name must be %q or %q)", printable(extra.Name, 64), "USDC", "USD Coin")
	}
	if timeout < int(x402.MinValidity.Seconds())+4 || timeout > 24*3600 {
		return fmt.Errorf("maxTimeoutSeconds %d is outside 10 … 86400", timeout)
	}
	r.Scheme, r.Units, r.TokenName, r.TokenVersion, r.MaxTimeoutSeconds = scheme, units, extra.Name, extra.Version, timeout
	return nil
}

// parseUnits accepts a plain positive decimal integer: no sign, no
// exponent, no fraction, no leading zero, at most 18 digits.
func parseUnits(s string) (meter.USDC, error) {
	if s == "" || len(s) > maxUnitsDigits || s[0] == '0' {
		return 0, fmt.Errorf("amount %q is not a positive integer of at most %d digits", printable(s, 32), maxUnitsDigits)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("amount %q is not a plain decimal integer", printable(s, 32))
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("amount %q is out of range", s)
	}
	return meter.USDC(n), nil
}

// parseAddress accepts 0x and 40 hex digits, nothing else.
func parseAddress(s string) (common.Address, bool) {
	if len(s) != 42 || !strings.HasPrefix(s, "0x") || !common.IsHexAddress(s) {
		return common.Address{}, false
	}
	a := common.HexToAddress(s)
	return a, a != (common.Address{})
}
