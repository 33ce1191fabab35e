package sqlite_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// Replay records an earlier version kept (seen_messages by the replay
// key or by the message hash alone, siwx_nonces by the nonce) still refuse
// their messages and nonces after migration 0012, which keeps new ones in
// time order; the sweep purges the expired ones of both.
func TestReplayRecords_EarlierVersionsStillRefuse(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	l := MustOpenLedger(t, db)
	const alice = "0x00000000000000000000000000000000000A11cE"
	now := time.Now()
	until := now.Add(time.Minute).UnixMilli()
	var keyed, hashed [32]byte
	keyed[0], hashed[0] = 1, 2
	replayKey := func(hash [32]byte) []byte { // as wallets.go keys a message
		k := sha256.Sum256(append(append(append([]byte("paymeter wallet message\x00"), alice...), 0), hash[:]...))
		return k[:]
	}
	for _, row := range [][]byte{replayKey(keyed), hashed[:]} {
		if err := db.Exec(`INSERT INTO seen_messages (hash, expires_at) VALUES (?, ?)`, row, until); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Exec(`INSERT INTO siwx_nonces (nonce, address, expires_at) VALUES ('old', ?, ?)`, alice, until); err != nil {
		t.Fatal(err)
	}
	free := meter.FreeGrant{}
	for name, hash := range map[string][32]byte{"by replay key": keyed, "by message hash": hashed} {
		if _, err := l.AcceptWalletMessage(ctx, alice, hash, now, now.Add(time.Minute), free); meter.ErrorCode(err) != meter.ECodeSignatureReplayed {
			t.Fatalf("message claimed before %s: %v, want signature_replayed", name, err)
		}
	}
	if _, err := l.AcceptSIWXNonce(ctx, "old", alice, now, now.Add(time.Minute), free); meter.ErrorCode(err) != meter.ECodeSignatureReplayed {
		t.Fatalf("nonce claimed before: %v, want signature_replayed", err)
	}
	// New claims, once each.
	var fresh [32]byte
	fresh[0] = 3
	for try := range 2 {
		_, err := l.AcceptWalletMessage(ctx, alice, fresh, now, now.Add(time.Minute), free)
		_, serr := l.AcceptSIWXNonce(ctx, "new", alice, now, now.Add(time.Minute), free)
		if want := try == 1; (meter.ErrorCode(err) == meter.ECodeSignatureReplayed) != want || (meter.ErrorCode(serr) == meter.ECodeSignatureReplayed) != want {
			t.Fatalf("try %d: message %v, nonce %v", try, err, serr)
		}
	}
	if n := db.Count(t, `SELECT count(*) FROM wallet_messages`) + db.Count(t, `SELECT count(*) FROM siwx_claims`); n != 2 {
		t.Fatalf("%d new replay records, want 2", n)
	}
	// Expired, all of them go.
	if _, err := l.ReleaseExpired(ctx, now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"seen_messages", "siwx_nonces", "wallet_messages", "siwx_claims"} {
		if n := db.Count(t, `SELECT count(*) FROM `+table); n != 0 {
			t.Fatalf("%s: %d rows left after they expired", table, n)
		}
	}
}
