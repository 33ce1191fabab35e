package postgres_test

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/postgres"
	"github.com/paymeter/paymeter/internal/x402"
)

var _ x402.SweepLocker = (*postgres.Store)(nil)

var sweepNet = &x402.Network{Name: "base-sepolia", ChainID: 84532, TokenName: "USDC", TokenVersion: "2",
	Asset: common.HexToAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e"),
	PayTo: common.HexToAddress("0x209693Bc6afc0C5328bA36FaF03C514EF312287C")}

// countingSettler settles every payment at once, after a pause that lets
// the instances' sweeps overlap, and counts its calls per payment key.
type countingSettler struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingSettler) Settle(_ context.Context, s *x402.Settlement) (x402.Result, error) {
	time.Sleep(20 * time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[s.Payment.Key(sweepNet.Asset)]++
	return x402.Result{Outcome: x402.Settled, TxHash: fmt.Sprintf("0x%064x", len(c.calls))}, nil
}

// processors returns one Processor per store, all settling through s.
func processors(t *testing.T, ss []*postgres.Store, s x402.Settler) []*x402.Processor {
	t.Helper()
	v := &x402.Verifier{Networks: []*x402.Network{sweepNet}, Skew: 5 * time.Second}
	if err := v.Init(); err != nil {
		t.Fatal(err)
	}
	out := make([]*x402.Processor, len(ss))
	for i, st := range ss {
		out[i] = &x402.Processor{Verifier: v, Ledger: st, Settlers: map[*x402.Network]x402.Settler{sweepNet: s},
			SettleTimeout: time.Second, ApplyAfter: time.Minute, Logger: quiet, InFlight: &meter.InFlight{}}
	}
	return out
}

// claimOpen claims n payments of one credit each by key's wallet, the
// even ones top-ups and the odd ones request payments, and returns them.
func claimOpen(t *testing.T, s *postgres.Store, key *ecdsa.PrivateKey, n int) []*meter.Payment {
	t.Helper()
	out := make([]*meter.Payment, n)
	for i := range out {
		a := x402.NewAuthorization(key, sweepNet, 1_000_000, time.Now(), time.Hour)
		sig, err := x402.Sign(key, sweepNet, &a)
		if err != nil {
			t.Fatal(err)
		}
		p, err := x402.DecodePayment(1, x402.EncodePaymentV1(sweepNet, &a, sig))
		if err != nil {
			t.Fatal(err)
		}
		purpose := meter.PurposeTopup
		if i%2 == 1 {
			purpose = meter.PurposeRequest
		}
		mp := &meter.Payment{Key: p.Key(sweepNet.Asset), Network: sweepNet.Name, Payer: p.PayerHex(), Wallet: p.PayerHex(),
			Amount: 1_000_000, Purpose: purpose, RequestID: fmt.Sprintf("req_%d", i), Payload: p.JSON,
			Requirement: []byte(`{"scheme":"exact"}`)}
		if err := s.ClaimPayment(context.Background(), mp); err != nil {
			t.Fatal(err)
		}
		out[i] = mp
	}
	return out
}

// age makes every payment look untouched for an hour and a half: past
// the sweeps' cutoffs.
func age(t *testing.T, s *postgres.Store) {
	t.Helper()
	if err := s.Exec(context.Background(), `UPDATE payments SET updated_at = updated_at - 5400000`); err != nil {
		t.Fatal(err)
	}
}

// sweepAll runs fn on every processor at once, rounds times each, and
// returns the sum of what they reported done.
func sweepAll(t *testing.T, prs []*x402.Processor, rounds int, fn func(*x402.Processor) (int, error)) int {
	t.Helper()
	var (
		mu    sync.Mutex
		total int
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for _, pr := range prs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range rounds {
				n, err := fn(pr)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	return total
}

// Four instances sweeping 20 open payments at once, three rounds each:
// every payment is settled by one attempt of one instance (the settler is
// called once per payment, attempts is 1), the request payments become
// change once, and the wallet holds the 20 credits paid.
func TestSweeps_RetryOpenOncePerPaymentAcrossInstances(t *testing.T) {
	ss := stores(t, instances)
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	pays := claimOpen(t, ss[0], key, n)
	age(t, ss[0])
	settler := &countingSettler{calls: map[string]int{}}
	prs := processors(t, ss, settler)
	done := sweepAll(t, prs, 3, func(pr *x402.Processor) (int, error) { return pr.RetryOpen(context.Background(), time.Now()) })
	if done != n {
		t.Fatalf("sweeps finished %d payments, want %d", done, n)
	}
	if len(settler.calls) != n {
		t.Fatalf("settler saw %d payments, want %d", len(settler.calls), n)
	}
	ctx := context.Background()
	for _, mp := range pays {
		if c := settler.calls[mp.Key]; c != 1 {
			t.Errorf("payment %d settled %d times, want 1", mp.ID, c)
		}
		got, err := ss[1].FindPayment(ctx, mp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != meter.PaymentSettled || got.Attempts != 1 {
			t.Errorf("payment %d: %s after %d attempts, want settled after 1", mp.ID, got.State, got.Attempts)
		}
	}
	if left, err := ss[2].UnappliedPayments(ctx, time.Now().Add(time.Hour)); err != nil || len(left) != 0 {
		t.Fatalf("%d request payments left unapplied (%v), want 0", len(left), err)
	}
	acct, err := ss[3].FindAccountByID(ctx, mustSettledAccount(t, ss[3], pays[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	if acct.Balance != n*meter.Credit || acct.Held != 0 {
		t.Fatalf("wallet balance %s held %s, want 20 and 0", acct.Balance, acct.Held)
	}
	mustClean(t, ss[0])
}

func mustSettledAccount(t *testing.T, s *postgres.Store, id int64) int64 {
	t.Helper()
	p, err := s.FindPayment(context.Background(), id)
	if err != nil || p.AccountID == 0 {
		t.Fatalf("payment %d: account %d, %v", id, p.AccountID, err)
	}
	return p.AccountID
}

// Four instances crediting 20 settled, unapplied request payments as
// change at once: each is applied once, 20 in all, and the wallet holds
// the 20 credits.
func TestSweeps_ApplyStaleOncePerPaymentAcrossInstances(t *testing.T) {
	ss := stores(t, instances)
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const n = 20
	var reqs []*meter.Payment
	for i, mp := range claimOpen(t, ss[0], key, 2*n) {
		if _, err := ss[i%instances].SettlePayment(ctx, mp.ID, fmt.Sprintf("0x%064x", i+1)); err != nil {
			t.Fatal(err)
		}
		if mp.Purpose == meter.PurposeRequest {
			reqs = append(reqs, mp)
		}
	}
	age(t, ss[0])
	prs := processors(t, ss, &countingSettler{calls: map[string]int{}})
	applied := sweepAll(t, prs, 3, func(pr *x402.Processor) (int, error) { return pr.ApplyStale(ctx, time.Now()) })
	if applied != n || len(reqs) != n {
		t.Fatalf("sweeps applied %d of %d request payments, want %d", applied, len(reqs), n)
	}
	if left, err := ss[1].UnappliedPayments(ctx, time.Now().Add(time.Hour)); err != nil || len(left) != 0 {
		t.Fatalf("%d request payments left unapplied (%v), want 0", len(left), err)
	}
	acct, err := ss[2].FindAccountByID(ctx, mustSettledAccount(t, ss[2], reqs[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	if acct.Balance != 2*n*meter.Credit {
		t.Fatalf("wallet balance %s, want 40", acct.Balance)
	}
	mustClean(t, ss[3])
}

// On a shared database, a payment younger than the sweep's cutoff is
// another live instance's to finish, even when the caller asks for every
// payment older than now (as a starting instance's first pass does): it
// is neither settled again nor made change.
func TestSweeps_YoungPaymentsLeftToTheirInstance(t *testing.T) {
	ss := stores(t, 2)
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pays := claimOpen(t, ss[0], key, 2)
	if _, err := ss[0].SettlePayment(ctx, pays[1].ID, "0x01"); err != nil { // a request payment, its request still running
		t.Fatal(err)
	}
	settler := &countingSettler{calls: map[string]int{}}
	pr := processors(t, ss[1:], settler)[0]
	if n, err := pr.RetryOpen(ctx, time.Now().Add(time.Minute)); err != nil || n != 0 {
		t.Fatalf("retried %d (%v), want 0", n, err)
	}
	if n, err := pr.ApplyStale(ctx, time.Now().Add(time.Minute)); err != nil || n != 0 {
		t.Fatalf("applied %d (%v), want 0", n, err)
	}
	if len(settler.calls) != 0 {
		t.Fatalf("settler called for %v, want none", settler.calls)
	}
	p, err := ss[1].FindPayment(ctx, pays[0].ID)
	if err != nil || p.State != meter.PaymentClaimed || p.Attempts != 0 {
		t.Fatalf("young payment %+v %v, want claimed with 0 attempts", p, err)
	}
}

// The sweep lock is one instance's at a time, and free again once it
// unlocks.
func TestSweeps_LockOneInstanceAtATime(t *testing.T) {
	ss := stores(t, 2)
	ctx := context.Background()
	unlock, ok, err := ss[0].TrySweep(ctx, "x")
	if err != nil || !ok {
		t.Fatalf("first lock: %v %v, want taken", ok, err)
	}
	if _, ok, err := ss[1].TrySweep(ctx, "x"); err != nil || ok {
		t.Fatalf("second instance: %v %v, want refused", ok, err)
	}
	other, ok, err := ss[1].TrySweep(ctx, "y")
	if err != nil || !ok {
		t.Fatalf("another sweep's lock: %v %v, want taken", ok, err)
	}
	other()
	unlock()
	again, ok, err := ss[1].TrySweep(ctx, "x")
	if err != nil || !ok {
		t.Fatalf("after unlock: %v %v, want taken", ok, err)
	}
	again()
}
