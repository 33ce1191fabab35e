package httpapi

import (
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/paymeter/paymeter/internal/x402"
)

// anthropicRoute reports whether the request is one to the Anthropic
// Messages route, or under it (an Anthropic SDK's count_tokens or batches,
// which this proxy does not serve): their clients read errors in
// Anthropic's shape.
func anthropicRoute(c *fiber.Ctx) bool {
	p := c.Path()
	const route = "/v1/messages"
	return len(p) >= len(route) && strings.EqualFold(p[:len(route)], route) && (len(p) == len(route) || p[len(route)] == '/')
}

// anthropicErrorType is the Anthropic error "type" the SDKs map a status to.
func anthropicErrorType(status int) string {
	switch status {
	case fiber.StatusUnauthorized:
		return "authentication_error"
	case fiber.StatusPaymentRequired:
		return "billing_error"
	case fiber.StatusForbidden:
		return "permission_error"
	case fiber.StatusNotFound:
		return "not_found_error"
	case fiber.StatusConflict:
		return "conflict_error"
	case fiber.StatusRequestEntityTooLarge:
		return "request_too_large"
	case fiber.StatusTooManyRequests:
		return "rate_limit_error"
	case fiber.StatusServiceUnavailable:
		return "overloaded_error"
	case fiber.StatusGatewayTimeout:
		return "timeout_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

// anthropicError is the Anthropic error body, with paymeter's stable code
// beside the Anthropic type: in "code", and in details.error_code, which
// the Anthropic SDKs expose as the error's errorCode. A 402 with a payment
// challenge is at once the x402 v1 body (x402Version, accepts; x402 v1
// clients read the error as an object) and this error.
type anthropicError struct {
	Type        string               `json:"type"`
	Error       anthropicErrorFields `json:"error"`
	RequestID   string               `json:"request_id,omitempty"`
	X402Version int                  `json:"x402Version,omitempty"`
	Accepts     []x402.RequirementV1 `json:"accepts,omitempty"`
}

type anthropicErrorFields struct {
	Type    string         `json:"type"`
	Message string         `json:"message"`
	Code    string         `json:"code"`
	Details map[string]any `json:"details"`
}

// anthropicErrorBody writes the error f of status in Anthropic's shape;
// accepts, when set, makes it the x402 v1 challenge too.
func anthropicErrorBody(f errorFields, status int, accepts []x402.RequirementV1) []byte {
	details := make(map[string]any, len(f.Details)+1)
	for k, v := range f.Details {
		details[k] = v
	}
	details["error_code"] = f.Code
	e := anthropicError{
		Type:      "error",
		Error:     anthropicErrorFields{Type: anthropicErrorType(status), Message: f.Message, Code: f.Code, Details: details},
		RequestID: f.RequestID,
	}
	if accepts != nil {
		e.X402Version, e.Accepts = 1, accepts
	}
	body, _ := json.Marshal(e)
	return body
}

// messagesStreamError is streamError for the Messages API: an Anthropic
// "error" event, which the Anthropic SDKs raise as an APIError.
func messagesStreamError(code, msg, requestID string) []byte {
	status, ok := statusOf[code]
	if !ok {
		status = fiber.StatusInternalServerError
	}
	f := errorFields{Code: code, Message: msg, RequestID: requestID}
	return append(append([]byte("event: error\ndata: "), anthropicErrorBody(f, status, nil)...), "\n\n"...)
}
