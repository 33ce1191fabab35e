package chain

import (
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
)

// tokenABI is the part of USDC (FiatToken v2.2) and of any EIP-3009 token
// that settlement uses; wallet1271ABI is EIP-1271.
const tokenABIJSON = `[
 {"type":"function","name":"transferWithAuthorization","stateMutability":"nonpayable","outputs":[],"inputs":[
  {"name":"from","type":"address"},{"name":"to","type":"address"},{"name":"value","type":"uint256"},
  {"name":"validAfter","type":"uint256"},{"name":"validBefore","type":"uint256"},{"name":"nonce","type":"bytes32"},
  {"name":"v","type":"uint8"},{"name":"r","type":"bytes32"},{"name":"s","type":"bytes32"}]},
 {"type":"function","name":"transferWithAuthorization","stateMutability":"nonpayable","outputs":[],"inputs":[
  {"name":"from","type":"address"},{"name":"to","type":"address"},{"name":"value","type":"uint256"},
  {"name":"validAfter","type":"uint256"},{"name":"validBefore","type":"uint256"},{"name":"nonce","type":"bytes32"},
  {"name":"signature","type":"bytes"}]},
 {"type":"function","name":"authorizationState","stateMutability":"view","inputs":[
  {"name":"authorizer","type":"address"},{"name":"nonce","type":"bytes32"}],"outputs":[{"name":"","type":"bool"}]},
 {"type":"function","name":"balanceOf","stateMutability":"view","inputs":[{"name":"account","type":"address"}],
  "outputs":[{"name":"","type":"uint256"}]},
 {"type":"event","name":"AuthorizationUsed","anonymous":false,"inputs":[
  {"name":"authorizer","type":"address","indexed":true},{"name":"nonce","type":"bytes32","indexed":true}]},
 {"type":"event","name":"AuthorizationCanceled","anonymous":false,"inputs":[
  {"name":"authorizer","type":"address","indexed":true},{"name":"nonce","type":"bytes32","indexed":true}]},
 {"type":"event","name":"Transfer","anonymous":false,"inputs":[
  {"name":"from","type":"address","indexed":true},{"name":"to","type":"address","indexed":true},
  {"name":"value","type":"uint256","indexed":false}]}
]`

const wallet1271ABIJSON = `[
 {"type":"function","name":"isValidSignature","stateMutability":"view","inputs":[
  {"name":"hash","type":"bytes32"},{"name":"signature","type":"bytes"}],"outputs":[{"name":"","type":"bytes4"}]}
]`

var (
	tokenABI      = mustABI(tokenABIJSON)
	wallet1271ABI = mustABI(wallet1271ABIJSON)
)

// The two transferWithAuthorization overloads, as go-ethereum names them.
const (
	methodTransferVRS   = "transferWithAuthorization"
	methodTransferBytes = "transferWithAuthorization0"
)

// magic1271 is what isValidSignature returns for a valid signature.
var magic1271 = [4]byte{0x16, 0x26, 0xba, 0x7e}

func mustABI(s string) abi.ABI {
	a, err := abi.JSON(strings.NewReader(s))
	if err != nil {
		panic(err)
	}
	return a
}
