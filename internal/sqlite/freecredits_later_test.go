package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// The free-credit limits defer farming to another day; they do not refuse
// a wallet for good. A wallet refused on a day whose budget others spent
// (20 throwaway wallets over 7 addresses) is granted on a later request,
// once, when the limits allow.
func TestLedger_FreeCreditsRefusedForALimitAreGrantedLater(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	l := MustOpenLedger(t, db)
	grant := func(ip string) meter.FreeGrant {
		return meter.FreeGrant{Amount: 5 * meter.Credit, Client: ip,
			FreeLimits: meter.FreeLimits{PerClientPerDay: 3, DailyBudget: 100 * meter.Credit}}
	}
	// Attacker: 20 throwaway wallets over 7 addresses spend the day's 100.
	for i := 0; i < 20; i++ {
		addr := "0x" + string(rune('A'+i)) + "000000000000000000000000000000000000000"
		ip := "203.0.113." + string(rune('1'+i/3))
		if _, _, err := l.EnsureWallet(ctx, addr, grant(ip)); err != nil {
			t.Fatal(err)
		}
	}
	victim := "0x1111111111111111111111111111111111111111"
	a, _, err := l.EnsureWallet(ctx, victim, grant("198.51.100.7"))
	if err != nil {
		t.Fatal(err)
	}
	if a.FreeGranted != 0 {
		t.Fatalf("victim granted %s on the spent day; the attack premise failed", a.FreeGranted)
	}
	// Next UTC day: the budget is fresh, the victim's first request today.
	now = now.Add(24 * time.Hour)
	a, _, err = l.EnsureWallet(ctx, victim, grant("198.51.100.7"))
	if err != nil {
		t.Fatal(err)
	}
	fresh, _, err := l.EnsureWallet(ctx, "0x2222222222222222222222222222222222222222", grant("198.51.100.8"))
	if err != nil || fresh.FreeGranted != 5*meter.Credit {
		t.Fatalf("control: a wallet new on the next day got %v (err %v), want 5", fresh, err)
	}
	if a.FreeGranted == 0 {
		t.Fatalf("victim wallet %s still has no free credits the next day, with the daily budget untouched: the denial is permanent", victim)
	}
	// Once: later requests grant nothing more.
	a, _, err = l.EnsureWallet(ctx, victim, grant("198.51.100.7"))
	if err != nil || a.FreeGranted != 5*meter.Credit || a.Balance != 5*meter.Credit {
		t.Fatalf("victim after another request: %+v %v, want 5 granted once", a, err)
	}
	mustVerify(t, l)
}
