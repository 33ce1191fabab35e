package httpapi

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
)

type sessionTokenRequest struct {
	Scopes []string `json:"scopes"`
	Models []string `json:"models"`
	// SpendCap is a decimal, as a string ("2.50") or a JSON number read
	// exactly from its text (never through a float).
	SpendCap   json.RawMessage `json:"spendCap"`
	TTLSeconds int             `json:"ttlSeconds"`
}

type sessionTokenJSON struct {
	SessionToken string        `json:"sessionToken"`
	ExpiresAt    time.Time     `json:"expiresAt"`
	Scopes       []string      `json:"scopes"`
	Models       []string      `json:"models,omitempty"`
	SpendCap     *meter.Amount `json:"spendCap,omitempty"`
}

// mintSessionToken serves POST /api/v1/auth/session-token: an API key
// trades itself for a short-lived pm_sess_ token to hand a browser
// (docs/design.md §3). The body, optional, narrows the token.
func (s *Server) mintSessionToken(c *fiber.Ctx) error {
	p := principalOf(c)
	if p.Kind != meter.PrincipalAPIKey {
		return meter.Errorf(meter.ECodeForbidden, "session tokens are minted with an API key, not a %s credential", p.Kind)
	}
	var req sessionTokenRequest
	if body := bytes.TrimSpace(c.Body()); len(body) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return meter.Errorf(meter.ECodeBadRequest, "body: %v", err)
		}
	}
	var mint auth.SessionRequest
	if req.Scopes != nil {
		scopes, err := meter.ParseScopes(strings.Join(req.Scopes, ","))
		if err != nil {
			return meter.Errorf(meter.ECodeBadRequest, "scopes: %v", err)
		}
		if scopes == 0 {
			return meter.Errorf(meter.ECodeBadRequest, "scopes: name at least one")
		}
		mint.Scopes = &scopes
	}
	mint.Models = req.Models
	if len(req.SpendCap) > 0 && string(req.SpendCap) != "null" {
		spendCap, err := decimalJSON(req.SpendCap)
		if err != nil {
			return meter.Errorf(meter.ECodeBadRequest, "spendCap: %v", err)
		}
		mint.SpendCap = &spendCap
	}
	if req.TTLSeconds < 0 || req.TTLSeconds > int(auth.MaxSessionTTL/time.Second) {
		return meter.Errorf(meter.ECodeBadRequest, "ttlSeconds must be 1 … %d (default %d)",
			int(auth.MaxSessionTTL/time.Second), int(auth.DefaultSessionTTL/time.Second))
	}
	mint.TTL = time.Duration(req.TTLSeconds) * time.Second
	token, sess, err := auth.MintSession(c.UserContext(), s.Sessions, p, mint, time.Now())
	if err != nil {
		return err
	}
	scopes := []string{}
	if str := sess.Scopes.String(); str != "" {
		scopes = strings.Split(str, ",")
	}
	return c.Status(fiber.StatusCreated).JSON(sessionTokenJSON{SessionToken: token, ExpiresAt: sess.ExpiresAt,
		Scopes: scopes, Models: sess.Models, SpendCap: sess.SpendCap})
}

// decimalJSON reads a decimal amount from a JSON string or number, exactly.
func decimalJSON(raw json.RawMessage) (meter.Amount, error) {
	text := string(raw)
	if strings.HasPrefix(text, `"`) {
		var err error
		if text, err = strconv.Unquote(text); err != nil {
			return 0, err
		}
	}
	return meter.ParseAmount(text)
}
