package payclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"unicode"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
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
// second 402 (invalid_payment or any other), a 409 (the authorization
// already used), or an upto cap's 429 or 503; or refusing a
// sign-in-with-x proof (SIWX set: a 401, or a 402 as the balance is too
// low). The payment is never signed again.
type RejectedError struct {
	Status        int
	Code, Message string
	// Reason is the error's details.reason (an x402 reason), RetryAfter
	// the answer's Retry-After; both may be empty.
	Reason, RetryAfter string
	Requirement        *Requirement
	SIWX               bool
}

func (e *RejectedError) Error() string {
	what := "payment"
	if e.SIWX {
		what = "sign-in-with-x proof"
	}
	s := fmt.Sprintf("the server refused the %s: HTTP %d %s: %s", what, e.Status, orDash(e.Code), orDash(e.Message))
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	return s
}

// Hint says what the payer can do about the refusal, or "".
func (e *RejectedError) Hint() string {
	switch {
	case e.Reason == meter.UptoShortAllowance && e.Requirement != nil:
		return fmt.Sprintf("upto pays through Permit2: approve it once from the payer's wallet, approve(%s, amount) on the token %s "+
			"(a transaction, which needs ether for gas; or an EIP-2612 permit anyone may submit), or pay with --scheme exact",
			x402.Permit2Address.Hex(), e.Requirement.Asset.Hex())
	case e.Reason == meter.UptoShortBalance:
		return "the payer's token balance does not cover the signed maximum"
	case e.Code == meter.ECodeUptoLimitReached || e.Code == meter.ECodeUptoCapacity:
		s := "upto payments served are settled in the background; retry"
		if e.RetryAfter != "" {
			s += " after " + e.RetryAfter + " s"
		}
		return s + ", or pay with --scheme exact"
	case e.Code == meter.ECodeUptoSettlementFailed:
		return "an earlier upto payment of this wallet could not be settled: restore its token balance and Permit2 allowance"
	case e.SIWX && e.Status == 402:
		return "the wallet's balance does not cover the request: top it up (paymeter pay topup) or pay without --siwx"
	}
	return ""
}

// refusal reads a paid request's answer that refuses the payment, or
// returns nil and leaves resp as it was.
func refusal(resp *http.Response) *RejectedError {
	switch resp.StatusCode {
	case http.StatusPaymentRequired, http.StatusConflict, http.StatusTooManyRequests, http.StatusServiceUnavailable:
	default:
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	code, msg := ErrorFields(b)
	if s := resp.StatusCode; (s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable) &&
		code != meter.ECodeUptoLimitReached && code != meter.ECodeUptoCapacity {
		// Not a payment matter: the answer goes to the caller, whole.
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
		return nil
	}
	resp.Body.Close()
	return &RejectedError{Status: resp.StatusCode, Code: code, Message: msg, Reason: errorReason(b),
		RetryAfter: printable(resp.Header.Get("Retry-After"), 16)}
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

// errorReason is an error body's details.reason, or "".
func errorReason(body []byte) string {
	var env struct {
		Error struct {
			Details struct {
				Reason string `json:"reason"`
			} `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil {
		return ""
	}
	return printable(env.Error.Details.Reason, 64)
}

// printable cuts s to n bytes and replaces control characters, line and
// paragraph separators and invisible format characters (bidirectional
// overrides and isolates, zero-width ones), so that a server's text can
// neither forge lines of this client's output nor reorder what a terminal
// shows of them.
func printable(s string, n int) string {
	if len(s) > n {
		s = s[:n] + "…"
	}
	out := []rune(s)
	for i, r := range out {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			out[i] = '?'
		}
	}
	return string(out)
}
