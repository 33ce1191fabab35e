package sqlite_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/sqlite"
)

// A sign-in-with-x nonce is claimed once, by whichever wallet, durably:
// after a restart too, until it expires and the sweep purges it. The first
// claim of a wallet creates its account with its free credits, once.
func TestAcceptSIWXNonce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "siwx.db")
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	l, err := sqlite.NewLedger(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	const alice, bob = "0x00000000000000000000000000000000000A11cE", "0x0000000000000000000000000000000000000B0b"
	now := time.Now()
	free := meter.FreeGrant{Amount: 5 * meter.Credit, Client: "192.0.2.1"}
	a, err := l.AcceptSIWXNonce(ctx, "n1", alice, now, now.Add(time.Minute), free)
	if err != nil || a.FreeGranted != 5*meter.Credit {
		t.Fatalf("first claim: %+v %v", a, err)
	}
	for _, who := range []string{alice, bob} {
		if _, err := l.AcceptSIWXNonce(ctx, "n1", who, now, now.Add(time.Minute), free); meter.ErrorCode(err) != meter.ECodeSignatureReplayed {
			t.Fatalf("n1 again by %s: %v, want signature_replayed", who, err)
		}
	}
	b, err := l.AcceptSIWXNonce(ctx, "n2", alice, now, now.Add(time.Minute), free)
	if err != nil || b.ID != a.ID || b.FreeGranted != 0 {
		t.Fatalf("second nonce of the same wallet: %+v %v, want its account, no new grant", b, err)
	}
	if acct, _ := l.FindAccountByID(ctx, a.ID); acct.Balance != 5*meter.Credit {
		t.Fatalf("balance %s, want the one grant of 5", acct.Balance)
	}
	key, err := l.SIWXKey(ctx)
	if err != nil || len(key) != 32 {
		t.Fatalf("key %x %v", key, err)
	}
	l.Close()
	db.Close()

	db = mustReopenDB(t, path)
	l = MustOpenLedger(t, db)
	if _, err := l.AcceptSIWXNonce(ctx, "n1", bob, now, now.Add(time.Minute), free); meter.ErrorCode(err) != meter.ECodeSignatureReplayed {
		t.Fatalf("n1 after a restart: %v, want signature_replayed", err)
	}
	if again, err := l.SIWXKey(ctx); err != nil || !bytes.Equal(again, key) {
		t.Fatalf("key after a restart %x (%v), want %x", again, err, key)
	}
	// Once it can no longer be accepted, the claim is purged.
	if _, err := l.ReleaseExpired(ctx, now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AcceptSIWXNonce(ctx, "n1", bob, now, now.Add(3*time.Minute), free); err != nil {
		t.Fatalf("n1 after its claim expired and was purged: %v", err)
	}
}

// mustReopenDB opens the database file at path, closed when the test ends.
func mustReopenDB(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
