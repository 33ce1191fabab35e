package auth_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/sqlite"
)

// countingStore is the real SQLite key store, counting lookups so that a
// test can prove which requests reached the database.
type countingStore struct {
	*sqlite.KeyStore
	lookups atomic.Int32
}

func (s *countingStore) FindKeyByHash(ctx context.Context, h [32]byte) (*meter.Key, error) {
	s.lookups.Add(1)
	return s.KeyStore.FindKeyByHash(ctx, h)
}

type fixture struct {
	store   *countingStore
	auth    *auth.KeyAuthenticator
	now     time.Time
	account *meter.Account
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "keys.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	l, err := sqlite.NewLedger(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	a := &meter.Account{Kind: meter.AccountApp, Name: "app"}
	if err := l.CreateAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: &countingStore{KeyStore: sqlite.NewKeyStore(db)}, now: time.Now(), account: a}
	f.auth = auth.NewKeyAuthenticator(f.store)
	f.auth.Now = func() time.Time { return f.now }
	return f
}

func (f *fixture) issue(t *testing.T, k *meter.Key) string {
	t.Helper()
	k.AccountID = f.account.ID
	if k.Scopes == 0 {
		k.Scopes = meter.DefaultKeyScopes
	}
	secret, err := auth.IssueKey(context.Background(), f.store, k, false)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func TestKeyAuthenticator_Valid(t *testing.T) {
	f := newFixture(t)
	k := &meter.Key{Name: "ci", Scopes: meter.Scopes(meter.ScopeChat)}
	secret := f.issue(t, k)
	p, err := f.auth.Authenticate(context.Background(), secret)
	if err != nil {
		t.Fatal(err)
	}
	if p.AccountID != f.account.ID || p.KeyID != k.ID || p.Label != secret[:12] || !p.Scopes.Has(meter.ScopeChat) || p.Scopes.Has(meter.ScopeEmbeddings) {
		t.Fatalf("principal=%+v, want account %d key %d label %s scopes chat", p, f.account.ID, k.ID, secret[:12])
	}
	stored, err := f.store.FindKeyByID(context.Background(), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Hash != auth.HashKey(secret) || stored.Prefix != secret[:12] {
		t.Fatalf("stored key prefix=%s, want the hash and first 12 chars only", stored.Prefix)
	}
}

func TestKeyAuthenticator_BadChecksumNeverQueries(t *testing.T) {
	f := newFixture(t)
	secret := f.issue(t, &meter.Key{Name: "k"})
	c := byte('A')
	if secret[30] == c {
		c = 'B'
	}
	tampered := secret[:30] + string(c) + secret[31:]
	if tampered == secret {
		t.Fatal("tamper did not change the key")
	}
	for _, bad := range []string{tampered, "pm_live_short", secret + "x"} {
		if _, err := f.auth.Authenticate(context.Background(), bad); meter.ErrorCode(err) != meter.ECodeInvalidAPIKey {
			t.Fatalf("err=%v, want invalid_api_key", err)
		}
	}
	if n := f.store.lookups.Load(); n != 0 {
		t.Fatalf("lookups=%d, want 0 for malformed keys", n)
	}
	// A well-formed but unknown key is looked up, and refused.
	if _, err := f.auth.Authenticate(context.Background(), auth.GenerateKey(false)); meter.ErrorCode(err) != meter.ECodeInvalidAPIKey {
		t.Fatalf("unknown key err=%v, want invalid_api_key", err)
	}
	if n := f.store.lookups.Load(); n != 1 {
		t.Fatalf("lookups=%d, want 1", n)
	}
}

func TestKeyAuthenticator_Expiry(t *testing.T) {
	f := newFixture(t)
	exp := f.now.Add(24 * time.Hour)
	secret := f.issue(t, &meter.Key{Name: "k", ExpiresAt: &exp})
	if _, err := f.auth.Authenticate(context.Background(), secret); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	f.now = exp
	if _, err := f.auth.Authenticate(context.Background(), secret); meter.ErrorCode(err) != meter.ECodeExpiredAPIKey {
		t.Fatalf("at expiry err=%v, want expired_api_key", err)
	}
}

// Revocation and rotation reach a cached key within the cache TTL, which
// is below one second.
func TestKeyAuthenticator_RevocationWithinOneSecond(t *testing.T) {
	if auth.DefaultKeyCacheTTL >= time.Second {
		t.Fatalf("cache TTL %s, want < 1s", auth.DefaultKeyCacheTTL)
	}
	f := newFixture(t)
	k := &meter.Key{Name: "k"}
	secret := f.issue(t, k)
	ctx := context.Background()
	if _, err := f.auth.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if err := f.store.RevokeKey(ctx, k.ID, f.now); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(auth.DefaultKeyCacheTTL)
	if _, err := f.auth.Authenticate(ctx, secret); meter.ErrorCode(err) != meter.ECodeRevokedAPIKey {
		t.Fatalf("after revocation err=%v, want revoked_api_key", err)
	}

	k2 := &meter.Key{Name: "rotating"}
	old := f.issue(t, k2)
	if _, err := f.auth.Authenticate(ctx, old); err != nil {
		t.Fatal(err)
	}
	fresh, nk, err := auth.RotateKey(ctx, f.store, k2.ID, f.now, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(auth.DefaultKeyCacheTTL)
	if _, err := f.auth.Authenticate(ctx, old); meter.ErrorCode(err) != meter.ECodeRevokedAPIKey {
		t.Fatalf("old key after rotation err=%v, want revoked_api_key", err)
	}
	p, err := f.auth.Authenticate(ctx, fresh)
	if err != nil || p.KeyID != nk.ID || nk.Name != "rotating" {
		t.Fatalf("rotated key: principal=%+v err=%v, want key %d named rotating", p, err, nk.ID)
	}
	if _, _, err := auth.RotateKey(ctx, f.store, k2.ID, f.now, nil); meter.ErrorCode(err) != meter.ECodeConflict {
		t.Fatalf("rotating a revoked key err=%v, want conflict", err)
	}
}

// BenchmarkKeyAuthenticator_Cached is the per-request cost of checking a
// key that is in the cache: format, checksum, SHA-256, lookup.
func BenchmarkKeyAuthenticator_Cached(b *testing.B) {
	db := sqlite.NewDB(filepath.Join(b.TempDir(), "bench.db"))
	if err := db.Open(); err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	keys := sqlite.NewKeyStore(db)
	l, err := sqlite.NewLedger(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	a := &meter.Account{Kind: meter.AccountApp, Name: "bench"}
	if err := l.CreateAccount(context.Background(), a); err != nil {
		b.Fatal(err)
	}
	secret, err := auth.IssueKey(context.Background(), keys, &meter.Key{AccountID: a.ID, Name: "k", Scopes: meter.DefaultKeyScopes}, false)
	if err != nil {
		b.Fatal(err)
	}
	ka := auth.NewKeyAuthenticator(keys)
	ka.CacheTTL = time.Hour
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := ka.Authenticate(context.Background(), secret); err != nil {
			b.Fatal(err)
		}
	}
}

// Last use is recorded without a write per request: collected in memory,
// written by FlushLastUsed.
func TestKeyAuthenticator_LastUsedCoalesced(t *testing.T) {
	f := newFixture(t)
	k := &meter.Key{Name: "k"}
	secret := f.issue(t, k)
	ctx := context.Background()
	f.now = time.UnixMilli(1_800_000_000_000)
	for range 3 {
		if _, err := f.auth.Authenticate(ctx, secret); err != nil {
			t.Fatal(err)
		}
	}
	if stored, _ := f.store.FindKeyByID(ctx, k.ID); stored.LastUsedAt != nil {
		t.Fatalf("last used written before a flush: %v", stored.LastUsedAt)
	}
	if err := f.auth.FlushLastUsed(ctx); err != nil {
		t.Fatal(err)
	}
	stored, err := f.store.FindKeyByID(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.LastUsedAt == nil || !stored.LastUsedAt.Equal(f.now) {
		t.Fatalf("last used=%v, want %v", stored.LastUsedAt, f.now)
	}
	// An older time never overwrites a newer one.
	if err := f.store.TouchKeys(ctx, map[int64]time.Time{k.ID: f.now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if stored, _ := f.store.FindKeyByID(ctx, k.ID); !stored.LastUsedAt.Equal(f.now) {
		t.Fatalf("last used=%v after an older touch, want %v", stored.LastUsedAt, f.now)
	}
}
