package x402

import (
	"context"
	"time"
)

// SweepLocker is a payments ledger that several paymeter instances share
// (PostgreSQL): its open and unapplied payments are every instance's, so
// the sweeps of the instances must not work on them at once. A second
// settlement attempt of a payment another instance is settling would count
// an attempt twice and could record the other's outcome wrongly. A ledger
// of one instance (SQLite) does not implement it: its sweeps run alone.
type SweepLocker interface {
	// TrySweep takes the lock of the sweep named, for every instance on
	// the database, unless another instance holds it (ok false). The lock
	// is held until unlock is called, or the instance dies.
	TrySweep(ctx context.Context, name string) (unlock func(), ok bool, err error)
}

// sweepLock is the name of the lock both exact-payment sweeps (RetryOpen
// and ApplyStale) run under: one instance at a time works on the open
// payments; the others skip that round.
const sweepLock = "x402-exact"

// lockSweep takes the sweep lock of a shared ledger; ok is false when
// another instance holds it. A ledger of one instance needs none.
func (pr *Processor) lockSweep(ctx context.Context) (unlock func(), ok bool, err error) {
	l, shared := pr.Ledger.(SweepLocker)
	if !shared {
		return func() {}, true, nil
	}
	return l.TrySweep(ctx, sweepLock)
}

// sharedCutoff bounds before for a ledger that several instances share:
// there, no payment belongs to "a previous process" just because it is
// older than this one's start (an instance started now would otherwise
// take over the payments that live instances are still settling, or whose
// requests are still running), so a sweep never looks at payments younger
// than idle, whatever before the caller asked for.
func (pr *Processor) sharedCutoff(before time.Time, idle time.Duration) time.Time {
	if _, shared := pr.Ledger.(SweepLocker); !shared {
		return before
	}
	if limit := time.Now().Add(-idle); before.After(limit) {
		return limit
	}
	return before
}
