package httpapi

import (
	"encoding/json"
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// paymentIdentifier is the v2 402's declaration of the payment-identifier
// extension (x402.PaymentIdentifierDeclaration), encoded once: it never
// changes.
var paymentIdentifier = func() json.RawMessage {
	b, err := json.Marshal(x402.PaymentIdentifierDeclaration())
	if err != nil {
		panic(err)
	}
	return b
}()

// declaredExtensions are the extensions every v2 402 declares; the
// request's own (sign-in-with-x) are added to the map.
func declaredExtensions() map[string]json.RawMessage {
	return map[string]json.RawMessage{x402.ExtensionPaymentIdentifier: paymentIdentifier}
}

// setReplay gives the answer to a payment replayed under its
// payment-identifier (409 payment_replayed) the first answer's receipt and
// charge, so that a client whose first answer was lost learns both.
func setReplay(c *fiber.Ctx, err error) {
	var r *x402.Replayed
	if !errors.As(err, &r) {
		return
	}
	if v := r.ReceiptValue(); v != "" {
		c.Set(x402.ReceiptHeader(r.Version), v)
	}
	if r.Metered {
		c.Set("X-Paymeter-Cost", r.Cost.String())
	}
}

// paymentResult names the outcome of a refused payment for
// paymeter_payments_total, for the codes of issue 15; ok is false for
// the others.
func paymentResult(code string) (result string, ok bool) {
	switch code {
	case meter.ECodePaymentReplayed:
		return "replayed", true
	case meter.ECodeInvalidPaymentPayload, meter.ECodePaymentIDConflict:
		return "refused", true
	}
	return "", false
}
