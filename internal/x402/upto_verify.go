package x402

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/walletsig"
)

// Reasons of a refused upto payment: the strings @x402/evm's upto
// facilitator answers with, where it has one, so that a client reads the
// same reason from paymeter as from a facilitator.
const (
	ReasonUptoScheme           = "invalid_upto_evm_scheme"
	ReasonPermit2Spender       = "invalid_permit2_spender"
	ReasonPermit2Recipient     = "invalid_permit2_recipient_mismatch"
	ReasonUptoFacilitator      = "upto_facilitator_mismatch"
	ReasonPermit2Deadline      = "permit2_deadline_expired"
	ReasonPermit2NotYetValid   = "permit2_not_yet_valid"
	ReasonPermit2Amount        = "permit2_amount_mismatch"
	ReasonPermit2Token         = "permit2_token_mismatch"
	ReasonPermit2Signature     = "invalid_permit2_signature"
	ReasonPermit2Allowance     = meter.UptoShortAllowance // "permit2_allowance_required"
	ReasonPermit2Balance       = meter.UptoShortBalance   // "permit2_insufficient_balance"
	ReasonPermit2InvalidNonce  = "permit2_invalid_nonce"
	ReasonUptoTransactionFail  = "invalid_upto_evm_transaction_failed"
	ReasonUptoExceedsAuthorize = "invalid_upto_evm_payload_settlement_exceeds_amount"
	// ReasonPermit2DeadlineFar is paymeter's own: the permit stays valid
	// longer than the requirement's maxTimeoutSeconds allow.
	ReasonPermit2DeadlineFar = "permit2_deadline_too_far"
	// ReasonUptoSettleGas is paymeter's own: settling the permit would
	// take more gas than any settlement may (a contract wallet whose
	// isValidSignature burns gas on chain); nothing is sent.
	ReasonUptoSettleGas = "upto_settlement_gas_too_high"
)

// permit2Types is Permit2's PermitWitnessTransferFrom with the x402 upto
// proxy's witness (to, facilitator, validAfter), as the proxy hashes it.
var permit2Types = apitypes.Types{
	"EIP712Domain": {
		{Name: "name", Type: "string"},
		{Name: "chainId", Type: "uint256"},
		{Name: "verifyingContract", Type: "address"},
	},
	"PermitWitnessTransferFrom": {
		{Name: "permitted", Type: "TokenPermissions"},
		{Name: "spender", Type: "address"},
		{Name: "nonce", Type: "uint256"},
		{Name: "deadline", Type: "uint256"},
		{Name: "witness", Type: "Witness"},
	},
	"TokenPermissions": {
		{Name: "token", Type: "address"},
		{Name: "amount", Type: "uint256"},
	},
	"Witness": {
		{Name: "to", Type: "address"},
		{Name: "facilitator", Type: "address"},
		{Name: "validAfter", Type: "uint256"},
	},
}

// UptoTypedData is the EIP-712 document a payer signs for a: Permit2's
// domain (name "Permit2", no version) on chainID, the network's EIP-712
// chain id, which is what clients sign for.
func UptoTypedData(chainID int64, a *Permit2Authorization) apitypes.TypedData {
	return apitypes.TypedData{
		Types:       permit2Types,
		PrimaryType: "PermitWitnessTransferFrom",
		Domain: apitypes.TypedDataDomain{
			Name: "Permit2", ChainId: math.NewHexOrDecimal256(chainID), VerifyingContract: Permit2Address.Hex(),
		},
		Message: apitypes.TypedDataMessage{
			"permitted": map[string]any{"token": a.Token.Hex(), "amount": (*math.HexOrDecimal256)(a.Amount)},
			"spender":   a.Spender.Hex(),
			"nonce":     (*math.HexOrDecimal256)(a.Nonce),
			"deadline":  (*math.HexOrDecimal256)(a.Deadline),
			"witness": map[string]any{"to": a.To.Hex(), "facilitator": a.Facilitator.Hex(),
				"validAfter": (*math.HexOrDecimal256)(a.ValidAfter)},
		},
	}
}

// UptoDigest returns the EIP-712 hash a payer signs for a on chainID.
func UptoDigest(chainID int64, a *Permit2Authorization) (common.Hash, error) {
	h, _, err := apitypes.TypedDataAndHash(UptoTypedData(chainID, a))
	return common.BytesToHash(h), err
}

// uptoDigest is the digest of a on chainID, hashed by hand
// (upto_digest.go) with Permit2's domain separator computed once per
// chain id (Init).
func (v *Verifier) uptoDigest(chainID int64, a *Permit2Authorization) (common.Hash, error) {
	domain, ok := v.uptoDomains[chainID]
	if !ok {
		domain = permit2Domain(chainID)
	}
	return permit2Digest(domain, a)
}

// initUpto precomputes Permit2's domain separator for each network's
// chain id; Init calls it.
func (v *Verifier) initUpto() error {
	v.uptoDomains = make(map[int64]common.Hash, len(v.Networks))
	for _, n := range v.Networks {
		v.uptoDomains[n.ChainID] = permit2Domain(n.ChainID)
	}
	return nil
}

// SignUpto signs a for chainID, v as 27/28 as wallets produce it: the
// payer's side, for Go clients and tests.
func SignUpto(key *ecdsa.PrivateKey, chainID int64, a *Permit2Authorization) ([]byte, error) {
	digest, err := UptoDigest(chainID, a)
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

// EncodeUpto returns a PAYMENT-SIGNATURE header value paying accepted
// with a signed permit.
func EncodeUpto(accepted Requirement, resource *Resource, a *Permit2Authorization, sig []byte) string {
	return encodeJSON(canonicalUpto{X402Version: 2, Resource: resource, Accepted: accepted, Payload: encodePermitJSON(a, sig)})
}

// UptoTerms are what an upto payment must match on one network: the
// quoted maximum, the address that will settle, and how long the permit
// must stay valid (at least MinValidity: the longest request plus the
// time to settle it; at most MaxTimeoutSeconds, plus the skew).
type UptoTerms struct {
	Amount            meter.USDC
	Facilitator       common.Address
	MinValidity       time.Duration
	MaxTimeoutSeconds int
}

// VerifyUpto checks locally that p authorizes up to exactly the quote on a
// configured network, to our payTo, through the upto proxy, settleable by
// our facilitator, valid now and long enough, signed by its payer. terms
// gives the network's terms, or ok false for a network that offers no
// upto. Failures are 402 invalid_payment with a reason; only a failing
// EIP-1271 call is another reason (unexpected_verify_error).
func (v *Verifier) VerifyUpto(ctx context.Context, p *UptoPayment, terms func(*Network) (UptoTerms, bool)) (*Network, UptoTerms, error) {
	var n *Network
	for _, c := range v.Networks {
		if c.ChainID == p.ChainID {
			n = c
			break
		}
	}
	t, ok := UptoTerms{}, false
	if n != nil {
		t, ok = terms(n)
	}
	if !ok {
		return nil, t, Invalid(ReasonInvalidNetwork, "network %q takes no upto payments here", p.Network)
	}
	if err := v.checkUpto(p, n, t); err != nil {
		return nil, t, err
	}
	digest, err := v.uptoDigest(n.ChainID, &p.Permit)
	if err != nil {
		return nil, t, Invalid(ReasonInvalidPayload, "the permit cannot be hashed")
	}
	// One signature check for every scheme (walletsig): recovery, then
	// EIP-1271 for a contract wallet.
	ok, err = (&walletsig.Verifier{Contracts: v.Contracts}).Verify(ctx, n.ChainID, p.Permit.From, [32]byte(digest), p.Signature)
	if err != nil {
		return nil, t, Invalid(ReasonUnexpectedVerify, "the payer's wallet contract could not be asked (EIP-1271); try again")
	}
	if ok && !recoveryIDZeroOne(digest, p) {
		return n, t, nil
	}
	if ok {
		return nil, t, Invalid(ReasonPermit2Signature, "the signature's recovery id is 0 or 1: Permit2 takes 27 or 28 only; sign again")
	}
	return nil, t, Invalid(ReasonPermit2Signature, "the signature does not recover to permit2Authorization.from")
}

// recoveryIDZeroOne reports whether p's signature was accepted by
// recovery with v as 0 or 1, which walletsig takes (one rule for every
// scheme) but Permit2's ecrecover never does: such a permit would be
// served and could never settle (docs/security.md).
func recoveryIDZeroOne(digest common.Hash, p *UptoPayment) bool {
	if len(p.Signature) != crypto.SignatureLength || p.Signature[64] >= 27 {
		return false
	}
	signer, err := walletsig.Recover(digest, p.Signature)
	return err == nil && signer == p.Permit.From
}

// checkUpto is VerifyUpto's checks before the signature, cheapest first.
func (v *Verifier) checkUpto(p *UptoPayment, n *Network, t UptoTerms) error {
	a, quote := &p.Permit, big.NewInt(int64(t.Amount))
	acc := &p.Accepted
	if acc.Amount != amountString(t.Amount) || !sameAddress(acc.Asset, n.Asset) || !sameAddress(acc.PayTo, n.PayTo) {
		return Invalid(ReasonInvalidRequirements, "the accepted requirement does not match this resource's")
	}
	switch {
	case a.Spender != UptoProxyAddress:
		return Invalid(ReasonPermit2Spender, "the permit's spender is %s, not the x402 upto proxy %s", a.Spender.Hex(), UptoProxyAddress.Hex())
	case a.To != n.PayTo:
		return Invalid(ReasonPermit2Recipient, "the witness pays %s, not %s", a.To.Hex(), n.PayTo.Hex())
	case a.Facilitator != t.Facilitator:
		return Invalid(ReasonUptoFacilitator, "the witness lets %s settle, not %s", a.Facilitator.Hex(), t.Facilitator.Hex())
	case a.Token != n.Asset:
		return Invalid(ReasonPermit2Token, "the permit is for token %s, not %s", a.Token.Hex(), n.Asset.Hex())
	case a.Amount.Cmp(quote) != 0:
		return Invalid(ReasonPermit2Amount, "the permit is for up to %s atomic units; this request is quoted %s", a.Amount, quote)
	}
	now := v.Now()
	if a.ValidAfter.Cmp(big.NewInt(now.Unix())) > 0 {
		return Invalid(ReasonPermit2NotYetValid, "the permit is not valid yet")
	}
	if a.Deadline.Cmp(big.NewInt(now.Add(t.MinValidity).Unix())) < 0 {
		return Invalid(ReasonPermit2Deadline, "the permit expires in less than %s, the time to serve and settle the request", t.MinValidity)
	}
	latest := now.Add(time.Duration(t.MaxTimeoutSeconds)*time.Second + v.Skew).Unix()
	if a.Deadline.Cmp(big.NewInt(latest)) > 0 {
		return Invalid(ReasonPermit2DeadlineFar, "the permit stays valid longer than maxTimeoutSeconds (%d)", t.MaxTimeoutSeconds)
	}
	return nil
}
