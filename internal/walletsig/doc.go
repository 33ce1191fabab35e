// Package walletsig decides whether a wallet signed a digest: it recovers
// the signer of a 65-byte secp256k1 signature (EIP-191 personal_sign and
// EIP-712 digests alike), with one rule for the recovery id (27/28 or
// 0/1) and for malleability (low s only), and, failing that, asks a
// smart-contract wallet through EIP-1271 on the chain named.
//
// Wallet headers, Sign-In with Ethereum, sign-in-with-x and x402 payments
// all verify through it (docs/design.md §3, §5), so that the rules cannot
// drift apart between them.
package walletsig
