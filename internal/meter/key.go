package meter

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Scope is one permission a credential can carry.
type Scope uint16

// Scopes known to paymeter (DESIGN.md §3).
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
}
