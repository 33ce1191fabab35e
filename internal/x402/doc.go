// Package x402 speaks the x402 payment protocol, versions 1 and 2, for the
// "exact" scheme on EVM chains: an EIP-3009 TransferWithAuthorization of
// USDC, signed with EIP-712 over the token's domain.
//
// It builds the payment requirements a 402 carries (the v1 JSON body and
// the v2 PAYMENT-REQUIRED header from one Quote), decodes the payment a
// client sends (X-PAYMENT for v1, PAYMENT-SIGNATURE for v2), verifies it
// locally (Verifier: amounts, recipient, validity window, signature), and
// encodes the receipt. Settlement — moving the tokens — is a Settler: an
// external facilitator over HTTP (Facilitator) or a relayer of our own on
// a chain (package chain). Claiming a payment so that it is used at most
// once is the ledger's job (package sqlite).
//
// The "upto" scheme (v2 only, upto*.go): a Permit2 PermitWitnessTransferFrom
// of up to the worst case through the x402 upto proxy, verified locally,
// claimed within caps (Upto.Authorize), served at once, and settled for the
// metered cost in the background (Upto.Run).
//
// Wire format: https://github.com/coinbase/x402 (specs/x402-specification,
// specs/schemes/exact/scheme_exact_evm, specs/schemes/upto/scheme_upto_evm).
// The code here is our own.
package x402
