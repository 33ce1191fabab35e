package x402

import (
	"errors"

	"github.com/paymeter/paymeter/internal/meter"
)

// The x402 v2 HTTP transport answers a malformed payment 400, and a
// payment that fails verification or settlement 402 (docs/design.md §5):
// a client can fix the first only by fixing its encoder, the second by
// paying again. v1 keeps its 402 invalid_payment for both, as the v1
// servers x402 v1 clients were built against answer (and paymeter always
// has): a v1 client gets the requirements back either way.

// malformed returns err, a refusal of a payment of the given version
// before verification (DecodePayment) or for a network not offered here,
// as the 400 invalid_payment_payload of v2, details and all; a v1 payment's
// refusal stays as it is.
func malformed(version int, err error) error {
	var me *meter.Error
	if version != 2 || !errors.As(err, &me) || me.Code != meter.ECodeInvalidPayment {
		return err
	}
	out := *me
	out.Code = meter.ECodeInvalidPaymentPayload
	return &out
}

// unknownNetwork reports whether err refuses a payment's network.
func unknownNetwork(err error) bool {
	var me *meter.Error
	return errors.As(err, &me) && me.Details["reason"] == ReasonInvalidNetwork
}

// pending is the answer to a payment whose settlement did not finish in
// time: it is not refused, and must not be paid again. The sweep settles
// it and then credits it to wallet (a request payment whole, as change:
// its request was not served), where wallet signatures spend it.
func pending(amount meter.USDC, wallet, tx string) *meter.Error {
	return meter.Errorf(meter.ECodePaymentPending,
		"the payment has not settled yet: do not pay again; once it settles, %s USDC is credited to wallet %s, "+
			"to spend with a wallet signature", amount, wallet).
		WithDetail("transaction", tx).WithDetail("wallet", wallet).WithDetail("amount", amount.String())
}
