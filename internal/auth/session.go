package auth

import (
	"context"
	"crypto/subtle"
	"strconv"
	"strings"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// Session tokens (docs/design.md §3): short-lived bearer tokens an app mints
// with its API key for a browser. They look like keys, with their own
// prefix: pm_sess_ | 43 base62 chars | 6-char checksum.
const SessionPrefix = "pm_sess_"

// Session token lifetimes.
const (
	DefaultSessionTTL = 15 * time.Minute
	MaxSessionTTL     = time.Hour
)

// sessionForbidden are the scopes no session token carries: a token in a
// browser must not manage keys.
const sessionForbidden = meter.Scopes(meter.ScopeKeys | meter.ScopeAdmin)

// maxSessionModels bounds a session's model allowlist.
const maxSessionModels = 64

// IsSessionShaped reports whether s looks like a session token.
func IsSessionShaped(s string) bool { return strings.HasPrefix(s, SessionPrefix) }

// SessionRequest is what a session token is minted with; zero fields take
// the parent's scopes, no allowlist, no cap and the default TTL.
type SessionRequest struct {
	Scopes   *meter.Scopes
	Models   []string
	SpendCap *meter.Amount
	TTL      time.Duration
}

// MintSession mints a session token for the API key principal parent and
// returns the token (the only time it exists in clear) and the session.
// Its scopes may only narrow the parent's and never include "keys" or
// "admin"; it ends no later than its parent.
func MintSession(ctx context.Context, sessions meter.SessionStore, parent *meter.Principal, req SessionRequest, now time.Time) (string, *meter.Session, error) {
	if parent.Kind != meter.PrincipalAPIKey {
		return "", nil, meter.Errorf(meter.ECodeForbidden, "only an API key can mint session tokens")
	}
	scopes := parent.Scopes &^ sessionForbidden
	if req.Scopes != nil {
		if extra := *req.Scopes &^ parent.Scopes; extra != 0 {
			return "", nil, meter.Errorf(meter.ECodeInsufficientScope, "the API key lacks the scopes it would grant: %s", extra).
				WithDetail("scopes", extra.String())
		}
		if bad := *req.Scopes & sessionForbidden; bad != 0 {
			return "", nil, meter.Errorf(meter.ECodeBadRequest, "session tokens cannot carry the %s scope", bad)
		}
		scopes = *req.Scopes
	}
	if len(req.Models) > maxSessionModels {
		return "", nil, meter.Errorf(meter.ECodeBadRequest, "a model allowlist has at most %d models", maxSessionModels)
	}
	for _, m := range req.Models {
		if m == "" || len(m) > 200 || strings.ContainsAny(m, ",\n") {
			return "", nil, meter.Errorf(meter.ECodeBadRequest, "model %q in the allowlist is not a model id", m)
		}
	}
	if req.SpendCap != nil && *req.SpendCap <= 0 {
		return "", nil, meter.Errorf(meter.ECodeBadRequest, "spendCap must be positive, got %s", *req.SpendCap)
	}
	ttl := req.TTL
	switch {
	case ttl == 0:
		ttl = DefaultSessionTTL
	case ttl < time.Second || ttl > MaxSessionTTL:
		return "", nil, meter.Errorf(meter.ECodeBadRequest, "a session lasts from 1 s to %s, not %s", MaxSessionTTL, ttl)
	}
	s := &meter.Session{KeyID: parent.KeyID, AccountID: parent.AccountID, Scopes: scopes, Models: req.Models,
		SpendCap: req.SpendCap, ExpiresAt: now.Add(ttl).UTC().Truncate(time.Millisecond)}
	if parent.KeyExpiresAt != nil && parent.KeyExpiresAt.Before(s.ExpiresAt) {
		s.ExpiresAt = *parent.KeyExpiresAt
	}
	token := generate(SessionPrefix)
	s.Prefix, s.Hash = DisplayKey(token), HashKey(token)
	if err := sessions.CreateSession(ctx, s); err != nil {
		return "", nil, err
	}
	return token, s, nil
}

// authenticateSession checks a session token: its format, then the stored
// session and its parent key, both cached for at most CacheTTL so that
// revoking the parent ends the session within a second.
func (a *KeyAuthenticator) authenticateSession(ctx context.Context, raw string) (*meter.Principal, error) {
	switch checkFormat(raw) {
	case errMalformed:
		return nil, invalidToken("malformed session token")
	case errChecksum:
		return nil, invalidToken("session token checksum mismatch")
	}
	if a.Sessions == nil {
		return nil, invalidToken("session tokens are not enabled")
	}
	hash := HashKey(raw)
	s, err := a.lookupSession(ctx, hash)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(s.Hash[:], hash[:]) != 1 {
		return nil, invalidToken("unknown session token")
	}
	now := a.Now()
	switch {
	case s.ParentRevokedAt != nil && !now.Before(*s.ParentRevokedAt):
		return nil, meter.Errorf(meter.ECodeRevokedToken, "session token %s ended: its API key was revoked or rotated", s.Prefix)
	case !now.Before(s.ExpiresAt), s.ParentExpiresAt != nil && !now.Before(*s.ParentExpiresAt):
		return nil, meter.Errorf(meter.ECodeExpiredToken, "session token %s expired", s.Prefix)
	}
	a.markUsed(s.KeyID, now)
	p := &meter.Principal{Kind: meter.PrincipalSession, AccountID: s.AccountID, KeyID: s.KeyID, SessionID: s.ID,
		Scopes: s.Scopes, Label: s.Prefix, Models: s.Models, Subject: "session:" + strconv.FormatInt(s.ID, 10),
		// A key limited below the default passes its limit on: minting
		// sessions must not multiply it.
		RateLimit: s.ParentRateLimit}
	if s.SpendCap != nil {
		p.Budget = &meter.Budget{Subject: p.Subject, Cap: *s.SpendCap}
	}
	return p, nil
}

func (a *KeyAuthenticator) lookupSession(ctx context.Context, hash [32]byte) (*meter.Session, error) {
	s, err := a.sessions.get(ctx, hash, a.Now(), a.CacheTTL, a.Sessions.FindSessionByHash)
	if meter.ErrorCode(err) == meter.ECodeNotFound {
		return nil, invalidToken("unknown session token")
	}
	return s, err
}

func invalidToken(format string, args ...any) error {
	return meter.Errorf(meter.ECodeInvalidToken, format, args...)
}
