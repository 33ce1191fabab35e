// Package chain settles x402 payments on an EVM chain directly: a relayer
// account of the operator's submits each payment's EIP-3009
// transferWithAuthorization to the token through a JSON-RPC endpoint
// (go-ethereum's ethclient), with a serialized nonce allocator, and waits
// for the receipt. It also answers EIP-1271 signature checks for smart
// contract wallets.
package chain
