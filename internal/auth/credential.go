package auth

import (
	"strings"

	"github.com/paymeter/paymeter/internal/meter"
)

// maxTokenLen bounds a bearer token; anything longer is refused unread.
const maxTokenLen = 4096

// BearerToken extracts the token a request presents, from
// "Authorization: Bearer <token>" or "X-API-Key: <token>". ok is false
// when neither header is present. Both headers naming different tokens is
// refused rather than guessed at.
func BearerToken(authorization, apiKey string) (token string, ok bool, err error) {
	authorization = strings.TrimSpace(authorization)
	apiKey = strings.TrimSpace(apiKey)
	if authorization != "" {
		scheme, rest, _ := strings.Cut(authorization, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return "", false, meter.Errorf(meter.ECodeInvalidAPIKey, "the Authorization header must be \"Bearer <key>\"")
		}
		token = strings.TrimLeft(rest, " ")
		if token == "" {
			return "", false, meter.Errorf(meter.ECodeInvalidAPIKey, "the Authorization header has no token after \"Bearer\"")
		}
	}
	if apiKey != "" {
		if token != "" && token != apiKey {
			return "", false, meter.Errorf(meter.ECodeBadRequest, "Authorization and X-API-Key name different keys; send one")
		}
		token = apiKey
	}
	if token == "" {
		return "", false, nil
	}
	if len(token) > maxTokenLen || strings.ContainsAny(token, " \t\r\n") {
		return "", false, meter.Errorf(meter.ECodeInvalidAPIKey, "malformed API key")
	}
	return token, true, nil
}
