package payclient

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/paymeter/paymeter/internal/meter"
)

// OverMaxError refuses a price above Client.Max. Nothing was signed.
type OverMaxError struct {
	Requirement *Requirement
	Max         meter.Amount
}

func (e *OverMaxError) Error() string {
	return fmt.Sprintf("the price, %d USDC units (%s credits) on %s, is above the maximum of %s credits; nothing was signed",
		e.Requirement.Units, e.Requirement.Units, e.Requirement.Network, e.Max)
}

// MalformedError is a 402 that cannot be paid: its requirements are
// missing, undecodable, or none of them is one this client can pay.
// Nothing was signed.
type MalformedError struct {
	Reason string
}

func (e *MalformedError) Error() string {
	return "the 402 cannot be paid: " + e.Reason + "; nothing was signed"
}

// RejectedError is the server refusing a payment this client signed: a
// second 402 (invalid_payment or any other), or a 409 (the authorization
// already used). The payment is never signed again.
type RejectedError struct {
	Status        int
	Code, Message string
	Requirement   *Requirement
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("the server refused the payment: HTTP %d %s: %s", e.Status, orDash(e.Code), orDash(e.Message))
}

// HTTPError is a non-2xx answer of paymeter's own API (top-up, account,
// sign-in) that is not a payment matter.
type HTTPError struct {
	Status        int
	Code, Message string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, orDash(e.Code), orDash(e.Message))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// maxErrorBody bounds an error answer (and a v1 402 body) read from the
// server: paymeter's are well under 8 KiB, a hostile server's may be endless.
const maxErrorBody = 64 << 10

// readBounded reads at most limit bytes of r; more is an error.
func readBounded(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("the answer is longer than %d bytes", limit)
	}
	return b, nil
}

// ErrorFields returns the code and message of an error body, paymeter's
// {"error":{"code","message"}} or x402 v1's {"error":"…"}. Anything else
// gives empty strings. Both are cut to a printable length.
func ErrorFields(body []byte) (code, message string) {
	var env struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil || len(env.Error) == 0 {
		return "", ""
	}
	var fields struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(env.Error, &fields) != nil {
		var s string
		if json.Unmarshal(env.Error, &s) != nil {
			return "", ""
		}
		fields.Code = s
	}
	return printable(fields.Code, 64), printable(fields.Message, 300)
}

// printable cuts s to n bytes and replaces control characters, so that a
// server's text cannot forge lines of this client's output.
func printable(s string, n int) string {
	if len(s) > n {
		s = s[:n] + "…"
	}
	out := []rune(s)
	for i, r := range out {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			out[i] = '?'
		}
	}
	return string(out)
}
