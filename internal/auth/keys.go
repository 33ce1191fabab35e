package auth

import (
	"context"
	"crypto/subtle"
	"sync"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// DefaultKeyCacheTTL bounds how stale a cached key may be. Revocation and
// rotation (which may happen in another process, through the CLI) must
// take effect within one second; half of that leaves room for the lookup.
const DefaultKeyCacheTTL = 500 * time.Millisecond

// maxCachedKeys bounds the cache; past it, expired entries are swept.
const maxCachedKeys = 100_000

// KeyAuthenticator checks API keys against the key store, with a short
// cache so that a busy key costs one lookup per TTL instead of one per
// request.
type KeyAuthenticator struct {
	Keys meter.KeyStore
	// Sessions stores session tokens; nil refuses them.
	Sessions meter.SessionStore
	// Now is the clock; tests replace it.
	Now func() time.Time
	// CacheTTL is how long a looked-up key is trusted.
	CacheTTL time.Duration

	keys     recordCache[*meter.Key]
	sessions recordCache[*meter.Session]

	// used collects when each key was last used, for FlushLastUsed: one
	// write every few seconds instead of one per request.
	usedMu sync.Mutex
	used   map[int64]time.Time
}

// NewKeyAuthenticator returns a KeyAuthenticator on keys.
func NewKeyAuthenticator(keys meter.KeyStore) *KeyAuthenticator {
	return &KeyAuthenticator{Keys: keys, Now: time.Now, CacheTTL: DefaultKeyCacheTTL,
		used: make(map[int64]time.Time)}
}

// Authenticate checks a raw API key or session token. A bad key is a
// *meter.Error (invalid_api_key, expired_api_key, revoked_api_key), a bad
// session token an invalid_token; any other error means the check itself
// failed.
func (a *KeyAuthenticator) Authenticate(ctx context.Context, raw string) (*meter.Principal, error) {
	if IsSessionShaped(raw) {
		return a.authenticateSession(ctx, raw)
	}
	if err := CheckKeyFormat(raw); err != nil {
		return nil, err
	}
	hash := HashKey(raw)
	k, err := a.lookup(ctx, hash)
	if err != nil {
		return nil, err
	}
	// The lookup was by hash; comparing the stored hash again in constant
	// time keeps that true whatever the store does.
	if subtle.ConstantTimeCompare(k.Hash[:], hash[:]) != 1 {
		return nil, meter.Errorf(meter.ECodeInvalidAPIKey, "unknown API key")
	}
	now := a.Now()
	switch {
	case k.RevokedAt != nil && !now.Before(*k.RevokedAt):
		return nil, meter.Errorf(meter.ECodeRevokedAPIKey, "API key %s has been revoked", k.Prefix)
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return nil, meter.Errorf(meter.ECodeExpiredAPIKey, "API key %s expired at %s", k.Prefix, k.ExpiresAt.Format(time.RFC3339))
	}
	a.markUsed(k.ID, now)
	return &meter.Principal{Kind: meter.PrincipalAPIKey, AccountID: k.AccountID, KeyID: k.ID, Scopes: k.Scopes, Label: k.Prefix,
		RateLimit: k.RateLimit, KeyExpiresAt: k.ExpiresAt}, nil
}

// markUsed notes a key's use for the next FlushLastUsed.
func (a *KeyAuthenticator) markUsed(id int64, now time.Time) {
	a.usedMu.Lock()
	a.used[id] = now
	a.usedMu.Unlock()
}

// FlushLastUsed writes the last-use times collected since the previous
// flush. On failure they are kept for the next one.
func (a *KeyAuthenticator) FlushLastUsed(ctx context.Context) error {
	a.usedMu.Lock()
	used := a.used
	a.used = make(map[int64]time.Time, len(used))
	a.usedMu.Unlock()
	if err := a.Keys.TouchKeys(ctx, used); err != nil {
		a.usedMu.Lock()
		for id, t := range used {
			if t.After(a.used[id]) {
				a.used[id] = t
			}
		}
		a.usedMu.Unlock()
		return err
	}
	return nil
}

func (a *KeyAuthenticator) lookup(ctx context.Context, hash [32]byte) (*meter.Key, error) {
	k, err := a.keys.get(ctx, hash, a.Now(), a.CacheTTL, a.Keys.FindKeyByHash)
	if meter.ErrorCode(err) == meter.ECodeNotFound {
		return nil, meter.Errorf(meter.ECodeInvalidAPIKey, "unknown API key")
	}
	return k, err
}

// IssueKey generates a key for k's account, fills k's prefix and hash,
// stores it and returns the secret: the only time it exists outside the
// caller's hands.
func IssueKey(ctx context.Context, keys meter.KeyStore, k *meter.Key, test bool) (string, error) {
	secret := GenerateKey(test)
	k.Prefix, k.Hash = DisplayKey(secret), HashKey(secret)
	if err := keys.CreateKey(ctx, k); err != nil {
		return "", err
	}
	return secret, nil
}

// RotateKey replaces the key oldID with a new secret carrying the same
// name, scopes, rate limit and expiry, revoking the old one at once.
// bound, if not nil, may lower the replacement's settings first (the key
// API bounds them by its caller's own).
func RotateKey(ctx context.Context, keys meter.KeyStore, oldID int64, now time.Time, bound func(*meter.Key)) (string, *meter.Key, error) {
	old, err := keys.FindKeyByID(ctx, oldID)
	if err != nil {
		return "", nil, err
	}
	secret := GenerateKey(old.Prefix[:len(TestKeyPrefix)] == TestKeyPrefix)
	k := &meter.Key{Name: old.Name, Scopes: old.Scopes, RateLimit: old.RateLimit, ExpiresAt: old.ExpiresAt,
		Prefix: DisplayKey(secret), Hash: HashKey(secret)}
	if bound != nil {
		bound(k)
	}
	if err := keys.RotateKey(ctx, oldID, k, now); err != nil {
		return "", nil, err
	}
	return secret, k, nil
}
