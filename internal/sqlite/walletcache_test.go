package sqlite_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// Wallets remembered by address keep their accounts: the ids the ledger
// answers match the stored accounts, also for wallets first seen in a
// batch that failed as a whole (and was retried op by op), whose new
// accounts were rolled back with it.
func TestWalletIDs_RolledBackWalletsAreNotRemembered(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	l := MustOpenLedger(t, db)
	// A credit with the reference "boom" fails its whole batch.
	if err := db.Exec(`CREATE TRIGGER boom BEFORE INSERT ON entries WHEN NEW.ref = 'boom'
		BEGIN SELECT RAISE(ABORT, 'boom'); END`); err != nil {
		t.Fatal(err)
	}
	app := &meter.Account{Kind: meter.AccountApp, Name: "boom"}
	if err := l.CreateAccount(ctx, app); err != nil {
		t.Fatal(err)
	}
	free := meter.FreeGrant{Amount: 0}
	for round := range 20 {
		addr := fmt.Sprintf("0x%040x", round+1)
		var wg sync.WaitGroup
		ids := make(chan int64, 8)
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i == 3 {
					l.Credit(ctx, app.ID, meter.EntryGrant, meter.Credit, "boom")
					return
				}
				var hash [32]byte
				hash[0], hash[1] = byte(round), byte(i)
				a, err := l.AcceptWalletMessage(ctx, addr, hash, time.Now(), time.Now().Add(time.Minute), free)
				if err != nil {
					t.Errorf("accept: %v", err)
					return
				}
				ids <- a.ID
			}()
		}
		wg.Wait()
		close(ids)
		stored := db.Count(t, `SELECT id FROM accounts WHERE address = ?`, addr)
		for id := range ids {
			if id != stored {
				t.Fatalf("round %d: wallet account %d, stored %d", round, id, stored)
			}
		}
		// And afterwards, from memory.
		var hash [32]byte
		hash[0], hash[2] = byte(round), 0xff
		if a, err := l.AcceptWalletMessage(ctx, addr, hash, time.Now(), time.Now().Add(time.Minute), free); err != nil || a.ID != stored {
			t.Fatalf("round %d: later %+v %v, want account %d", round, a, err, stored)
		}
	}
}
