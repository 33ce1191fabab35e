package meter

import (
	"errors"
	"fmt"
)

// Error codes are public API (docs/design.md §6): add new ones, never rename.
const (
	ECodeMissingCredentials = "missing_credentials"
	ECodeInvalidAPIKey      = "invalid_api_key"
	ECodeExpiredAPIKey      = "expired_api_key"
	ECodeRevokedAPIKey      = "revoked_api_key"
	ECodeInvalidSignature   = "invalid_signature"
	ECodeSignatureExpired   = "signature_expired"
	ECodeSignatureReplayed  = "signature_replayed"
	ECodeInvalidNonce       = "invalid_nonce"
	ECodeInvalidToken       = "invalid_token"
	ECodeForbidden          = "forbidden"
	ECodeInsufficientScope  = "insufficient_scope"
	ECodeModelNotAllowed    = "model_not_allowed"
	ECodeSpendCapExceeded   = "spend_cap_exceeded"
	ECodePaymentRequired    = "payment_required"
	ECodeInsufficientCredit = "insufficient_credits"
	ECodeInvalidPayment     = "invalid_payment"
	ECodePaymentUsed        = "payment_already_used"
	ECodePaymentPending     = "payment_pending"
	ECodeRateLimited        = "rate_limited"
	ECodeBadRequest         = "bad_request"
	ECodeModelNotPriced     = "model_not_priced"
	ECodeNotFound           = "not_found"
	ECodeMethodNotAllowed   = "method_not_allowed"
	ECodeConflict           = "conflict"
	ECodePayloadTooLarge    = "payload_too_large"
	ECodeHeadersTooLarge    = "headers_too_large"
	ECodeUpstreamError      = "upstream_error"
	ECodeUpstreamTimeout    = "upstream_timeout"
	ECodeUnavailable        = "unavailable"
	ECodeInternal           = "internal"
)

// Error codes of the request scanner and the model list (issue 12: H5, H3, M3).
const (
	// ECodeAmbiguousField: a top-level key is a different spelling of a
	// known field (case, Unicode folding, escapes) or appears twice.
	ECodeAmbiguousField = "ambiguous_field"
	// ECodeUnsupportedField: a field the route does not forward, or a value
	// that would bill outside the priced tokens.
	ECodeUnsupportedField = "unsupported_field"
	// ECodeContentNotPriced: a content part of a kind the model has no
	// configured bound for.
	ECodeContentNotPriced = "content_not_priced"
	// ECodeModelNotFound: /v1/models/{id} names no priced model.
	ECodeModelNotFound = "model_not_found"
)

// Error codes of the metered APIs beyond chat (issue 13).
const (
	// ECodeInputNotBounded: the request carries input paymeter cannot see
	// (a Responses previous_response_id or conversation) and the model has
	// no max_input_tokens to bound it.
	ECodeInputNotBounded = "input_not_bounded"
	// ECodeUnsupportedAPI: the model's upstream does not speak this
	// route's API (an Anthropic model on /v1/chat/completions); paymeter
	// never translates between formats.
	ECodeUnsupportedAPI = "unsupported_api"
	// ECodeImageNotPriced: an image generation of a size and quality the
	// model's image table has no price for.
	ECodeImageNotPriced = "image_not_priced"
)

// Error codes of credentials that were real once: not guesses, so the
// failed-authentication limit does not count them (docs/security.md).
const (
	// ECodeExpiredToken: a session token or a JWT past its expiry.
	ECodeExpiredToken = "expired_token"
	// ECodeRevokedToken: a session token whose API key was revoked or
	// rotated.
	ECodeRevokedToken = "revoked_token"
)

// Error codes of the server's own guards (docs/security.md).
const (
	// ECodeUnsupportedEncoding refuses a request body sent with a
	// Content-Encoding: paymeter never decompresses a client's body.
	ECodeUnsupportedEncoding = "unsupported_content_encoding"
	// ECodeOverloaded refuses a request when as many as allowed are
	// already being forwarded upstream; retry after Retry-After.
	ECodeOverloaded = "overloaded"
)

// Error codes of sign-in-with-x (issue 15).
const (
	// ECodeInvalidSIWX: a SIGN-IN-WITH-X header that is malformed or not
	// for this server (its domain, URI, version or chain, or this route);
	// details.reason names which.
	ECodeInvalidSIWX = "invalid_siwx"
)

// Error is the one error type that crosses package boundaries. Code is a
// stable machine-readable code, Message is safe to show a client, Details
// carries structured, client-safe facts, and Err is the cause: logged,
// never sent.
type Error struct {
	Code    string
	Message string
	Details map[string]any
	Err     error
}

// Errorf returns an Error with a formatted client-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// WithDetail returns e with one more detail set; e is modified in place.
func (e *Error) WithDetail(key string, value any) *Error {
	if e.Details == nil {
		e.Details = make(map[string]any, 1)
	}
	e.Details[key] = value
	return e
}

// ErrorCode returns the code of the first *Error in err's chain, "" for
// nil, and ECodeInternal for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ECodeInternal
}

// Error codes of the demo and its payer (issue 14).
const (
	// ECodePaymentsNotAccepted: the request carries an x402 payment, and
	// this proxy takes none (it lists no x402 networks). Nothing was
	// verified or settled; pay with an API key or a wallet signature.
	ECodePaymentsNotAccepted = "payments_not_accepted"
)

// Error codes of x402 conformance and payment identifiers (issue 15).
const (
	// ECodeInvalidPaymentPayload: an x402 v2 payment (PAYMENT-SIGNATURE)
	// that cannot be read: not base64 or JSON, the wrong shape, another
	// x402Version, an unknown scheme or network, a malformed
	// payment-identifier. 400, as the v2 HTTP transport says; nothing was
	// verified, claimed or settled (details.reason: the x402 reason).
	ECodeInvalidPaymentPayload = "invalid_payment_payload"
	// ECodePaymentReplayed: a payment whose payment-identifier its payer
	// already used for this same payment: it is not served or settled
	// again; the answer carries the original receipt and charge.
	ECodePaymentReplayed = "payment_replayed"
	// ECodePaymentIDConflict: a payment whose payment-identifier its payer
	// already used for another payment. Nothing was settled.
	ECodePaymentIDConflict = "payment_identifier_conflict"
)

// Error codes of x402 upto (issue 15; docs/design.md §5).
const (
	// ECodeUptoLimitReached: the payer has as much served and not yet
	// settled as x402.upto.max_unsettled_per_payer allows; retry once it
	// settles (Retry-After), or pay with exact.
	ECodeUptoLimitReached = "upto_limit_reached"
	// ECodeUptoCapacity: paymeter has as much served and not yet settled,
	// across payers, as x402.upto.max_unsettled allows.
	ECodeUptoCapacity = "upto_capacity_reached"
	// ECodeUptoSettlementFailed: an earlier upto payment of this payer
	// could not be settled (allowance revoked, funds moved); it is refused
	// until that one settles.
	ECodeUptoSettlementFailed = "upto_settlement_failed"
)
