package sqlite_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// BenchmarkUptoClaimCapture: one claim and one capture per op, 64 at once
// (group commit), with a payment and requirement of the size clients send.
func BenchmarkUptoClaimCapture(b *testing.B) {
	l := MustOpenLedger(b, MustOpenDB(b))
	payload := []byte(`{"p":"` + strings.Repeat("a", 1100) + `"}`)
	req := []byte(`{"r":"` + strings.Repeat("b", 400) + `"}`)
	lim := meter.UptoLimits{PerPayer: 1 << 50, Total: 1 << 50, Balance: 1 << 50, Allowance: 1 << 50}
	ctx := context.Background()
	var wg sync.WaitGroup
	ch := make(chan int)
	b.ResetTimer()
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range ch {
				a := uptoAuth(uptoPayer, 5000)
				a.Payload, a.Requirement = payload, req
				if err := l.ClaimUpto(ctx, a, lim); err != nil {
					b.Error(err)
					return
				}
				c := meter.Charge{Cost: 1_234_567, RequestID: a.RequestID, Model: "demo-small", Usage: meter.Usage{InputTokens: 7, OutputTokens: 9}}
				if err := l.CaptureUpto(ctx, a.ID, c, 1235); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	for i := range b.N {
		ch <- i
	}
	close(ch)
	wg.Wait()
}
