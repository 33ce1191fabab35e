package x402

// Reasons are the x402 spec's machine-readable strings for why a payment
// was refused; paymeter sends them as details.reason of invalid_payment
// and as errorReason of a failed receipt.
const (
	ReasonInvalidPayload      = "invalid_payload"
	ReasonInvalidVersion      = "invalid_x402_version"
	ReasonUnsupportedScheme   = "unsupported_scheme"
	ReasonInvalidNetwork      = "invalid_network"
	ReasonInvalidRequirements = "invalid_payment_requirements"
	ReasonSignature           = "invalid_exact_evm_payload_signature"
	ReasonRecipientMismatch   = "invalid_exact_evm_payload_recipient_mismatch"
	ReasonValue               = "invalid_exact_evm_payload_authorization_value"
	ReasonValidAfter          = "invalid_exact_evm_payload_authorization_valid_after"
	ReasonValidBefore         = "invalid_exact_evm_payload_authorization_valid_before"
	ReasonInsufficientFunds   = "insufficient_funds"
	ReasonTransactionState    = "invalid_transaction_state"
	ReasonUnexpectedSettle    = "unexpected_settle_error"
	ReasonUnexpectedVerify    = "unexpected_verify_error"
)

// paymeter's own reasons, where the chain shows an authorization's nonce
// spent without this payment's transfer to payTo (docs/security.md, C1).
const (
	// ReasonAuthorizationCanceled: the authorizer canceled the nonce.
	ReasonAuthorizationCanceled = "authorization_canceled"
	// ReasonTransferMismatch: the transaction that used the nonce did not
	// transfer the authorized value from the payer to payTo.
	ReasonTransferMismatch = "authorization_used_without_payment"
)

// maxReason bounds a reason's length: the spec's are under 64 bytes.
const maxReason = 64

// ValidReason reports whether r is shaped like an x402 reason: 1 to 64
// bytes of lower-case letters, digits and underscores.
func ValidReason(r string) bool {
	if r == "" || len(r) > maxReason {
		return false
	}
	for i := 0; i < len(r); i++ {
		if c := r[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}
