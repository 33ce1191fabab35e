package sqlite_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// BenchmarkExactClaimSettleApply: an x402 exact request payment's two
// writes per op (the claim before settling; the settlement and its cost
// after serving), 64 at once (group commit), with a payment and
// requirement of the size clients send, each from the same payer.
func BenchmarkExactClaimSettleApply(b *testing.B) {
	l := MustOpenLedger(b, MustOpenDB(b))
	payload := []byte(`{"p":"` + strings.Repeat("a", 1100) + `"}`)
	req := []byte(`{"r":"` + strings.Repeat("b", 400) + `"}`)
	ctx := context.Background()
	var wg sync.WaitGroup
	ch := make(chan int)
	b.ResetTimer()
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range ch {
				var nonce [32]byte
				rand.Read(nonce[:])
				p := &meter.Payment{Key: "eip155:84532/0x036CbD53842c5426634e7929541eC2318f3dCF7e/" + uptoPayer + "/0x" + hex.EncodeToString(nonce[:]),
					Network: "base-sepolia", Payer: uptoPayer, Wallet: uptoPayer, Amount: 1200, Purpose: meter.PurposeRequest,
					RequestID: "req_" + hex.EncodeToString(nonce[:8]), Payload: payload, Requirement: req}
				if err := l.ClaimPayment(ctx, p); err != nil {
					b.Error(err)
					return
				}
				p.TxHash = "0x" + strings.Repeat("ab", 32)
				l.SettleLater(p)
				c := meter.Charge{Cost: 1_034_567, RequestID: p.RequestID, Model: "demo-small", Usage: meter.Usage{InputTokens: 7, OutputTokens: 9}}
				if _, err := l.SettleApply(ctx, p, c); err != nil {
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
