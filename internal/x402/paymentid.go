package x402

import (
	"bytes"
	"encoding/json"
)

// The payment-identifier extension (docs/design.md §5): a v2 client may
// name its payment with an id, an idempotency key, so that sending the same
// payment again (a retry after a lost answer) is answered with the first
// answer's receipt and charge instead of being served or settled twice
// (Processor.Pay, replay.go). An id is scoped to the payer that signed the
// payment: another payer's payment under the same id is unrelated to it.

// ExtensionPaymentIdentifier names the extension in a 402's and a
// payment's extensions.
const ExtensionPaymentIdentifier = "payment-identifier"

// ReasonInvalidPaymentID is paymeter's reason for a payment whose
// payment-identifier is malformed (a 400 invalid_payment_payload).
const ReasonInvalidPaymentID = "invalid_payment_identifier"

// Bounds of an id, as the extension specifies.
const (
	MinPaymentIDLength = 16
	MaxPaymentIDLength = 128
)

// PaymentIdentifierDeclaration is the extension as a 402 declares it:
// optional (required false), with its schema.
func PaymentIdentifierDeclaration() map[string]any {
	return map[string]any{
		"info": map[string]any{"required": false},
		"schema": map[string]any{
			"$schema": "https://json-schema.org/draft/2020-12/schema",
			"type":    "object",
			"properties": map[string]any{
				"required": map[string]any{"type": "boolean"},
				"id": map[string]any{"type": "string", "minLength": MinPaymentIDLength, "maxLength": MaxPaymentIDLength,
					"pattern": "^[a-zA-Z0-9_-]+$"},
			},
			"required": []string{"required"},
		},
	}
}

// ValidPaymentID reports whether id has the extension's form: 16 to 128
// ASCII letters, digits, hyphens and underscores.
func ValidPaymentID(id string) bool {
	if len(id) < MinPaymentIDLength || len(id) > MaxPaymentIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// identifierOf returns the payment-identifier id of a v2 payment, "" when
// it carries none (no extension, or the server's declaration echoed
// without an id). A malformed one is refused: the client meant to name its
// payment, and serving it unnamed would lose the idempotency it asked for.
func identifierOf(p *Payment) (string, error) {
	if p.Version != 2 {
		return "", nil
	}
	return identifierOfJSON(p.JSON)
}

// identifierOfJSON is identifierOf for a v2 payment of either scheme, as
// paymeter re-encodes it (Payment.JSON, UptoPayment.JSON).
func identifierOfJSON(raw json.RawMessage) (string, error) {
	if !bytes.Contains(raw, []byte(`"extensions"`)) {
		return "", nil // re-encoded by paymeter: the key is spelled so if present
	}
	var v struct {
		Extensions map[string]json.RawMessage `json:"extensions"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", Invalid(ReasonInvalidPayload, "payment extensions: %v", err)
	}
	raw, ok := v.Extensions[ExtensionPaymentIdentifier]
	if !ok {
		return "", nil
	}
	var ext struct {
		Info *struct {
			ID *string `json:"id"`
		} `json:"info"`
	}
	if err := json.Unmarshal(raw, &ext); err != nil || ext.Info == nil {
		return "", Invalid(ReasonInvalidPaymentID, "extensions.%s must be an object with an info object", ExtensionPaymentIdentifier)
	}
	if ext.Info.ID == nil {
		return "", nil
	}
	if id := *ext.Info.ID; !ValidPaymentID(id) {
		return "", Invalid(ReasonInvalidPaymentID, "the payment identifier must be %d to %d letters, digits, '-' or '_'",
			MinPaymentIDLength, MaxPaymentIDLength)
	}
	return *ext.Info.ID, nil
}
