package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/postgres"
)

// A request that outlives its hold's TTL keeps its hold: its instance's
// Maintain renews it ahead of time, so another instance's expiry, running
// all along, never releases it; a hold of an instance that died (its
// request was running, but nothing renews it any more) is released once
// its TTL passes, and the running request's hold too, a TTL after its
// request ended.
func TestLedger_RunningRequestsHoldsRenewedAcrossInstances(t *testing.T) {
	pool := testPool(t)
	ctx := context.Background()
	live, other, dead := postgres.NewLedger(pool, quiet), postgres.NewLedger(pool, quiet), postgres.NewLedger(pool, quiet)
	defer live.Close()
	defer other.Close()
	defer dead.Close()
	var liveRunning, deadRunning meter.InFlight
	live.SetInFlight(&liveRunning)
	dead.SetInFlight(&deadRunning)
	acct := mustApp(t, other, 5*meter.Credit)
	const ttl = 2 * time.Second
	running, err := live.Hold(ctx, acct.ID, meter.Credit, ttl)
	if err != nil {
		t.Fatal(err)
	}
	end := liveRunning.Begin(running.ID)
	orphan, err := dead.Hold(ctx, acct.ID, 2*meter.Credit, ttl)
	if err != nil {
		t.Fatal(err)
	}
	deadRunning.Begin(orphan.ID) // it died serving it: no Maintain renews it

	mctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	wg.Add(2)
	go func() { defer wg.Done(); live.Maintain(mctx, 250*time.Millisecond) }()
	var ended, lost atomic.Bool
	go func() { // the other instance's expiry, every 50 ms, watching the held total
		defer wg.Done()
		for mctx.Err() == nil {
			if _, err := other.ReleaseExpired(ctx, time.Now()); err != nil {
				t.Error(err)
				return
			}
			if a, err := other.FindAccountByID(ctx, acct.ID); err == nil && a.Held < meter.Credit && !ended.Load() {
				lost.Store(true) // the running request's hold was released under it
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	time.Sleep(2*ttl + 500*time.Millisecond) // two TTLs: the orphan is gone, the running hold renewed
	got, err := other.FindAccountByID(ctx, acct.ID)
	if err != nil || got.Held != meter.Credit || lost.Load() {
		t.Fatalf("held %s (%v, released under the request: %v) while the request runs, want its 1 alone", got.Held, err, lost.Load())
	}

	ended.Store(true)
	end() // the request ends without capturing (a bug, or a crash of its handler): its hold lapses a TTL later
	time.Sleep(ttl + 750*time.Millisecond)
	got, err = other.FindAccountByID(ctx, acct.ID)
	if err != nil || got.Held != 0 || got.Balance != 5*meter.Credit {
		t.Fatalf("account %s held %s (%v), want 5 and 0", got.Balance, got.Held, err)
	}
	mustVerify(t, other)
}

// Renewal moves only this instance's running holds: ReleaseExpired on the
// instance serving a request renews its hold rather than releasing it,
// and its charge is then captured from the hold.
func TestLedger_ReleaseExpiredRenewsOwnRunningHold(t *testing.T) {
	pool := testPool(t)
	ctx := context.Background()
	l := postgres.NewLedger(pool, quiet)
	defer l.Close()
	var running meter.InFlight
	l.SetInFlight(&running)
	acct := mustApp(t, l, 3*meter.Credit)
	h, err := l.Hold(ctx, acct.ID, 2*meter.Credit, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	idle, err := l.Hold(ctx, acct.ID, meter.Credit, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	end := running.Begin(h.ID)
	if n, err := l.ReleaseExpired(ctx, time.Now().Add(5*time.Second)); err != nil || n != 1 {
		t.Fatalf("released %d (%v), want 1: the idle hold", n, err)
	}
	end()
	if err := l.Release(ctx, idle.ID); meter.ErrorCode(err) != meter.ECodeNotFound {
		t.Fatalf("release of the expired idle hold: %v, want not_found", err)
	}
	if charged, err := l.Capture(ctx, meter.Charge{HoldID: h.ID, AccountID: acct.ID, Cost: meter.Credit + meter.Credit/2}); err != nil || charged != meter.Credit+meter.Credit/2 {
		t.Fatalf("captured %s (%v), want 1.5", charged, err)
	}
	got, _ := l.FindAccountByID(ctx, acct.ID)
	if got.Balance != meter.Credit+meter.Credit/2 || got.Held != 0 {
		t.Fatalf("account %s held %s, want 1.5 and 0", got.Balance, got.Held)
	}
	mustVerify(t, l)
}
