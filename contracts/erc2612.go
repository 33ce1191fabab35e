package contracts

import (
	"crypto/ecdsa"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// MaxUint256 is the allowance that never runs out and the EIP-2612 deadline that never expires.
var MaxUint256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// ERC2612Permit is an EIP-2612 approval that a token's owner signs and anyone submits
// (TestUSDC.Permit): how a payer with no ether approves Permit2.
type ERC2612Permit struct {
	Owner, Spender         common.Address
	Value, Nonce, Deadline *big.Int // Nonce: the token's nonces(Owner)
}

// TypedData is the EIP-712 message under the token's domain (name, version, chainID, token), as
// USDC's is.
func (p *ERC2612Permit) TypedData(name, version string, chainID int64, token common.Address) apitypes.TypedData {
	return apitypes.TypedData{
		Types: apitypes.Types{
			"EIP712Domain": {{Name: "name", Type: "string"}, {Name: "version", Type: "string"},
				{Name: "chainId", Type: "uint256"}, {Name: "verifyingContract", Type: "address"}},
			"Permit": {{Name: "owner", Type: "address"}, {Name: "spender", Type: "address"}, {Name: "value", Type: "uint256"},
				{Name: "nonce", Type: "uint256"}, {Name: "deadline", Type: "uint256"}},
		},
		PrimaryType: "Permit",
		Domain: apitypes.TypedDataDomain{Name: name, Version: version, ChainId: math.NewHexOrDecimal256(chainID),
			VerifyingContract: token.Hex()},
		Message: apitypes.TypedDataMessage{"owner": p.Owner.Hex(), "spender": p.Spender.Hex(), "value": p.Value,
			"nonce": p.Nonce, "deadline": p.Deadline},
	}
}

// signTypedData signs td's EIP-712 digest with key as r‖s‖v, v 27 or 28, as eth_signTypedData_v4.
func signTypedData(key *ecdsa.PrivateKey, td apitypes.TypedData) ([]byte, error) {
	digest, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		return nil, fmt.Errorf("eip-712 %s: %w", td.PrimaryType, err)
	}
	sig, err := crypto.Sign(digest, key)
	if err != nil {
		return nil, err
	}
	sig[64] += 27
	return sig, nil
}

// Sign signs the permit with key, under the token's domain.
func (p *ERC2612Permit) Sign(key *ecdsa.PrivateKey, name, version string, chainID int64, token common.Address) ([]byte, error) {
	return signTypedData(key, p.TypedData(name, version, chainID, token))
}
