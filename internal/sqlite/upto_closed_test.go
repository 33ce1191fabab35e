package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/sqlite"
)

// closed_at marks the final states only (migration 0016): a capture of a
// cost leaves its authorization open for the settler, a capture of nothing,
// a release and a settlement close it; verify notices an open one marked
// closed, which the settler would never see.
func TestUpto_ClosedAtFollowsTheState(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	l := MustOpenLedger(t, db)
	charge := meter.Charge{Cost: 1_234_567, RequestID: "r", Model: "m"}
	due, nothing, released, settled := uptoAuth(uptoPayer, 5000), uptoAuth(uptoPayer, 5000), uptoAuth(uptoPayer, 5000), uptoAuth(uptoPayer, 5000)
	for _, a := range []*meter.UptoAuthorization{due, nothing, released, settled} {
		mustClaimUpto(t, l, a, roomy)
	}
	for _, step := range []error{
		l.CaptureUpto(ctx, due.ID, charge, 1235),
		l.CaptureUpto(ctx, nothing.ID, meter.Charge{RequestID: "r0", Model: "m"}, 0),
		l.ReleaseUpto(ctx, released.ID),
		l.CaptureUpto(ctx, settled.ID, charge, 1235),
		l.SettleUpto(ctx, settled.ID, "0x"+strings.Repeat("ab", 32)),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	open := func(id int64) int64 {
		return db.Count(t, `SELECT closed_at IS NULL FROM upto_authorizations WHERE id = ?`, id)
	}
	if open(due.ID) != 1 || open(nothing.ID) != 0 || open(released.ID) != 0 || open(settled.ID) != 0 {
		t.Fatalf("open (closed_at NULL): due %d, nothing %d, released %d, settled %d; want 1 0 0 0",
			open(due.ID), open(nothing.ID), open(released.ID), open(settled.ID))
	}
	work, err := l.DueUpto(ctx, time.Now(), time.Now(), time.Now(), 10)
	if err != nil || len(work) != 1 || work[0].ID != due.ID {
		t.Fatalf("settler's work %v, %v: want the due one alone", work, err)
	}
	mustVerify(t, l)

	if err := db.Exec(`UPDATE upto_authorizations SET closed_at = 1 WHERE id = ?`, due.ID); err != nil {
		t.Fatal(err)
	}
	v, err := l.Verify(ctx)
	if err != nil || len(v) != 1 || !strings.Contains(v[0], "closed unlike its state") {
		t.Fatalf("verify of a due authorization marked closed: %q, %v", v, err)
	}
}

// Migration 0016 closes the authorizations already final, and only them.
func TestMigration0016_ClosesTheFinalOnes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "paymeter.db")
	var rows []string
	for i, state := range []string{"claimed", "due", "settling", "failed", "settled", "released"} {
		rows = append(rows, `INSERT INTO upto_authorizations (key, network, token, payer, account_id, max, amount, state,
			deadline, payload, requirement, created_at, updated_at) VALUES ('k`+state+`', 'base-sepolia', '0xt', '0xp', 1, 10, 0, '`+state+`',
			0, '{}', '{}', 1, `+string(rune('1'+i))+`)`)
	}
	if err := sqlite.MigrateTo(path, 15, append([]string{`INSERT INTO accounts (id, kind, address, created_at) VALUES (1, 'wallet', '0xp', 0)`}, rows...)...); err != nil {
		t.Fatal(err)
	}
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for state, want := range map[string]string{"claimed": "open", "due": "open", "settling": "open", "failed": "open", "settled": "5", "released": "6"} {
		var got string
		if db.Count(t, `SELECT closed_at IS NULL FROM upto_authorizations WHERE state = ?`, state) == 1 {
			got = "open"
		} else {
			got = string(rune('0' + db.Count(t, `SELECT closed_at FROM upto_authorizations WHERE state = ?`, state)))
		}
		if got != want {
			t.Errorf("%s: closed_at %s, want %s (its updated_at)", state, got, want)
		}
	}
}

// An authorization finished by a binary older than migration 0016 (its
// final move leaves closed_at unset) is closed by the next sweep.
func TestUpto_SweepClosesWhatAnOlderBinaryFinished(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	l := MustOpenLedger(t, db)
	a := uptoAuth(uptoPayer, 5000)
	mustClaimUpto(t, l, a, roomy)
	if err := l.ReleaseUpto(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`UPDATE upto_authorizations SET closed_at = NULL WHERE id = ?`, a.ID); err != nil { // as the old binary left it
		t.Fatal(err)
	}
	if _, err := l.ReleaseExpired(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if open := db.Count(t, `SELECT count(*) FROM upto_authorizations WHERE closed_at IS NULL`); open != 0 {
		t.Fatalf("%d finished authorizations still open after the sweep", open)
	}
	mustVerify(t, l)
}

// A refused claim leaves no write behind: a key used before, claimed for
// a payer new to the ledger (impossible from x402, whose key names the
// payer), fails rather than keep the new payer's account.
func TestUpto_UsedKeyOfANewPayerKeepsNoAccount(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	l := MustOpenLedger(t, db)
	a := uptoAuth(uptoPayer, 5000)
	mustClaimUpto(t, l, a, roomy)
	const stranger = "0x0000000000000000000000000000000000000B0b"
	b := uptoAuth(stranger, 5000)
	b.Key = a.Key
	var answer *meter.Error
	if err := l.ClaimUpto(ctx, b, roomy); err == nil || errors.As(err, &answer) {
		t.Fatalf("claim of a used key for a new payer: %v, want an internal error", err)
	}
	if n := db.Count(t, `SELECT count(*) FROM accounts WHERE address = ?`, stranger); n != 0 {
		t.Fatalf("%d accounts of the new payer kept behind the refusal", n)
	}
	mustVerify(t, l)
}
