package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/gofiber/fiber/v2"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// statusOf is the one table from error code to HTTP status.
var statusOf = map[string]int{
	meter.ECodeMissingCredentials: fiber.StatusUnauthorized,
	meter.ECodeInvalidAPIKey:      fiber.StatusUnauthorized,
	meter.ECodeExpiredAPIKey:      fiber.StatusUnauthorized,
	meter.ECodeRevokedAPIKey:      fiber.StatusUnauthorized,
	meter.ECodeInvalidSignature:   fiber.StatusUnauthorized,
	meter.ECodeSignatureExpired:   fiber.StatusUnauthorized,
	meter.ECodeSignatureReplayed:  fiber.StatusUnauthorized,
	meter.ECodeInvalidNonce:       fiber.StatusUnauthorized,
	meter.ECodeInvalidSIWX:        fiber.StatusUnauthorized,
	meter.ECodeInvalidToken:       fiber.StatusUnauthorized,
	meter.ECodeExpiredToken:       fiber.StatusUnauthorized,
	meter.ECodeRevokedToken:       fiber.StatusUnauthorized,
	meter.ECodePaymentRequired:    fiber.StatusPaymentRequired,
	meter.ECodeInsufficientCredit: fiber.StatusPaymentRequired,
	meter.ECodeInvalidPayment:     fiber.StatusPaymentRequired,
	meter.ECodeForbidden:          fiber.StatusForbidden,
	meter.ECodeInsufficientScope:  fiber.StatusForbidden,
	meter.ECodeModelNotAllowed:    fiber.StatusForbidden,
	meter.ECodeSpendCapExceeded:   fiber.StatusForbidden,
	meter.ECodeNotFound:           fiber.StatusNotFound,
	meter.ECodeMethodNotAllowed:   fiber.StatusMethodNotAllowed,
	meter.ECodePaymentUsed:        fiber.StatusConflict,
	meter.ECodeConflict:           fiber.StatusConflict,
	meter.ECodePayloadTooLarge:    fiber.StatusRequestEntityTooLarge,
	meter.ECodeHeadersTooLarge:    fiber.StatusRequestHeaderFieldsTooLarge,
	meter.ECodeRateLimited:        fiber.StatusTooManyRequests,
	meter.ECodeBadRequest:         fiber.StatusBadRequest,
	meter.ECodeModelNotPriced:     fiber.StatusBadRequest,
	meter.ECodeInternal:           fiber.StatusInternalServerError,
	meter.ECodeUpstreamError:      fiber.StatusBadGateway,
	meter.ECodeUnavailable:        fiber.StatusServiceUnavailable,
	meter.ECodeUpstreamTimeout:    fiber.StatusGatewayTimeout,
	meter.ECodePaymentPending:     fiber.StatusPaymentRequired,

	meter.ECodeAmbiguousField:      fiber.StatusBadRequest,
	meter.ECodeUnsupportedField:    fiber.StatusBadRequest,
	meter.ECodeContentNotPriced:    fiber.StatusBadRequest,
	meter.ECodeModelNotFound:       fiber.StatusNotFound,
	meter.ECodeUnsupportedEncoding: fiber.StatusUnsupportedMediaType,
	meter.ECodeOverloaded:          fiber.StatusServiceUnavailable,
	meter.ECodeInputNotBounded:     fiber.StatusBadRequest,
	meter.ECodeUnsupportedAPI:      fiber.StatusBadRequest,
	meter.ECodeImageNotPriced:      fiber.StatusBadRequest,
	meter.ECodePaymentsNotAccepted: fiber.StatusUnauthorized,

	meter.ECodeInvalidPaymentPayload: fiber.StatusBadRequest,
	meter.ECodePaymentReplayed:       fiber.StatusConflict,
	meter.ECodePaymentIDConflict:     fiber.StatusConflict,
	meter.ECodeUptoLimitReached:      fiber.StatusTooManyRequests,
	meter.ECodeUptoCapacity:          fiber.StatusServiceUnavailable,
	meter.ECodeUptoSettlementFailed:  fiber.StatusPaymentRequired,
}

// codeOfStatus names the errors fiber and fasthttp raise themselves,
// before or instead of a route, so that they too answer in our shape.
var codeOfStatus = map[int]string{
	fiber.StatusBadRequest:                  meter.ECodeBadRequest,
	fiber.StatusNotFound:                    meter.ECodeNotFound,
	fiber.StatusMethodNotAllowed:            meter.ECodeMethodNotAllowed,
	fiber.StatusRequestEntityTooLarge:       meter.ECodePayloadTooLarge,
	fiber.StatusRequestHeaderFieldsTooLarge: meter.ECodeHeadersTooLarge,
	fiber.StatusRequestTimeout:              meter.ECodeBadRequest,
	fiber.StatusServiceUnavailable:          meter.ECodeUnavailable,
}

// errorType gives OpenAI SDKs the "type" they expect beside our code.
func errorType(status int) string {
	switch {
	case status == fiber.StatusUnauthorized:
		return "authentication_error"
	case status == fiber.StatusPaymentRequired:
		return "payment_error"
	case status == fiber.StatusForbidden:
		return "permission_error"
	case status == fiber.StatusConflict:
		return "conflict_error"
	case status == fiber.StatusTooManyRequests:
		return "rate_limit_error"
	case status >= 500:
		return "api_error"
	}
	return "invalid_request_error"
}

type errorBody struct {
	Error errorFields `json:"error"`
}

// paymentRequiredBody is at once our error shape and the x402 v1 402 body.
type paymentRequiredBody struct {
	X402Version int                  `json:"x402Version"`
	Error       errorFields          `json:"error"`
	Accepts     []x402.RequirementV1 `json:"accepts"`
}

type errorFields struct {
	Code      string         `json:"code"`
	Message   string         `json:"message"`
	Type      string         `json:"type"`
	Details   map[string]any `json:"details,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
}

// handleError is fiber's error handler and the one place that writes an
// error response. A *meter.Error is sent as it is; a *fiber.Error (404,
// 405, 413, 431 raised by the framework) gets its code from codeOfStatus;
// anything else is an internal error whose cause goes to the log only.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	var me *meter.Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &me):
	case errors.As(err, &fe):
		code, ok := codeOfStatus[fe.Code]
		if !ok {
			code = meter.ECodeInternal
		}
		me = &meter.Error{Code: code, Message: publicMessage(code, fe.Message)}
	default:
		me = &meter.Error{Code: meter.ECodeInternal, Err: err}
	}
	status, ok := statusOf[me.Code]
	if !ok {
		status = fiber.StatusInternalServerError
	}
	msg := me.Message
	if me.Code == meter.ECodeInternal {
		msg = "internal error; quote the request id when reporting it"
	}
	rid := requestID(c)
	if rid == "" { // raised before the middleware ran (413, 431)
		rid = newRequestID()
		c.Set("X-Request-Id", rid)
	}
	if me.Err != nil || status >= 500 {
		s.Logger.LogAttrs(c.UserContext(), levelFor(status), "request failed",
			slog.String("request_id", rid), slog.String("code", me.Code), slog.Any("err", me))
	}
	fields := errorFields{Code: me.Code, Message: msg, Type: errorType(status), Details: me.Details, RequestID: rid}
	var body []byte
	var accepts []x402.RequirementV1
	if pr := (*paymentRequired)(nil); errors.As(err, &pr) {
		// The requirements go in the body for v1 clients and in the
		// header for v2 clients; the error names the reason.
		reason, _ := me.Details["reason"].(string)
		if reason == "" {
			reason = me.Code
		}
		c.Set(x402.HeaderRequired, pr.challenge.HeaderV2(reason))
		setRetryAfter(c, pr.retryAfter)
		accepts = pr.challenge.AcceptsV1()
		body, _ = json.Marshal(paymentRequiredBody{X402Version: 1, Error: fields, Accepts: accepts})
	} else {
		body, _ = json.Marshal(errorBody{Error: fields})
	}
	if anthropicRoute(c) {
		body = anthropicErrorBody(fields, status, accepts)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(status).Send(body)
}

func levelFor(status int) slog.Level {
	if status >= 500 && status != fiber.StatusBadGateway && status != fiber.StatusGatewayTimeout {
		return slog.LevelError
	}
	return slog.LevelWarn
}

// publicMessage keeps fiber's own short messages ("Not Found") but never
// passes on anything that could carry internals.
func publicMessage(code, fiberMsg string) string {
	switch code {
	case meter.ECodeNotFound:
		return "no such route"
	case meter.ECodeMethodNotAllowed:
		return "method not allowed on this route"
	case meter.ECodePayloadTooLarge:
		return "request body too large"
	case meter.ECodeHeadersTooLarge:
		return "request headers too large"
	case meter.ECodeBadRequest:
		return "malformed request"
	}
	return fiberMsg
}
