package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/postgres"
)

// A capture above its hold and a HoldWithin of the same budget that the
// writer puts in one batch: the budget is read from the database after
// the capture was decided in memory, so the capture's charge is not in
// "spent" (and its hold, settled in memory, is still in "held"). The
// second hold is granted although spent+held+amount passes the cap.
func TestReview_BudgetCapOverspentWithinOneBatch(t *testing.T) {
	pool := testPool(t)
	ctx := context.Background()
	l := postgres.NewLedger(pool, quiet)
	defer l.Close()
	a := mustApp(t, l, 1000*meter.Credit)
	bud := meter.Budget{Subject: "user-1", Since: time.Now().Add(-time.Hour), Cap: 60 * meter.Credit}

	h1, err := l.HoldWithin(ctx, a.ID, 10*meter.Credit, time.Minute, bud)
	if err != nil {
		t.Fatal(err)
	}

	// Block the writer on a batch that needs the account's row lock, so
	// that the capture and the next hold queue and share the next batch.
	blocker, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := blocker.Exec(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, a.ID); err != nil {
		t.Fatal(err)
	}
	credited := make(chan error, 1)
	go func() { _, err := l.Credit(ctx, a.ID, meter.EntryGrant, 1, "blocker"); credited <- err }()
	time.Sleep(200 * time.Millisecond)

	captured := make(chan error, 1)
	go func() {
		_, err := l.Capture(ctx, meter.Charge{HoldID: h1.ID, AccountID: a.ID, Cost: 50 * meter.Credit, Subject: bud.Subject})
		captured <- err
	}()
	time.Sleep(200 * time.Millisecond)
	held := make(chan error, 1)
	go func() { _, err := l.HoldWithin(ctx, a.ID, 20*meter.Credit, time.Minute, bud); held <- err }()
	time.Sleep(200 * time.Millisecond)
	if err := blocker.Rollback(ctx); err != nil && err != pgx.ErrTxClosed {
		t.Fatal(err)
	}
	if err := <-credited; err != nil {
		t.Fatal(err)
	}
	if err := <-captured; err != nil {
		t.Fatal(err)
	}
	holdErr := <-held
	use, err := l.FindBudgetUse(ctx, a.ID, bud)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second hold: %v; budget use spent=%s held=%s cap=%s", holdErr, use.Spent, use.Held, bud.Cap)
	if holdErr == nil && use.Spent+use.Held > bud.Cap {
		t.Fatalf("cap %s overspent: spent %s + held %s", bud.Cap, use.Spent, use.Held)
	}
}
