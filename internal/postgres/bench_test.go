package postgres_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/postgres"
)

// BenchmarkLedger_HoldCapture is internal/sqlite's benchmark of the same
// name on PostgreSQL: durable hold+capture pairs under group commit, 16
// and 256 callers spread over 16 accounts, through one ledger (one
// instance) or two on the database (two instances, whose batches
// serialize on each account's row). pairs/s is the figure to report; the
// server's CPU is its own processes', not this one's.
func BenchmarkLedger_HoldCapture(b *testing.B) {
	for _, bc := range []struct{ callers, instances int }{{16, 1}, {256, 1}, {256, 2}} {
		b.Run(fmt.Sprintf("callers=%d/instances=%d", bc.callers, bc.instances), func(b *testing.B) {
			pool := testPool(b)
			ledgers := make([]*postgres.Ledger, bc.instances)
			for i := range ledgers {
				ledgers[i] = postgres.NewLedger(pool, quiet)
				defer ledgers[i].Close()
			}
			accounts := make([]*meter.Account, 16)
			for i := range accounts {
				accounts[i] = mustApp(b, ledgers[0], 1_000_000*meter.Credit)
			}
			ctx := context.Background()
			var next atomic.Int64
			b.SetParallelism(max(1, bc.callers/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				n := int(next.Add(1))
				a, l := accounts[n%len(accounts)], ledgers[n%len(ledgers)]
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
			b.StopTimer()
			mustVerify(b, ledgers[0])
		})
	}
}
