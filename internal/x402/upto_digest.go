package x402

import (
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// The Permit2 EIP-712 digest of an upto permit, hashed by hand: the type
// hashes are constants and the struct is fixed, so the digest is three
// keccaks over 32-byte words instead of apitypes' generic walk over a map
// (which renders every address and number as text first). UptoDigest
// (apitypes) stays the reference; a test checks both agree, on viem's
// vector too.

var (
	tokenPermissionsTypeHash = crypto.Keccak256Hash([]byte("TokenPermissions(address token,uint256 amount)"))
	uptoWitnessTypeHash      = crypto.Keccak256Hash([]byte("Witness(address to,address facilitator,uint256 validAfter)"))
	// EIP-712's encodeType: the primary type, then the types it refers to
	// in alphabetical order.
	permitWitnessTypeHash = crypto.Keccak256Hash([]byte("PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,Witness witness)" +
		"TokenPermissions(address token,uint256 amount)Witness(address to,address facilitator,uint256 validAfter)"))
	permit2DomainTypeHash = crypto.Keccak256Hash([]byte("EIP712Domain(string name,uint256 chainId,address verifyingContract)"))
	permit2NameHash       = crypto.Keccak256Hash([]byte("Permit2"))
)

var errNotUint256 = errors.New("a permit value is not a uint256")

// permit2Domain is Permit2's domain separator on chainID.
func permit2Domain(chainID int64) common.Hash {
	var b [4 * 32]byte
	copy(b[0:], permit2DomainTypeHash[:])
	copy(b[32:], permit2NameHash[:])
	new(big.Int).SetInt64(chainID).FillBytes(b[64:96])
	copy(b[96+12:], Permit2Address[:])
	return crypto.Keccak256Hash(b[:])
}

// putUint256 writes x as an ABI word; false if x is nil, negative or wider.
func putUint256(dst []byte, x *big.Int) bool {
	if x == nil || x.Sign() < 0 || x.BitLen() > 256 {
		return false
	}
	x.FillBytes(dst[:32])
	return true
}

// permit2Digest is the EIP-712 digest of a under the domain separator.
func permit2Digest(domain common.Hash, a *Permit2Authorization) (common.Hash, error) {
	var tp [3 * 32]byte
	var w [4 * 32]byte
	copy(tp[0:], tokenPermissionsTypeHash[:])
	copy(tp[32+12:], a.Token[:])
	copy(w[0:], uptoWitnessTypeHash[:])
	copy(w[32+12:], a.To[:])
	copy(w[64+12:], a.Facilitator[:])
	var s [6 * 32]byte
	copy(s[0:], permitWitnessTypeHash[:])
	copy(s[64+12:], a.Spender[:])
	if !putUint256(tp[64:], a.Amount) || !putUint256(w[96:], a.ValidAfter) ||
		!putUint256(s[96:], a.Nonce) || !putUint256(s[128:], a.Deadline) {
		return common.Hash{}, errNotUint256
	}
	tph, wh := crypto.Keccak256Hash(tp[:]), crypto.Keccak256Hash(w[:])
	copy(s[32:], tph[:])
	copy(s[160:], wh[:])
	sh := crypto.Keccak256Hash(s[:])
	return crypto.Keccak256Hash([]byte{0x19, 0x01}, domain[:], sh[:]), nil
}
