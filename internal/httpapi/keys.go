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

// The key management API (docs/design.md §7): a principal with the "keys"
// scope manages the keys of its own account, and no other.

// keyJSON is a key as the API lists it: never the secret.
type keyJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	RateLimit  int        `json:"rateLimit"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	ExpiresAt  *time.Time `json:"expiresAt"`
	RevokedAt  *time.Time `json:"revokedAt"`
}

func toKeyJSON(k *meter.Key) keyJSON {
	scopes := []string{}
	if s := k.Scopes.String(); s != "" {
		scopes = strings.Split(s, ",")
	}
	return keyJSON{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: scopes, RateLimit: k.RateLimit,
		CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt}
}

// keyManager is the principal of a key management request, which must
// carry the "keys" scope.
func keyManager(c *fiber.Ctx) (*meter.Principal, error) {
	p := principalOf(c)
	if !p.Scopes.Has(meter.ScopeKeys) {
		return nil, meter.Errorf(meter.ECodeInsufficientScope, "managing keys needs the %q scope", meter.ScopeKeys)
	}
	return p, nil
}

// ownKey finds the key named by the :id parameter among the principal's
// account's keys; another account's key is as good as absent. A key with
// scopes the principal lacks is refused: regenerating it would hand the
// principal a broader secret, revoking it would cut off a broader key.
func (s *Server) ownKey(c *fiber.Ctx, p *meter.Principal) (*meter.Key, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, meter.Errorf(meter.ECodeBadRequest, "key id %q is not a number", c.Params("id"))
	}
	k, err := s.KeyStore.FindKeyByID(c.UserContext(), id)
	if meter.ErrorCode(err) == meter.ECodeNotFound || (err == nil && k.AccountID != p.AccountID) {
		return nil, meter.Errorf(meter.ECodeNotFound, "no key %d on this account", id)
	}
	if err != nil {
		return nil, err
	}
	if lacking := k.Scopes &^ p.Scopes; lacking != 0 {
		return nil, meter.Errorf(meter.ECodeInsufficientScope, "key %d has scopes this credential lacks: %s", id, lacking).
			WithDetail("lacking", lacking.String())
	}
	return k, nil
}

// boundedRate is the rate limit of a key p makes or regenerates with
// rate asked (0: the api_key default): at most p's own effective limit,
// so that no key outruns the key that made it.
func (s *Server) boundedRate(p *meter.Principal, rate int) int {
	limit := s.RateLimits.perMinute(p)
	if limit <= 0 {
		return rate // p is not limited: nor is what it makes
	}
	if rate > limit || (rate == 0 && (s.RateLimits.APIKey <= 0 || s.RateLimits.APIKey > limit)) {
		return limit
	}
	return rate
}

// boundedExpiry is the expiry of a key p makes or regenerates: at most
// p's own, so that a key about to expire cannot outlive itself through
// another.
func boundedExpiry(p *meter.Principal, at *time.Time) *time.Time {
	if p.KeyExpiresAt != nil && (at == nil || at.After(*p.KeyExpiresAt)) {
		bound := *p.KeyExpiresAt
		return &bound
	}
	return at
}

// listKeys serves GET /api/v1/api-keys.
func (s *Server) listKeys(c *fiber.Ctx) error {
	p, err := keyManager(c)
	if err != nil {
		return err
	}
	keys, err := s.KeyStore.FindKeys(c.UserContext(), p.AccountID)
	if err != nil {
		return err
	}
	out := make([]keyJSON, 0, len(keys))
	for _, k := range keys {
		out = append(out, toKeyJSON(k))
	}
	return c.JSON(fiber.Map{"data": out})
}

type createKeyRequest struct {
	Name          string   `json:"name"`
	Scopes        []string `json:"scopes"`
	ExpiresInDays *int     `json:"expiresInDays"`
	RateLimit     int      `json:"rateLimit"`
}

// createKey serves POST /api/v1/api-keys: the secret is in this answer
// and nowhere else, ever.
func (s *Server) createKey(c *fiber.Ctx) error {
	p, err := keyManager(c)
	if err != nil {
		return err
	}
	var req createKeyRequest
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return meter.Errorf(meter.ECodeBadRequest, "body: %v", err)
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > 100 {
		return meter.Errorf(meter.ECodeBadRequest, "name is required, at most 100 characters")
	}
	scopes := meter.DefaultKeyScopes & p.Scopes
	if req.Scopes != nil {
		if scopes, err = meter.ParseScopes(strings.Join(req.Scopes, ",")); err != nil {
			return meter.Errorf(meter.ECodeBadRequest, "scopes: %v", err)
		}
		if scopes == 0 {
			return meter.Errorf(meter.ECodeBadRequest, "scopes: name at least one")
		}
	}
	if lacking := scopes &^ p.Scopes; lacking != 0 {
		return meter.Errorf(meter.ECodeInsufficientScope, "a key cannot grant scopes its creator lacks: %s", lacking).
			WithDetail("lacking", lacking.String())
	}
	if req.RateLimit < 0 || req.RateLimit > 1_000_000 {
		return meter.Errorf(meter.ECodeBadRequest, "rateLimit must be 0 (the default) … 1000000 requests per minute")
	}
	rate := s.boundedRate(p, req.RateLimit)
	if req.RateLimit > rate {
		return meter.Errorf(meter.ECodeForbidden, "a key cannot have a rate limit above its creator's %d requests per minute", rate).
			WithDetail("limit", rate)
	}
	k := &meter.Key{AccountID: p.AccountID, Name: req.Name, Scopes: scopes, RateLimit: rate}
	if req.ExpiresInDays != nil {
		days := *req.ExpiresInDays
		if days < 1 || days > 3650 {
			return meter.Errorf(meter.ECodeBadRequest, "expiresInDays must be 1 … 3650")
		}
		at := time.Now().Add(time.Duration(days) * 24 * time.Hour).UTC()
		k.ExpiresAt = &at
	}
	if end := p.KeyExpiresAt; k.ExpiresAt != nil && end != nil && k.ExpiresAt.After(*end) {
		return meter.Errorf(meter.ECodeForbidden, "a key cannot outlive its creator, which expires at %s", end.Format(time.RFC3339)).
			WithDetail("expiresAt", end.Format(time.RFC3339))
	}
	k.ExpiresAt = boundedExpiry(p, k.ExpiresAt)
	secret, err := auth.IssueKey(c.UserContext(), s.KeyStore, k, false)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"key": secret, "apiKey": toKeyJSON(k)})
}

// regenerateKey serves POST /api/v1/api-keys/:id/regenerate: a new secret
// for the same key settings, its rate limit and expiry bounded by the
// caller's own; the old secret dies at once (within the authenticator's
// cache lifetime).
func (s *Server) regenerateKey(c *fiber.Ctx) error {
	p, err := keyManager(c)
	if err != nil {
		return err
	}
	old, err := s.ownKey(c, p)
	if err != nil {
		return err
	}
	if old.RevokedAt != nil {
		return meter.Errorf(meter.ECodeConflict, "key %d is revoked", old.ID)
	}
	secret, k, err := auth.RotateKey(c.UserContext(), s.KeyStore, old.ID, time.Now(), func(k *meter.Key) {
		k.RateLimit, k.ExpiresAt = s.boundedRate(p, k.RateLimit), boundedExpiry(p, k.ExpiresAt)
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"key": secret, "apiKey": toKeyJSON(k)})
}

// deleteKey serves DELETE /api/v1/api-keys/:id: the key is revoked (kept
// for the record, never usable again).
func (s *Server) deleteKey(c *fiber.Ctx) error {
	p, err := keyManager(c)
	if err != nil {
		return err
	}
	k, err := s.ownKey(c, p)
	if err != nil {
		return err
	}
	if k.RevokedAt == nil {
		if err := s.KeyStore.RevokeKey(c.UserContext(), k.ID, time.Now()); err != nil {
			return err
		}
	}
	return c.SendStatus(fiber.StatusNoContent)
}
