package sqlite_test

import (
	"context"
	"crypto/rand"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// Payload and requirement of the size clients send, for the payment
// benchmarks.
var (
	benchPayload     = []byte(`{"p":"` + strings.Repeat("a", 1100) + `"}`)
	benchRequirement = []byte(`{"r":"` + strings.Repeat("b", 400) + `"}`)
)

// runConcurrently runs op b.N times on `callers` goroutines at once, so
// that the writer group-commits their writes; the first error stops the
// caller that met it and fails the benchmark. Besides the wall time per
// op it reports the process's CPU time per op (cpu-µs/op), the figure the
// load bench's paid paths are measured by.
func runConcurrently(b *testing.B, callers int, op func() error) {
	var wg sync.WaitGroup
	ch := make(chan struct{})
	b.ResetTimer()
	cpu0 := processCPU()
	defer func() {
		b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	}()
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range ch {
				if err := op(); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	for range b.N {
		ch <- struct{}{}
	}
	close(ch)
	wg.Wait()
}

// BenchmarkUptoClaimCapture: one claim and one capture per op, 64 at once
// (group commit).
func BenchmarkUptoClaimCapture(b *testing.B) {
	l := MustOpenLedger(b, MustOpenDB(b))
	lim := meter.UptoLimits{PerPayer: 1 << 50, Total: 1 << 50, Balance: 1 << 50, Allowance: 1 << 50}
	ctx := context.Background()
	runConcurrently(b, 64, func() error {
		a := uptoAuth(uptoPayer, 5000)
		// A Permit2 nonce as clients pick it: 256 random bits.
		var nonce [32]byte
		rand.Read(nonce[:])
		a.Key = "eip155:84532/permit2/" + uptoPayer + "/" + new(big.Int).SetBytes(nonce[:]).String()
		a.Payload, a.Requirement = benchPayload, benchRequirement
		if err := l.ClaimUpto(ctx, a, lim); err != nil {
			return err
		}
		c := meter.Charge{Cost: 1_234_567, RequestID: a.RequestID, Model: "demo-small", Usage: meter.Usage{InputTokens: 7, OutputTokens: 9}}
		return l.CaptureUpto(ctx, a.ID, c, 1235)
	})
}
