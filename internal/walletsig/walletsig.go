package walletsig

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Contracts asks smart-contract wallets (EIP-1271) whether they accept a
// signature: isValidSignature(digest, sig) on the chain chainID. It
// reports false, not an error, for an address without code there or a
// contract that says no; an error means it could not ask.
// internal/chain's Contracts is the implementation.
type Contracts interface {
	IsValidSignature(ctx context.Context, chainID int64, wallet common.Address, digest [32]byte, sig []byte) (bool, error)
}

// Verifier checks wallet signatures: by recovery first, then, when
// Contracts is set, by asking the claimed address as a contract wallet.
type Verifier struct {
	// Contracts, if set, answers for smart-contract wallets; nil accepts
	// the signatures of externally owned accounts only.
	Contracts Contracts
}

// Verify reports whether sig is claimed's signature of digest: sig
// recovers to claimed (a 65-byte r‖s‖v, v 27/28 or 0/1, low s), or else
// claimed is a contract wallet on chain chainID that accepts sig as sent.
// chainID 0 asks no chain. Only a failure to ask the chain is an error.
func (v *Verifier) Verify(ctx context.Context, chainID int64, claimed common.Address, digest [32]byte, sig []byte) (bool, error) {
	i, err := v.VerifyAny(ctx, chainID, claimed, sig, digest)
	return i == 0, err
}

// VerifyAny is Verify for a signature of any one of digests: it returns
// the index of the digest signed, or -1. Every digest is tried by
// recovery before any is asked of a contract, so that the one check that
// costs a chain round trip comes after all those that do not.
func (v *Verifier) VerifyAny(ctx context.Context, chainID int64, claimed common.Address, sig []byte, digests ...[32]byte) (int, error) {
	for i, d := range digests {
		if signer, err := Recover(d, sig); err == nil && signer == claimed {
			return i, nil
		}
	}
	return v.AskContract(ctx, chainID, claimed, sig, digests...)
}

// AskContract is VerifyAny's second step alone, for a caller that has
// tried recovery itself: whether claimed, as a contract wallet on chain
// chainID, accepts sig for one of digests (its index, or -1). Without
// Contracts or a chain it is -1.
func (v *Verifier) AskContract(ctx context.Context, chainID int64, claimed common.Address, sig []byte, digests ...[32]byte) (int, error) {
	if v == nil || v.Contracts == nil || chainID == 0 {
		return -1, nil
	}
	for i, d := range digests {
		ok, err := v.Contracts.IsValidSignature(ctx, chainID, claimed, d, sig)
		if err != nil {
			return -1, err
		}
		if ok {
			return i, nil
		}
	}
	return -1, nil
}

// Errors of a signature that cannot be recovered; their texts complete a
// sentence naming the signature ("X-Wallet-Signature has an invalid
// recovery id").
var (
	ErrLength       = errors.New("must be 65 bytes in hex")
	ErrNotHex       = errors.New("is not hex")
	ErrRecoveryID   = errors.New("has an invalid recovery id")
	ErrNotCanonical = errors.New("is not a canonical (low-s) signature")
)

// Recover returns the address whose key made sig over digest. sig is
// r‖s‖v with v 27/28 (as wallets write it) or 0/1; a high-s signature is
// refused (EIP-2), so that each digest has one valid signature per key.
//
// It is crypto.SigToPub and crypto.PubkeyToAddress without their detour
// through an ecdsa.PublicKey: the address is the Keccak-256 of the 64
// bytes libsecp256k1 recovers (whose point is valid by construction), so
// decoding them into big integers, checking the curve equation again and
// encoding them back costs a tenth of a recovery for nothing.
func Recover(digest [32]byte, sig []byte) (common.Address, error) {
	rsv, err := normalize(sig)
	if err != nil {
		return common.Address{}, err
	}
	pub, err := crypto.Ecrecover(digest[:], rsv[:])
	if err != nil {
		return common.Address{}, err
	}
	if len(pub) != 65 || pub[0] != 4 { // an uncompressed point; anything else is a bug below us
		return common.Address{}, errors.New("recovery returned no uncompressed public key")
	}
	return common.BytesToAddress(crypto.Keccak256(pub[1:])[12:]), nil
}

// secp256k1N and secp256k1HalfN are the curve order n and n/2, big endian.
var (
	secp256k1N     = [32]byte(common.FromHex("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"))
	secp256k1HalfN = [32]byte(common.FromHex("0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0"))
)

// normalize checks sig and returns it with v as 0 or 1, for recovery: r
// in [1, n−1] and s in [1, n/2], as crypto.ValidateSignatureValues with
// homestead rules checks them, compared as big-endian bytes.
func normalize(sig []byte) ([crypto.SignatureLength]byte, error) {
	var rsv [crypto.SignatureLength]byte
	if len(sig) != crypto.SignatureLength {
		return rsv, ErrLength
	}
	copy(rsv[:], sig)
	switch rsv[64] {
	case 27, 28:
		rsv[64] -= 27
	case 0, 1:
	default:
		return rsv, ErrRecoveryID
	}
	var zero [32]byte
	r, s := rsv[:32], rsv[32:64]
	if bytes.Equal(r, zero[:]) || bytes.Compare(r, secp256k1N[:]) >= 0 ||
		bytes.Equal(s, zero[:]) || bytes.Compare(s, secp256k1HalfN[:]) > 0 {
		return rsv, ErrNotCanonical
	}
	return rsv, nil
}

// ParseHex decodes a 65-byte signature in hex ("0x" optional), checks it
// as Recover does, and returns it in the form wallets and contracts write
// it, v 27/28: what an EIP-1271 wallet is then asked about.
func ParseHex(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if len(s) != 2*crypto.SignatureLength {
		return nil, ErrLength
	}
	sig, err := hex.DecodeString(s)
	if err != nil {
		return nil, ErrNotHex
	}
	if _, err := normalize(sig); err != nil {
		return nil, err
	}
	if sig[64] < 27 {
		sig[64] += 27
	}
	return sig, nil
}

// TextHash is the EIP-191 personal_sign digest of msg: what a wallet
// signs when asked to sign msg as text.
func TextHash(msg []byte) [32]byte { return [32]byte(accounts.TextHash(msg)) }

// TypedHash is the EIP-712 digest of a message: keccak256(0x19 0x01 ‖
// domainSeparator ‖ hashStruct(message)).
func TypedHash(domainSeparator, structHash [32]byte) [32]byte {
	return crypto.Keccak256Hash([]byte{0x19, 0x01}, domainSeparator[:], structHash[:])
}
