package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
)

// Keys, sessions and the SIWX key across instances: nothing of them is
// kept in a process, so what one instance changes the others see at once.

func idMustError(t *testing.T, what string, err error, code, message string) {
	t.Helper()
	var me *meter.Error
	if !errors.As(err, &me) || me.Code != code || me.Message != message {
		t.Fatalf("%s: err=%v, want %s: %s", what, err, code, message)
	}
}

// A key revoked through one instance is refused by the next lookup on
// another; of 10 concurrent rotations of one key over four instances,
// one replaces it and the others find it revoked.
func TestKeys_RevokedOnOneInstanceRefusedOnAnother(t *testing.T) {
	ss, pool := idStores(t, 4)
	ctx := context.Background()
	app := mustApp(t, ss[0].Ledger, 0)
	k := &meter.Key{AccountID: app.ID, Name: "k", Scopes: meter.DefaultKeyScopes, RateLimit: 60}
	secret, err := auth.IssueKey(ctx, ss[0], k, false)
	if err != nil {
		t.Fatal(err)
	}
	keys := auth.NewKeyAuthenticator(ss[1])
	keys.CacheTTL = 0
	if p, err := keys.Authenticate(ctx, secret); err != nil || p.KeyID != k.ID || p.AccountID != app.ID {
		t.Fatalf("a live key on another instance: %+v %v, want key %d", p, err, k.ID)
	}
	at := time.UnixMilli(1_700_000_000_123).UTC()
	if err := ss[0].RevokeKey(ctx, k.ID, at); err != nil {
		t.Fatal(err)
	}
	got, err := ss[2].FindKeyByHash(ctx, k.Hash)
	if err != nil || got.RevokedAt == nil || !got.RevokedAt.Equal(at) || got.ID != k.ID || got.RateLimit != 60 ||
		got.Scopes != meter.DefaultKeyScopes || got.Name != "k" || got.Prefix != k.Prefix || got.Hash != k.Hash {
		t.Fatalf("the revoked key on another instance: %+v %v, want key %d revoked at %s", got, err, k.ID, at)
	}
	if _, err := keys.Authenticate(ctx, secret); meter.ErrorCode(err) != meter.ECodeRevokedAPIKey {
		t.Fatalf("a revoked key on another instance: err=%v, want revoked_api_key", err)
	}
	// Revoking again keeps the first time.
	if err := ss[3].RevokeKey(ctx, k.ID, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := ss[3].FindKeyByID(ctx, k.ID); !got.RevokedAt.Equal(at) {
		t.Fatalf("revoked again: at %s, want %s", got.RevokedAt, at)
	}
	idMustError(t, "revoke an unknown key", ss[0].RevokeKey(ctx, 999, at), meter.ECodeNotFound, "key 999 not found")
	idMustError(t, "rotate a revoked key", ss[0].RotateKey(ctx, k.ID, &meter.Key{Name: "r", Hash: [32]byte{5}}, at),
		meter.ECodeConflict, "key "+itoa(k.ID)+" is revoked and cannot be rotated")

	live := &meter.Key{AccountID: app.ID, Name: "live", Scopes: meter.DefaultKeyScopes}
	if _, err := auth.IssueKey(ctx, ss[0], live, false); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var replaced []*meter.Key
	codes := idRace(t, 10, func(i int) error {
		r := &meter.Key{Name: "rotated", Prefix: "pm_r", Hash: [32]byte{byte(i + 1), 0xee}, Scopes: meter.DefaultKeyScopes}
		err := ss[i%4].RotateKey(ctx, live.ID, r, time.Now())
		if err == nil {
			mu.Lock()
			replaced = append(replaced, r)
			mu.Unlock()
		}
		return err
	})
	idWantCodes(t, "10 rotations of one key", codes, map[string]int{"": 1, meter.ECodeConflict: 9})
	if r := replaced[0]; r.AccountID != app.ID || r.ID == 0 {
		t.Fatalf("replacement %+v, want a key of account %d", r, app.ID)
	}
	if n := idInt(t, pool, `SELECT count(*) FROM api_keys WHERE revoked_at IS NULL`); n != 1 {
		t.Fatalf("%d live keys, want the one replacement", n)
	}
	list, err := ss[1].FindKeys(ctx, app.ID)
	if err != nil || len(list) != 3 || list[0].ID != k.ID || list[1].ID != live.ID || list[2].ID != replaced[0].ID ||
		list[2].RevokedAt != nil || list[1].RevokedAt == nil {
		t.Fatalf("keys %+v (%v), want %d, %d revoked and %d live", list, err, k.ID, live.ID, replaced[0].ID)
	}
	if all, err := ss[1].FindKeys(ctx, 0); err != nil || len(all) != 3 {
		t.Fatalf("every key: %d (%v), want 3", len(all), err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Keys' own refusals, and last-used times that only move forward.
func TestKeys_RefusalsAndTouch(t *testing.T) {
	ss, _ := idStores(t, 2)
	ctx := context.Background()
	app := mustApp(t, ss[0].Ledger, 0)
	idMustError(t, "a key of no account", ss[0].CreateKey(ctx, &meter.Key{AccountID: 999, Name: "x", Hash: [32]byte{1}}),
		meter.ECodeNotFound, "account 999 not found")
	exp := time.UnixMilli(1_900_000_000_000).UTC()
	k := &meter.Key{AccountID: app.ID, Name: "x", Prefix: "pm_x", Hash: [32]byte{1}, Scopes: meter.DefaultKeyScopes, ExpiresAt: &exp}
	if err := ss[0].CreateKey(ctx, k); err != nil || k.ID == 0 || k.CreatedAt.IsZero() {
		t.Fatalf("create: %+v %v", k, err)
	}
	idMustError(t, "a second key of one hash", ss[1].CreateKey(ctx, &meter.Key{AccountID: app.ID, Name: "y", Hash: [32]byte{1}}),
		meter.ECodeConflict, "key already exists")
	idMustError(t, "an unknown hash", func() error { _, err := ss[1].FindKeyByHash(ctx, [32]byte{2}); return err }(),
		meter.ECodeNotFound, "key not found")
	idMustError(t, "an unknown id", func() error { _, err := ss[1].FindKeyByID(ctx, 999); return err }(),
		meter.ECodeNotFound, "key 999 not found")
	idMustError(t, "rotate an unknown key", ss[1].RotateKey(ctx, 999, &meter.Key{Hash: [32]byte{3}}, time.Now()),
		meter.ECodeNotFound, "key 999 not found")
	t1, t2 := time.UnixMilli(1_800_000_000_000).UTC(), time.UnixMilli(1_800_000_500_000).UTC()
	if err := ss[0].TouchKeys(ctx, map[int64]time.Time{k.ID: t2, 999: t2}); err != nil {
		t.Fatal(err)
	}
	if err := ss[1].TouchKeys(ctx, map[int64]time.Time{k.ID: t1}); err != nil {
		t.Fatal(err)
	}
	got, err := ss[1].FindKeyByID(ctx, k.ID)
	if err != nil || got.LastUsedAt == nil || !got.LastUsedAt.Equal(t2) || got.ExpiresAt == nil || !got.ExpiresAt.Equal(exp) ||
		!got.CreatedAt.Equal(k.CreatedAt) {
		t.Fatalf("touched key %+v (%v), want last used %s, expiring %s", got, err, t2, exp)
	}
	if err := ss[0].TouchKeys(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

// A session names its parent key as it is now: revoked through another
// instance, it shows so at once.
func TestSessions_ParentStateAcrossInstances(t *testing.T) {
	ss, _ := idStores(t, 2)
	ctx := context.Background()
	app := mustApp(t, ss[0].Ledger, 0)
	k := &meter.Key{AccountID: app.ID, Name: "parent", Prefix: "pm_p", Hash: [32]byte{1}, Scopes: meter.DefaultKeyScopes, RateLimit: 30}
	if err := ss[0].CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	idMustError(t, "a session of no key", ss[0].CreateSession(ctx, &meter.Session{KeyID: 999, AccountID: app.ID, Hash: [32]byte{9}, ExpiresAt: time.Now()}),
		meter.ECodeNotFound, "key 999 not found")
	spend := 3 * meter.Credit
	exp := time.UnixMilli(1_900_000_000_000).UTC()
	se := &meter.Session{KeyID: k.ID, AccountID: app.ID, Prefix: "ps_1", Hash: [32]byte{2}, Scopes: meter.Scopes(meter.ScopeChat),
		Models: []string{"a", "b"}, SpendCap: &spend, ExpiresAt: exp}
	if err := ss[0].CreateSession(ctx, se); err != nil || se.ID == 0 {
		t.Fatalf("create session: %+v %v", se, err)
	}
	idMustError(t, "a second session of one hash", ss[1].CreateSession(ctx, &meter.Session{KeyID: k.ID, AccountID: app.ID, Hash: [32]byte{2}, ExpiresAt: exp}),
		meter.ECodeConflict, "session token already exists")
	at := time.UnixMilli(1_700_000_000_000).UTC()
	if err := ss[0].RevokeKey(ctx, k.ID, at); err != nil {
		t.Fatal(err)
	}
	got, err := ss[1].FindSessionByHash(ctx, [32]byte{2})
	if err != nil || got.ID != se.ID || got.KeyID != k.ID || got.AccountID != app.ID || got.Prefix != "ps_1" ||
		got.Scopes != meter.Scopes(meter.ScopeChat) || len(got.Models) != 2 || got.Models[0] != "a" || got.Models[1] != "b" ||
		got.SpendCap == nil || *got.SpendCap != spend || !got.ExpiresAt.Equal(exp) || !got.CreatedAt.Equal(se.CreatedAt) ||
		got.ParentRevokedAt == nil || !got.ParentRevokedAt.Equal(at) || got.ParentExpiresAt != nil || got.ParentRateLimit != 30 {
		t.Fatalf("session %+v (%v), want session %d of key %d revoked at %s", got, err, se.ID, k.ID, at)
	}
	idMustError(t, "an unknown session", func() error { _, err := ss[1].FindSessionByHash(ctx, [32]byte{3}); return err }(),
		meter.ECodeNotFound, "session not found")
}

// Four instances starting at once agree on one SIWX key, the stored one.
func TestSIWX_KeySameOnEveryInstance(t *testing.T) {
	ss, pool := idStores(t, 4)
	ctx := context.Background()
	keys := make([][]byte, 4)
	codes := idRace(t, 4, func(i int) error {
		var err error
		keys[i], err = ss[i].SIWXKey(ctx)
		return err
	})
	idWantCodes(t, "4 instances asking for the key", codes, map[string]int{"": 4})
	var stored []byte
	if err := pool.QueryRow(ctx, `SELECT key FROM siwx_key WHERE id = 1`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if len(k) != 32 || !bytes.Equal(k, stored) {
			t.Fatalf("instance %d: key %x, want the stored %x", i, k, stored)
		}
	}
	if n := idInt(t, pool, `SELECT count(*) FROM siwx_key`); n != 1 {
		t.Fatalf("%d keys stored, want 1", n)
	}
	if again, err := ss[2].SIWXKey(ctx); err != nil || !bytes.Equal(again, stored) {
		t.Fatalf("asked again: %x %v, want %x", again, err, stored)
	}
}
