package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/pgtest"
	"github.com/paymeter/paymeter/internal/postgres"
)

const (
	payer     = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
	instances = 4
	callers   = 50
)

// stores opens n Stores on one fresh database: n instances.
func stores(t *testing.T, n int) []*postgres.Store {
	t.Helper()
	dsn := pgtest.DSN(t)
	out := make([]*postgres.Store, n)
	for i := range out {
		s, err := postgres.OpenStore(context.Background(), dsn, quiet)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		out[i] = s
	}
	return out
}

func payment(key string, purpose meter.PaymentPurpose, amount meter.USDC) *meter.Payment {
	return &meter.Payment{Key: key, Network: "base-sepolia", Payer: payer, Wallet: payer, Amount: amount, Purpose: purpose,
		RequestID: "req_1", Payload: []byte(`{"x402Version":2}`), Requirement: []byte(`{"scheme":"exact"}`)}
}

// race runs fn(i) for i < callers at once, instance i%instances, and
// counts the outcomes by error code ("" for success); an error without a
// code fails the test.
func race(t *testing.T, ss []*postgres.Store, fn func(s *postgres.Store, i int) error) map[string]int {
	t.Helper()
	var (
		mu    sync.Mutex
		codes = map[string]int{}
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := fn(ss[i%len(ss)], i)
			code := meter.ErrorCode(err)
			if err != nil && code == "" {
				t.Errorf("caller %d: %v", i, err)
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return codes
}

func mustCodes(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: outcomes %v, want %v", what, got, want)
	}
}

func mustClean(t *testing.T, s *postgres.Store) {
	t.Helper()
	mustVerify(t, s.Ledger)
}

// entries returns the account's journal as "kind ref amount" lines, oldest first.
func entries(t *testing.T, s *postgres.Store, accountID int64) []string {
	t.Helper()
	es, err := s.FindEntries(context.Background(), meter.EntryFilter{AccountID: accountID})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, fmt.Sprintf("%s %s %s", es[i].Kind, es[i].Ref, es[i].Amount))
	}
	return out
}

// 50 copies of one payment claimed at once through 4 instances: one
// claim, 49 payment_already_used, with SQLite's message.
func TestPayments_ClaimedOnceAcrossInstances(t *testing.T) {
	ss := stores(t, instances)
	ids := make(chan int64, callers)
	codes := race(t, ss, func(s *postgres.Store, i int) error {
		p := payment("eip155:84532/usdc/payer/nonce-once", meter.PurposeTopup, 10_000_000)
		err := s.ClaimPayment(context.Background(), p)
		if err == nil {
			ids <- p.ID
		}
		return err
	})
	mustCodes(t, "50 claims of one payment", codes, map[string]int{"": 1, meter.ECodePaymentUsed: callers - 1})
	var e *meter.Error
	err := ss[3].ClaimPayment(context.Background(), payment("eip155:84532/usdc/payer/nonce-once", meter.PurposeTopup, 1))
	if !errors.As(err, &e) || e.Message != "this payment authorization was already used; sign a new one" {
		t.Fatalf("a later copy: %v, want payment_already_used", err)
	}
	got, err := ss[1].FindPayment(context.Background(), <-ids)
	if err != nil || got.State != meter.PaymentClaimed || got.Amount != 10_000_000 || got.AccountID != 0 ||
		string(got.Payload) != `{"x402Version":2}` {
		t.Fatalf("payment %+v (%v), want claimed 10 USDC with its payload", got, err)
	}
	mustClean(t, ss[0])
}

// 50 callers over 4 instances each settle one request payment and apply
// it: the wallet (created once, without free credits) is credited once,
// the payment applied once (1 ok, 49 conflicts), and the ledger adds up.
func TestPayments_SettleAndApplyOnceAcrossInstances(t *testing.T) {
	ss := stores(t, instances)
	ctx := context.Background()
	p := payment("k-settle-apply", meter.PurposeRequest, 2500) // 0.0025 credits
	if err := ss[0].ClaimPayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	cost := meter.Amount(1_000_000) // 0.001 credits
	var mu sync.Mutex
	accounts := map[int64]int{}
	codes := race(t, ss, func(s *postgres.Store, i int) error {
		a, err := s.SettlePayment(ctx, p.ID, "0xabc")
		if err != nil {
			t.Errorf("settle %d: %v", i, err)
			return nil
		}
		mu.Lock()
		accounts[a.ID]++
		mu.Unlock()
		charged, err := s.ApplyPayment(ctx, p.ID, meter.Charge{Cost: cost, RequestID: "req_1", Model: "m"})
		if err == nil && charged != cost {
			t.Errorf("charged %s, want %s", charged, cost)
		}
		return err
	})
	mustCodes(t, "50 settle+apply of one payment", codes, map[string]int{"": 1, meter.ECodeConflict: callers - 1})
	if len(accounts) != 1 {
		t.Fatalf("settled to accounts %v, want one wallet account", accounts)
	}
	got, err := ss[2].FindPayment(ctx, p.ID)
	if err != nil || got.State != meter.PaymentSettled || got.TxHash != "0xabc" || accounts[got.AccountID] != callers {
		t.Fatalf("payment %+v (%v), want settled by 0xabc on the one wallet", got, err)
	}
	a, err := ss[3].FindAccountByID(ctx, got.AccountID)
	if err != nil || a.Kind != meter.AccountWallet || a.Address != payer || a.Balance != 1_500_000 || a.Held != 0 || a.FreeGranted != 0 {
		t.Fatalf("wallet %+v (%v), want the change 0.0015 and no free credits", a, err)
	}
	ref := fmt.Sprintf("pay:%016d", p.ID)
	want := fmt.Sprint([]string{"payment " + ref + " 0.001", "usage x402:" + ref + " -0.001", "change " + ref + " 0.0015"})
	if j := fmt.Sprint(entries(t, ss[0], a.ID)); j != want {
		t.Fatalf("journal %s, want %s", j, want)
	}
	if c, metered, err := ss[1].PaymentCharge(ctx, p.ID); err != nil || !metered || c != cost {
		t.Fatalf("payment charge %s metered=%v (%v), want 0.001", c, metered, err)
	}
	if un, err := ss[0].UnappliedPayments(ctx, time.Now().Add(time.Minute)); err != nil || len(un) != 0 {
		t.Fatalf("unapplied %+v (%v), want none", un, err)
	}
	mustClean(t, ss[0])
}

// A top-up settled by 50 callers over 4 instances is credited once.
func TestPayments_TopupCreditedOnceAcrossInstances(t *testing.T) {
	ss := stores(t, instances)
	ctx := context.Background()
	p := payment("k-topup", meter.PurposeTopup, 10_000_000)
	if err := ss[0].ClaimPayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	codes := race(t, ss, func(s *postgres.Store, i int) error {
		a, err := s.SettlePayment(ctx, p.ID, "0xtop")
		if err == nil && (a.Balance != 10*meter.Credit || a.Address != payer) {
			t.Errorf("settle %d: wallet %+v, want 10 credits", i, a)
		}
		return err
	})
	mustCodes(t, "50 settlements of one top-up", codes, map[string]int{"": callers})
	got, _ := ss[1].FindPayment(ctx, p.ID)
	if j := fmt.Sprint(entries(t, ss[2], got.AccountID)); j != "[topup k-topup 10]" {
		t.Fatalf("journal %s, want one top-up of 10", j)
	}
	if err := ss[3].MarkPayment(ctx, p.ID, meter.PaymentFailed, "", "x"); err == nil ||
		err.Error() != fmt.Sprintf("conflict: payment %d is not open", p.ID) {
		t.Fatalf("marking a settled payment: %v, want conflict", err)
	}
	if charged, err := ss[3].ApplyPayment(ctx, p.ID, meter.Charge{Cost: 1}); meter.ErrorCode(err) != meter.ECodeConflict || charged != 0 {
		t.Fatalf("applying a top-up: %s %v, want conflict", charged, err)
	}
	if page, err := ss[0].SettledPayments(ctx, 0, 10); err != nil || len(page) != 1 || page[0].ID != p.ID || page[0].TxHash != "0xtop" {
		t.Fatalf("settled payments %+v (%v), want the top-up", page, err)
	}
	mustClean(t, ss[0])
}

// A payment marked settling counts its attempt; failed, it is final.
func TestPayments_MarkAndFail(t *testing.T) {
	s := stores(t, 1)[0]
	ctx := context.Background()
	p := payment("k-mark", meter.PurposeRequest, 2500)
	if err := s.ClaimPayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	if open, err := s.OpenPayments(ctx, time.Now().Add(time.Minute)); err != nil || len(open) != 1 || open[0].ID != p.ID {
		t.Fatalf("open %+v (%v), want the payment", open, err)
	}
	if err := s.MarkPayment(ctx, p.ID, meter.PaymentSettling, "0xh", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkPayment(ctx, p.ID, meter.PaymentFailed, "", "refused"); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindPayment(ctx, p.ID)
	if err != nil || got.State != meter.PaymentFailed || got.TxHash != "0xh" || got.Reason != "refused" || got.Attempts != 1 {
		t.Fatalf("payment %+v (%v), want failed, 0xh, refused, one attempt", got, err)
	}
	if _, err := s.SettlePayment(ctx, p.ID, "0x1"); err == nil || err.Error() != fmt.Sprintf("conflict: payment %d failed; it cannot be settled", p.ID) {
		t.Fatalf("settling a failed payment: %v", err)
	}
	if _, err := s.FindPayment(ctx, 999); meter.ErrorCode(err) != meter.ECodeNotFound {
		t.Fatalf("unknown payment: %v, want not_found", err)
	}
	mustClean(t, s)
}

// Verify's payment checks: a settled, applied payment whose credits do
// not add up to its amount, and a payment credited before it was settled
// and applied, are reported; entries under the key (the legacy form)
// count as well as under pay:<id>.
func TestPayments_VerifyChecks(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	s, err := postgres.OpenStore(ctx, dsn, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pool := mustOpen(t, dsn).Pool()
	legacy := payment("k-legacy", meter.PurposeRequest, 2500)
	short := payment("k-short", meter.PurposeRequest, 2500)
	early := payment("k-early", meter.PurposeRequest, 2500)
	for _, p := range []*meter.Payment{legacy, short, early} {
		if err := s.ClaimPayment(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*meter.Payment{legacy, short} {
		if _, err := s.SettlePayment(ctx, p.ID, "0x1"); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := s.FindPayment(ctx, legacy.ID)
	wallet := got.AccountID
	// The legacy payment booked under its key, whole (2.5e6 nano): sound.
	if _, err := s.Credit(ctx, wallet, meter.EntryChange, 2_500_000, "k-legacy"); err != nil {
		t.Fatal(err)
	}
	// The short one booked 1e6 of its 2.5e6; the early one credited while claimed.
	if _, err := s.Credit(ctx, wallet, meter.EntryChange, 1_000_000, fmt.Sprintf("pay:%016d", short.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Credit(ctx, wallet, meter.EntryChange, 7, fmt.Sprintf("pay:%016d", early.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE payments SET applied_at = 1 WHERE id IN ($1, $2)`, legacy.ID, short.ID); err != nil {
		t.Fatal(err)
	}
	v, err := s.Verify(ctx)
	want := []string{
		fmt.Sprintf("account %d: applied payment's credits differ from its amount (payment id, credits): %d, 1000000", wallet, short.ID),
		fmt.Sprintf("account 0: payment credited before it was settled and applied (payment id, credits): %d, 1", early.ID),
	}
	if err != nil || fmt.Sprint(v) != fmt.Sprint(want) {
		t.Fatalf("verify %q (%v), want %q", v, err, want)
	}
}
