package chain

import "github.com/ethereum/go-ethereum/accounts/abi"

// uptoABI is what upto settlement uses of the x402 upto proxy (settle, its
// Settled event and errors), of Permit2 (its nonce bitmap, the event of a
// payer invalidating nonces, and its errors) and of the token (allowance).
// The published interfaces: @x402/evm's x402UptoPermit2ProxyABI, Uniswap
// Permit2's SignatureTransfer.
const uptoABIJSON = `[
 {"type":"function","name":"settle","stateMutability":"nonpayable","outputs":[],"inputs":[
  {"name":"permit","type":"tuple","components":[
    {"name":"permitted","type":"tuple","components":[{"name":"token","type":"address"},{"name":"amount","type":"uint256"}]},
    {"name":"nonce","type":"uint256"},{"name":"deadline","type":"uint256"}]},
  {"name":"amount","type":"uint256"},{"name":"owner","type":"address"},
  {"name":"witness","type":"tuple","components":[
    {"name":"to","type":"address"},{"name":"facilitator","type":"address"},{"name":"validAfter","type":"uint256"}]},
  {"name":"signature","type":"bytes"}]},
 {"type":"event","name":"Settled","anonymous":false,"inputs":[]},
 {"type":"function","name":"nonceBitmap","stateMutability":"view","inputs":[
  {"name":"owner","type":"address"},{"name":"wordPos","type":"uint256"}],"outputs":[{"name":"","type":"uint256"}]},
 {"type":"event","name":"UnorderedNonceInvalidation","anonymous":false,"inputs":[
  {"name":"owner","type":"address","indexed":true},{"name":"word","type":"uint256","indexed":false},
  {"name":"mask","type":"uint256","indexed":false}]},
 {"type":"function","name":"allowance","stateMutability":"view","inputs":[
  {"name":"owner","type":"address"},{"name":"spender","type":"address"}],"outputs":[{"name":"","type":"uint256"}]},
 {"type":"error","name":"AmountExceedsPermitted","inputs":[]},
 {"type":"error","name":"InvalidAmount","inputs":[]},
 {"type":"error","name":"InvalidDestination","inputs":[]},
 {"type":"error","name":"InvalidOwner","inputs":[]},
 {"type":"error","name":"PaymentTooEarly","inputs":[]},
 {"type":"error","name":"UnauthorizedFacilitator","inputs":[]},
 {"type":"error","name":"ReentrancyGuardReentrantCall","inputs":[]},
 {"type":"error","name":"SignatureExpired","inputs":[{"name":"signatureDeadline","type":"uint256"}]},
 {"type":"error","name":"InvalidNonce","inputs":[]},
 {"type":"error","name":"InvalidSignatureLength","inputs":[]},
 {"type":"error","name":"InvalidSignature","inputs":[]},
 {"type":"error","name":"InvalidSigner","inputs":[]},
 {"type":"error","name":"InvalidContractSignature","inputs":[]}
]`

var uptoABI = mustABI(uptoABIJSON)

// permit2InvalidAmount is Permit2's InvalidAmount(uint256), which shares a
// name with the proxy's InvalidAmount(): selectors differ.
var permit2InvalidAmount = abi.NewError("InvalidAmount", abi.Arguments{{Name: "maxAmount", Type: mustABIType("uint256")}})

func mustABIType(t string) abi.Type {
	typ, err := abi.NewType(t, "", nil)
	if err != nil {
		panic(err)
	}
	return typ
}

var (
	eventSettled      = uptoABI.Events["Settled"].ID
	eventInvalidation = uptoABI.Events["UnorderedNonceInvalidation"].ID
)
