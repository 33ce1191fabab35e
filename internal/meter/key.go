package meter

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Scope is one permission a credential can carry.
type Scope uint16

// Scopes known to paymeter (docs/design.md §3).
const (
	ScopeChat Scope = 1 << iota
	ScopeEmbeddings
	ScopeImages
	ScopeAudio
	ScopeModels
	ScopeKeys
	ScopeAdmin
)

var scopeNames = []struct {
	s    Scope
	name string
}{
	{ScopeChat, "chat"}, {ScopeEmbeddings, "embeddings"}, {ScopeImages, "images"},
	{ScopeAudio, "audio"}, {ScopeModels, "models"}, {ScopeKeys, "keys"}, {ScopeAdmin, "admin"},
}

// Scopes is a set of Scope values.
type Scopes uint16

// DefaultKeyScopes are given to a key created without explicit scopes:
// everything needed to use the proxy, nothing that manages keys.
const DefaultKeyScopes = Scopes(ScopeChat | ScopeEmbeddings | ScopeImages | ScopeAudio | ScopeModels)

// AllScopes is every known scope.
const AllScopes = Scopes(ScopeChat | ScopeEmbeddings | ScopeImages | ScopeAudio | ScopeModels | ScopeKeys | ScopeAdmin)

// Has reports whether s contains scope.
func (s Scopes) Has(scope Scope) bool { return s&Scopes(scope) != 0 }

// String lists the scopes comma-separated, in a fixed order.
func (s Scopes) String() string {
	var names []string
	for _, n := range scopeNames {
		if s.Has(n.s) {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, ",")
}

// String returns the scope's name.
func (s Scope) String() string { return Scopes(s).String() }

// ParseScopes parses a comma-separated list of scope names.
func ParseScopes(list string) (Scopes, error) {
	var out Scopes
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		found := false
		for _, n := range scopeNames {
			if n.name == name {
				out |= Scopes(n.s)
				found = true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown scope %q", name)
		}
	}
	return out, nil
}

// Key is an API key as stored: never the secret, only its SHA-256 and the
// first 12 characters for people to recognise it by.
type Key struct {
	ID        int64
	AccountID int64
	Name      string
	// Prefix is the key's first 12 characters, safe to log and list.
	Prefix     string
	Hash       [32]byte
	Scopes     Scopes
	RateLimit  int // requests per minute; 0 means the default
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

// KeyStore stores API keys.
type KeyStore interface {
	CreateKey(ctx context.Context, k *Key) error
	FindKeyByHash(ctx context.Context, hash [32]byte) (*Key, error)
	FindKeyByID(ctx context.Context, id int64) (*Key, error)
	FindKeys(ctx context.Context, accountID int64) ([]*Key, error)
	RevokeKey(ctx context.Context, id int64, at time.Time) error
	// RotateKey revokes old and stores its replacement in one transaction.
	RotateKey(ctx context.Context, oldID int64, replacement *Key, at time.Time) error
	// TouchKeys records when keys were last used, in one write for many.
	TouchKeys(ctx context.Context, used map[int64]time.Time) error
}

// PrincipalKind says how a request authenticated.
type PrincipalKind string

// Principal kinds.
const (
	PrincipalAPIKey PrincipalKind = "api_key"
	PrincipalWallet PrincipalKind = "wallet"
	// PrincipalX402 paid for its one request with an x402 payment; its
	// account is the payer's wallet, which keeps the change.
	PrincipalX402 PrincipalKind = "x402"
	// PrincipalSession is a session token minted from an API key.
	PrincipalSession PrincipalKind = "session"
	// PrincipalUser is an app's signed-in user, by a JWT; the app pays.
	PrincipalUser PrincipalKind = "jwt"
)

// Principal is who pays for a request and what it may do.
type Principal struct {
	Kind      PrincipalKind
	AccountID int64
	KeyID     int64
	Scopes    Scopes
	// Label identifies the principal in logs: a key's first 12 characters
	// or a wallet address. Never a secret.
	Label string
	// SessionID is set for session tokens; KeyID is then the parent key.
	SessionID int64
	// Models, when not empty, are the only models the principal may use.
	Models []string
	// Subject is recorded on the journal entries the principal causes: a
	// JWT user ("user:" + sub) or a session token ("session:" + id).
	Subject string
	// Budget, when set, caps the principal's spending (HoldWithin).
	Budget *Budget
	// RateLimit overrides the default requests per minute of its kind.
	RateLimit int
	// KeyExpiresAt is an API key's expiry, which bounds the sessions it mints.
	KeyExpiresAt *time.Time
}

// AllowsModel reports whether the principal may use the model.
func (p *Principal) AllowsModel(model string) bool {
	if len(p.Models) == 0 {
		return true
	}
	for _, m := range p.Models {
		if m == model {
			return true
		}
	}
	return false
}

// RateKey names the principal's rate-limit bucket: one per key, wallet
// or user. A session token spends from its parent key's bucket, so that
// minting tokens never multiplies the key's limit.
func (p *Principal) RateKey() string {
	switch p.Kind {
	case PrincipalAPIKey, PrincipalSession:
		return "k" + strconv.FormatInt(p.KeyID, 10)
	case PrincipalUser:
		return "u" + strconv.FormatInt(p.AccountID, 10) + ":" + p.Subject
	}
	return "w" + strconv.FormatInt(p.AccountID, 10)
}

// Session is a session token as stored (docs/design.md §3): short-lived, minted
// from an API key (its parent) for a browser, never stored in clear.
type Session struct {
	ID        int64
	KeyID     int64
	AccountID int64
	// Prefix is the token's first 12 characters.
	Prefix string
	Hash   [32]byte
	Scopes Scopes
	// Models, when not empty, is the model allowlist.
	Models []string
	// SpendCap, when set, caps what the session may spend in all.
	SpendCap  *Amount
	CreatedAt time.Time
	ExpiresAt time.Time
	// Parent is the parent key as it stands now: revoking or rotating it
	// ends the session.
	ParentRevokedAt *time.Time
	ParentExpiresAt *time.Time
	ParentRateLimit int
}

// SessionStore stores session tokens.
type SessionStore interface {
	CreateSession(ctx context.Context, s *Session) error
	// FindSessionByHash returns the session with its parent key's state.
	FindSessionByHash(ctx context.Context, hash [32]byte) (*Session, error)
}
