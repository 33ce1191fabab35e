package contracts

import (
	"crypto/ecdsa"
	_ "embed" // the runtime code of the genesis contracts
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// The x402 `upto` scheme on EVM (the x402 spec's scheme_upto_evm, as @x402/evm 2.27 implements it):
//
// The payer signs, with EIP-712, a Permit2 PermitWitnessTransferFrom under the domain
// {name: "Permit2", chainId: <the CAIP-2 network's id, e.g. 84532 for eip155:84532>,
// verifyingContract: Permit2Address} (no version), primary type PermitWitnessTransferFrom:
//
//	PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,Witness witness)
//	TokenPermissions(address token,uint256 amount)
//	Witness(address to,address facilitator,uint256 validAfter)
//
// with permitted = {asset, the requirement's amount: the most that may be settled}, spender =
// UptoProxyAddress, nonce = 256 random bits, deadline = now + maxTimeoutSeconds, witness.to = payTo,
// witness.facilitator = the requirement's extra.facilitatorAddress (the client refuses a requirement
// without it), validAfter = 0. Its PAYMENT-SIGNATURE payload (v2 only) is
//
//	{"x402Version":2, "accepted":{…the requirement…}, "resource":{…},
//	 "payload":{"signature":"0x<65 bytes r‖s‖v>",
//	   "permit2Authorization":{"from":"0x…", "permitted":{"token":"0x…","amount":"<decimal>"},
//	     "spender":"0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002", "nonce":"<decimal>", "deadline":"<decimal>",
//	     "witness":{"to":"0x…","facilitator":"0x…","validAfter":"0"}}}}
//
// (every number a decimal string; addresses checksummed), plus "extensions" only when the 402
// declared eip2612GasSponsoring or erc20ApprovalGasSponsoring and the payer's allowance is short.
//
// The facilitator (the caller whose address is witness.facilitator) settles the metered cost with
//
//	settle((address token,uint256 amount) permitted, uint256 nonce, uint256 deadline) permit,
//	       uint256 amount, address owner, (address to,address facilitator,uint256 validAfter) witness, bytes signature)
//
// which reverts AmountExceedsPermitted if amount > permitted.amount, InvalidAmount if amount is 0,
// InvalidOwner / InvalidDestination on a zero owner / witness.to, UnauthorizedFacilitator unless
// msg.sender == witness.facilitator, PaymentTooEarly if block.timestamp < validAfter; then Permit2
// reverts SignatureExpired if block.timestamp > deadline, InvalidNonce on a used nonce, InvalidSigner
// (or InvalidContractSignature, for an EIP-1271 owner) on a bad signature, and "TRANSFER_FROM_FAILED"
// when the token's transferFrom fails: the payer's ERC-20 allowance to Permit2 or its balance is short.
// The proxy emits Settled() and the token Transfer(owner, witness.to, amount).
//
// The payer must have approved Permit2 on the token first (an on-chain approve, which costs the payer
// gas, or an EIP-2612 permit that anyone may submit: TestUSDC.Permit): the npm client neither checks
// nor sends one unless the 402 declares a gas-sponsoring extension.

// Permit2Address is Uniswap Permit2's canonical address, the same on every chain.
var Permit2Address = common.HexToAddress("0x000000000022D473030F116dDEE9F6B43aC78BA3")

// UptoProxyAddress is the x402 upto Permit2 proxy's canonical address (@x402/evm's
// x402UptoPermit2ProxyAddress): the spender every upto permit names.
var UptoProxyAddress = common.HexToAddress("0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002")

// UptoWitnessTypeString is the tail of the permit's EIP-712 type after "...,uint256 deadline,", which
// the proxy passes to Permit2 (its WITNESS_TYPE_STRING).
const UptoWitnessTypeString = "Witness witness)TokenPermissions(address token,uint256 amount)Witness(address to,address facilitator,uint256 validAfter)"

// Permit2DomainChainIDSlot is TestPermit2's storage slot (DOMAIN_CHAIN_ID_SLOT) whose non-zero value
// replaces block.chainid in its EIP-712 domain.
var Permit2DomainChainIDSlot = crypto.Keccak256Hash([]byte("paymeter.TestPermit2.domainChainId"))

var (
	//go:embed build/TestPermit2.runtime.bin
	permit2Runtime string
	//go:embed build/TestUptoProxy.runtime.bin
	uptoProxyRuntime string
)

// UptoAlloc is the genesis allocation of TestPermit2 at Permit2Address and TestUptoProxy at
// UptoProxyAddress: their runtime code (neither has a constructor or immutables). domainChainID is
// the chain id Permit2's EIP-712 domain carries; 0 means the chain's own, as on a public chain. A
// local chain whose id differs from the public network its clients sign for (1337 paying as
// eip155:84532) passes that network's id.
func UptoAlloc(domainChainID int64) types.GenesisAlloc {
	permit2 := types.Account{Code: mustHex(permit2Runtime), Balance: new(big.Int)}
	if domainChainID != 0 {
		permit2.Storage = map[common.Hash]common.Hash{
			Permit2DomainChainIDSlot: common.BigToHash(big.NewInt(domainChainID)),
		}
	}
	return types.GenesisAlloc{
		Permit2Address:   permit2,
		UptoProxyAddress: {Code: mustHex(uptoProxyRuntime), Balance: new(big.Int)},
	}
}

func mustHex(s string) []byte {
	b := common.FromHex(strings.TrimSpace(s))
	if len(b) == 0 {
		panic("contracts: empty runtime code; run make contracts")
	}
	return b
}

// UptoPermit is what a payer signs for the upto scheme: a Permit2 PermitWitnessTransferFrom whose
// spender is the upto proxy. Amounts are token atomic units.
type UptoPermit struct {
	Owner       common.Address // the payer, permit2Authorization.from
	Token       common.Address // permitted.token: the requirement's asset
	Amount      *big.Int       // permitted.amount: the most that may be settled
	Nonce       *big.Int       // Permit2 unordered nonce: bit Nonce&0xff of word Nonce>>8
	Deadline    *big.Int       // unix seconds; Permit2 refuses after it
	To          common.Address // witness.to: the requirement's payTo
	Facilitator common.Address // witness.facilitator: the only caller allowed to settle
	ValidAfter  *big.Int       // witness.validAfter: unix seconds; the proxy refuses before it
}

// TypedData is the EIP-712 message the payer signs, for the domain chain id chainID (the CAIP-2
// network's id), exactly as @x402/evm's upto client builds it.
func (p *UptoPermit) TypedData(chainID int64) apitypes.TypedData {
	return apitypes.TypedData{
		Types: apitypes.Types{
			"EIP712Domain": {{Name: "name", Type: "string"}, {Name: "chainId", Type: "uint256"},
				{Name: "verifyingContract", Type: "address"}},
			"PermitWitnessTransferFrom": {{Name: "permitted", Type: "TokenPermissions"}, {Name: "spender", Type: "address"},
				{Name: "nonce", Type: "uint256"}, {Name: "deadline", Type: "uint256"}, {Name: "witness", Type: "Witness"}},
			"TokenPermissions": {{Name: "token", Type: "address"}, {Name: "amount", Type: "uint256"}},
			"Witness": {{Name: "to", Type: "address"}, {Name: "facilitator", Type: "address"},
				{Name: "validAfter", Type: "uint256"}},
		},
		PrimaryType: "PermitWitnessTransferFrom",
		Domain: apitypes.TypedDataDomain{Name: "Permit2", ChainId: math.NewHexOrDecimal256(chainID),
			VerifyingContract: Permit2Address.Hex()},
		Message: apitypes.TypedDataMessage{
			"permitted": map[string]any{"token": p.Token.Hex(), "amount": p.Amount},
			"spender":   UptoProxyAddress.Hex(),
			"nonce":     p.Nonce,
			"deadline":  p.Deadline,
			"witness":   map[string]any{"to": p.To.Hex(), "facilitator": p.Facilitator.Hex(), "validAfter": p.ValidAfter},
		},
	}
}

// Digest is the EIP-712 hash the payer signs and Permit2 recovers (or hands to an EIP-1271 owner).
func (p *UptoPermit) Digest(chainID int64) (common.Hash, error) {
	h, _, err := apitypes.TypedDataAndHash(p.TypedData(chainID))
	if err != nil {
		return common.Hash{}, fmt.Errorf("upto permit: %w", err)
	}
	return common.BytesToHash(h), nil
}

// Sign signs the permit with key as r‖s‖v (v 27 or 28), as a wallet's eth_signTypedData_v4 does.
func (p *UptoPermit) Sign(key *ecdsa.PrivateKey, chainID int64) ([]byte, error) {
	return signTypedData(key, p.TypedData(chainID))
}

// Permit is the permit argument of TestUptoProxy.Settle.
func (p *UptoPermit) Permit() ISignatureTransferPermitTransferFrom {
	return ISignatureTransferPermitTransferFrom{
		Permitted: ISignatureTransferTokenPermissions{Token: p.Token, Amount: p.Amount},
		Nonce:     p.Nonce, Deadline: p.Deadline,
	}
}

// Witness is the witness argument of TestUptoProxy.Settle.
func (p *UptoPermit) Witness() TestUptoProxyWitness {
	return TestUptoProxyWitness{To: p.To, Facilitator: p.Facilitator, ValidAfter: p.ValidAfter}
}
