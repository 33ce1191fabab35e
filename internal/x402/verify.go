package x402

import (
	"context"
	"crypto/subtle"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/walletsig"
)

// MinValidity is how long an authorization must stay valid after it is
// verified: time to settle it on chain (the spec's 6 seconds).
const MinValidity = 6 * time.Second

// SignatureChecker asks a smart-contract wallet (EIP-1271) whether it
// accepts a signature. It reports false, not an error, when the address
// has no code or the contract says no.
type SignatureChecker = walletsig.Contracts

// Verifier checks payments locally, before anything is settled, forwarded
// or credited. Its fields are read-only after the first Verify.
type Verifier struct {
	Networks []*Network
	// Skew is the clock difference tolerated on validBefore's upper bound.
	Skew time.Duration
	// Contracts verifies EIP-1271 signatures; nil accepts EOA signatures only.
	Contracts SignatureChecker
	Now       func() time.Time

	domains map[*Network]common.Hash
	// uptoDomains are Permit2's domain separators by chain id (upto_verify.go).
	uptoDomains map[int64]common.Hash
}

// transferType is EIP-3009's TransferWithAuthorization.
var transferTypes = apitypes.Types{
	"EIP712Domain": {
		{Name: "name", Type: "string"},
		{Name: "version", Type: "string"},
		{Name: "chainId", Type: "uint256"},
		{Name: "verifyingContract", Type: "address"},
	},
	"TransferWithAuthorization": {
		{Name: "from", Type: "address"},
		{Name: "to", Type: "address"},
		{Name: "value", Type: "uint256"},
		{Name: "validAfter", Type: "uint256"},
		{Name: "validBefore", Type: "uint256"},
		{Name: "nonce", Type: "bytes32"},
	},
}

// TypedData returns the EIP-712 document a payer signs for a on n.
func TypedData(n *Network, a *Authorization) apitypes.TypedData {
	return apitypes.TypedData{
		Types:       transferTypes,
		PrimaryType: "TransferWithAuthorization",
		Domain: apitypes.TypedDataDomain{
			Name: n.TokenName, Version: n.TokenVersion,
			ChainId:           math.NewHexOrDecimal256(n.ChainID),
			VerifyingContract: n.Asset.Hex(),
		},
		Message: apitypes.TypedDataMessage{
			"from":        a.From.Hex(),
			"to":          a.To.Hex(),
			"value":       (*math.HexOrDecimal256)(a.Value),
			"validAfter":  (*math.HexOrDecimal256)(a.ValidAfter),
			"validBefore": (*math.HexOrDecimal256)(a.ValidBefore),
			"nonce":       hexutil.Bytes(a.Nonce[:]),
		},
	}
}

// Digest returns the EIP-712 hash a payer signs for a on n.
func Digest(n *Network, a *Authorization) (common.Hash, error) {
	h, _, err := apitypes.TypedDataAndHash(TypedData(n, a))
	return common.BytesToHash(h), err
}

// digest is Digest with the domain separator computed once per network,
// and the message hashed directly (transferHash).
func (v *Verifier) digest(n *Network, a *Authorization) (common.Hash, error) {
	domain, ok := v.domains[n]
	if !ok {
		return Digest(n, a)
	}
	if msg, ok := transferHash(a); ok {
		return walletsig.TypedHash(domain, msg), nil
	}
	td := TypedData(n, a)
	msg, err := td.HashStruct(td.PrimaryType, td.Message)
	if err != nil {
		return common.Hash{}, err
	}
	return walletsig.TypedHash(domain, common.BytesToHash(msg)), nil
}

// transferTypeHash is EIP-712's typeHash of TransferWithAuthorization
// (transferTypes).
var transferTypeHash = crypto.Keccak256Hash([]byte("TransferWithAuthorization(address from,address to,uint256 value," +
	"uint256 validAfter,uint256 validBefore,bytes32 nonce)"))

// transferHash is hashStruct(a) as apitypes computes it from
// TypedData(n, a): the type hash and the six fields, each in one 32-byte
// word, hashed once, without building the typed-data maps. ok is false for
// an amount that is no uint256, which apitypes then refuses.
func transferHash(a *Authorization) (h [32]byte, ok bool) {
	var words [7 * 32]byte
	copy(words[:32], transferTypeHash[:])
	copy(words[32+12:64], a.From[:])
	copy(words[64+12:96], a.To[:])
	for i, u := range []*big.Int{a.Value, a.ValidAfter, a.ValidBefore} {
		if u == nil || u.Sign() < 0 || u.BitLen() > 256 {
			return h, false
		}
		u.FillBytes(words[96+32*i : 128+32*i])
	}
	copy(words[192:], a.Nonce[:])
	return crypto.Keccak256Hash(words[:]), true
}

// init precomputes the domain separators; call it after setting Networks.
func (v *Verifier) Init() error {
	v.domains = make(map[*Network]common.Hash, len(v.Networks))
	for _, n := range v.Networks {
		td := TypedData(n, &Authorization{Value: new(big.Int), ValidAfter: new(big.Int), ValidBefore: new(big.Int)})
		d, err := td.HashStruct("EIP712Domain", td.Domain.Map())
		if err != nil {
			return fmt.Errorf("network %s: EIP-712 domain: %w", n.Name, err)
		}
		v.domains[n] = common.BytesToHash(d)
	}
	if v.Now == nil {
		v.Now = time.Now
	}
	return v.initUpto()
}

// Network returns the configured network a payment names, or nil.
func (v *Verifier) Network(p *Payment) *Network {
	for _, n := range v.Networks {
		if n.ChainID != p.ChainID {
			continue
		}
		if p.Version == 1 && n.Name != p.Network {
			continue
		}
		return n
	}
	return nil
}

// Verify checks that p pays exactly amount, on a configured network, to
// our address, within its validity window, signed by its payer. It returns
// the network paid on. Failures are 402 invalid_payment with an x402
// reason; only a failing EIP-1271 call is another error.
func (v *Verifier) Verify(ctx context.Context, p *Payment, amount meter.USDC, maxTimeoutSeconds int) (*Network, error) {
	n := v.Network(p)
	if n == nil {
		return nil, Invalid(ReasonInvalidNetwork, "network %q is not accepted here", p.Network)
	}
	a := &p.Authorization
	want := big.NewInt(int64(amount))
	if acc := p.Accepted; acc != nil { // v2 repeats the requirement it accepted
		if acc.Amount != amountString(amount) || !sameAddress(acc.Asset, n.Asset) || !sameAddress(acc.PayTo, n.PayTo) {
			return nil, Invalid(ReasonInvalidRequirements, "the accepted requirement does not match this resource's")
		}
	}
	if a.To != n.PayTo {
		return nil, Invalid(ReasonRecipientMismatch, "the authorization pays %s, not %s", a.To.Hex(), n.PayTo.Hex())
	}
	if a.Value.Cmp(want) != 0 {
		return nil, Invalid(ReasonValue, "the authorization is for %s atomic units; this request costs %s", a.Value, want)
	}
	now := v.Now()
	if a.ValidAfter.Cmp(big.NewInt(now.Unix())) > 0 {
		return nil, Invalid(ReasonValidAfter, "the authorization is not valid yet")
	}
	if a.ValidBefore.Cmp(big.NewInt(now.Add(MinValidity).Unix())) < 0 {
		return nil, Invalid(ReasonValidBefore, "the authorization expires in less than %s", MinValidity)
	}
	latest := now.Add(time.Duration(maxTimeoutSeconds)*time.Second + v.Skew).Unix()
	if a.ValidBefore.Cmp(big.NewInt(latest)) > 0 {
		return nil, Invalid(ReasonValidBefore, "the authorization stays valid longer than maxTimeoutSeconds (%d)", maxTimeoutSeconds)
	}
	digest, err := v.digest(n, a)
	if err != nil {
		return nil, Invalid(ReasonInvalidPayload, "the authorization cannot be hashed")
	}
	ok, err := (&walletsig.Verifier{Contracts: v.Contracts}).Verify(ctx, n.ChainID, a.From, [32]byte(digest), p.Signature)
	if err != nil {
		return nil, Invalid(ReasonUnexpectedVerify, "the payer's wallet contract could not be asked (EIP-1271); try again")
	}
	if ok {
		return n, nil
	}
	return nil, Invalid(ReasonSignature, "the signature does not recover to authorization.from")
}

func sameAddress(s string, a common.Address) bool {
	b, ok := parseAddress(s)
	return ok && subtle.ConstantTimeCompare(b[:], a[:]) == 1
}
