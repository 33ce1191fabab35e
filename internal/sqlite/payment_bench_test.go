package sqlite_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// BenchmarkExactClaimSettleApply: an x402 exact request payment's two
// writes per op (the claim before settling; the settlement and its cost
// after serving), 64 at once (group commit), all from one payer.
func BenchmarkExactClaimSettleApply(b *testing.B) {
	l := MustOpenLedger(b, MustOpenDB(b))
	ctx := context.Background()
	runConcurrently(b, 64, func() error {
		var nonce [32]byte
		rand.Read(nonce[:])
		p := &meter.Payment{Key: "eip155:84532/0x036CbD53842c5426634e7929541eC2318f3dCF7e/" + uptoPayer + "/0x" + hex.EncodeToString(nonce[:]),
			Network: "base-sepolia", Payer: uptoPayer, Wallet: uptoPayer, Amount: 1200, Purpose: meter.PurposeRequest,
			RequestID: "req_" + hex.EncodeToString(nonce[:8]), Payload: benchPayload, Requirement: benchRequirement}
		if err := l.ClaimPayment(ctx, p); err != nil {
			return err
		}
		p.TxHash = "0x" + strings.Repeat("ab", 32)
		l.SettleLater(p)
		c := meter.Charge{Cost: 1_034_567, RequestID: p.RequestID, Model: "demo-small", Usage: meter.Usage{InputTokens: 7, OutputTokens: 9}}
		_, err := l.SettleApply(ctx, p, c)
		return err
	})
}
