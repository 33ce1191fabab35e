package sqlite_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/sqlite"
)

// BenchmarkLedger_HoldCapture measures durable hold+capture pairs under
// group commit with 256 concurrent callers spread over 16 accounts, on a
// journal that already holds 1 k or 1 M entries (the cost per pair must not
// grow with the journal), and with 16 callers, whose batches are small, as
// paymeter's are at 64 connections (what a commit costs shows there). The
// pairs/s metric is the figure to report; cpu-µs/pair is the process's CPU
// time (user and system) per pair, and ops/commit the batches' mean size.
func BenchmarkLedger_HoldCapture(b *testing.B) {
	for _, bc := range []struct{ entries, callers int }{{1_000, 256}, {1_000_000, 256}, {1_000, 16}} {
		b.Run(fmt.Sprintf("entries=%d/callers=%d", bc.entries, bc.callers), func(b *testing.B) {
			db := MustOpenDB(b)
			l := MustOpenLedger(b, db)
			accounts := make([]*meter.Account, 16)
			for i := range accounts {
				accounts[i] = mustApp(b, l, "1000000")
			}
			seedEntries(b, db, accounts[0].ID, bc.entries)
			var commits, ops atomic.Int64
			l.SetCommitObserver(func(n int, _ time.Duration) { commits.Add(1); ops.Add(int64(n)) })
			ctx := context.Background()
			var next atomic.Int64
			b.SetParallelism(max(1, bc.callers/runtime.GOMAXPROCS(0))) // ×GOMAXPROCS goroutines
			cpu0 := processCPU()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				a := accounts[int(next.Add(1))%len(accounts)]
				for pb.Next() {
					h, err := l.Hold(ctx, a.ID, 1000, time.Minute)
					if err != nil {
						b.Error(err)
						return
					}
					if _, err := l.Capture(ctx, meter.Charge{HoldID: h.ID, AccountID: a.ID, Cost: 700, RequestID: "r"}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/pair")
			if n := commits.Load(); n > 0 {
				b.ReportMetric(float64(ops.Load())/float64(n), "ops/commit")
			}
			b.StopTimer()
			mustVerify(b, l)
		})
	}
}

// processCPU is the CPU time, user and system, the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
}

// seedEntries books n small grants in large transactions, so that the
// benchmark runs against a journal of realistic size.
func seedEntries(tb testing.TB, db *sqlite.DB, accountID int64, n int) {
	tb.Helper()
	const chunk = 100_000
	for done := 0; done < n; done += chunk {
		m := min(chunk, n-done)
		err := db.Exec(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
			INSERT INTO entries (account_id, kind, amount, ref, created_at)
			SELECT ?, 'grant', 1, 'seed-' || (? + i), 0 FROM seq`, m, accountID, done)
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := db.Exec(`UPDATE accounts SET balance = balance + ? WHERE id = ?`, n, accountID); err != nil {
		tb.Fatal(err)
	}
}
