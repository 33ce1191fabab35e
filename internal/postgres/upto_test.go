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

// Upto on PostgreSQL across instances: n Store values on one database
// stand for n paymeter instances.

const (
	uptoPayer  = "0x1111111111111111111111111111111111111111"
	uptoClaims = 50
)

var uptoRoomy = meter.UptoLimits{PerPayer: 1_000_000_000, Total: 1_000_000_000, Balance: 1_000_000_000, Allowance: 1_000_000_000}

// uptoStores opens n stores on one fresh database.
func uptoStores(t *testing.T, n int) []*postgres.Store {
	t.Helper()
	return uptoStoresOn(t, pgtest.DSN(t), n)
}

func uptoStoresOn(t *testing.T, dsn string, n int) []*postgres.Store {
	t.Helper()
	ss := make([]*postgres.Store, n)
	for i := range ss {
		s, err := postgres.OpenStore(context.Background(), dsn, quiet)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		ss[i] = s
	}
	return ss
}

func uptoPermit(payer string, nonce int, max meter.USDC) *meter.UptoAuthorization {
	return &meter.UptoAuthorization{Key: fmt.Sprintf("eip155:84532/permit2/%s/%d", payer, nonce), Network: "base-sepolia",
		Token: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", Payer: payer, Max: max, RequestID: fmt.Sprintf("req-%d", nonce),
		Deadline: time.Now().Add(15 * time.Minute), Payload: []byte(`{}`), Requirement: []byte(`{}`)}
}

// raceUpto runs f(i) for i < n at once and counts the answers by code
// ("" for success).
func raceUpto(t *testing.T, n int, f func(i int) error) map[string]int {
	t.Helper()
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		codes = map[string]int{}
		start = make(chan struct{})
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := f(i)
			code := meter.ErrorCode(err)
			if err != nil && code == "" {
				t.Errorf("call %d: %v", i, err)
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

func mustUptoCodes(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: answers %v, want %v", what, got, want)
	}
}

func mustUptoStats(t *testing.T, s *postgres.Store, state meter.UptoState, n int64, amount meter.USDC) {
	t.Helper()
	st, err := s.FindUptoStats(context.Background())
	if err != nil || st.Count[state] != n || st.Amount[state] != amount {
		t.Fatalf("upto stats %+v (%v), want %d %s of %d", st, err, n, state, amount)
	}
}

// 50 concurrent claims of one permit over 4 instances: one is claimed,
// 49 refused as the nonce used.
func TestUpto_OnePermitClaimedOnceAcrossInstances(t *testing.T) {
	ss := uptoStores(t, 4)
	codes := raceUpto(t, uptoClaims, func(i int) error {
		return ss[i%len(ss)].ClaimUpto(context.Background(), uptoPermit(uptoPayer, 1, 5000), uptoRoomy)
	})
	mustUptoCodes(t, "50 claims of one permit", codes, map[string]int{"": 1, meter.ECodePaymentUsed: uptoClaims - 1})
	mustUptoStats(t, ss[3], meter.UptoClaimed, 1, 5000)
	mustVerify(t, ss[2].Ledger)
}

// 50 concurrent claims of distinct permits of one payer over 4 instances,
// against a per-payer cap that fits 3: exactly 3 claimed, the rest
// refused with the payer's limit.
func TestUpto_PerPayerCapAcrossInstances(t *testing.T) {
	ss := uptoStores(t, 4)
	lim := uptoRoomy
	lim.PerPayer = 3000
	codes := raceUpto(t, uptoClaims, func(i int) error {
		return ss[i%len(ss)].ClaimUpto(context.Background(), uptoPermit(uptoPayer, i, 1000), lim)
	})
	mustUptoCodes(t, "50 claims against a payer cap of 3", codes, map[string]int{"": 3, meter.ECodeUptoLimitReached: uptoClaims - 3})
	mustUptoStats(t, ss[0], meter.UptoClaimed, 3, 3000)
	// The refusal says what is at risk and the limit, in nano-credits.
	err := ss[1].ClaimUpto(context.Background(), uptoPermit(uptoPayer, 99, 1), lim)
	var me *meter.Error
	if !errors.As(err, &me) || me.Code != meter.ECodeUptoLimitReached ||
		me.Details["unsettled"] != meter.Amount(3_000_000) || me.Details["limit"] != meter.Amount(3_000_000) ||
		me.Message != uptoPayer+" has 0.003 USDC served and not yet settled; with this request's 0.000001 it would pass the limit of 0.003: retry once it settles, or pay with exact" {
		t.Fatalf("over the cap: %#v", err)
	}
	mustVerify(t, ss[0].Ledger)
}

// The global cap likewise: 50 payers at once over 4 instances against a
// total that fits 3.
func TestUpto_TotalCapAcrossInstances(t *testing.T) {
	ss := uptoStores(t, 4)
	lim := uptoRoomy
	lim.Total = 3000
	codes := raceUpto(t, uptoClaims, func(i int) error {
		payer := fmt.Sprintf("0x%040x", i+1)
		return ss[i%len(ss)].ClaimUpto(context.Background(), uptoPermit(payer, 1, 1000), lim)
	})
	mustUptoCodes(t, "50 payers against a total cap of 3", codes, map[string]int{"": 3, meter.ECodeUptoCapacity: uptoClaims - 3})
	mustUptoStats(t, ss[0], meter.UptoClaimed, 3, 3000)
	mustVerify(t, ss[0].Ledger)
}

// claimCaptured claims and captures one authorization of amount.
func claimCaptured(t *testing.T, s *postgres.Store, payer string, nonce int, amount meter.USDC) *meter.UptoAuthorization {
	t.Helper()
	ctx := context.Background()
	a := uptoPermit(payer, nonce, 5000)
	if err := s.ClaimUpto(ctx, a, uptoRoomy); err != nil {
		t.Fatal(err)
	}
	c := meter.Charge{Cost: meter.Amount(amount) * 1000, RequestID: a.RequestID, Model: "m", Usage: meter.Usage{InputTokens: 3}}
	if err := s.CaptureUpto(ctx, a.ID, c, amount); err != nil {
		t.Fatal(err)
	}
	return a
}

// Settled at once through two instances, 10 times over: booked once.
func TestUpto_SettledTwiceBookedOnce(t *testing.T) {
	ss := uptoStores(t, 2)
	ctx := context.Background()
	a := claimCaptured(t, ss[0], uptoPayer, 1, 1235)
	codes := raceUpto(t, 10, func(i int) error { return ss[i%2].SettleUpto(ctx, a.ID, "0xabc") })
	mustUptoCodes(t, "10 settlements over 2 instances", codes, map[string]int{"": 10})
	entries, err := ss[1].FindEntries(ctx, meter.EntryFilter{AccountID: a.AccountID})
	if err != nil || len(entries) != 2 || entries[0].Kind != meter.EntryUsage || entries[0].Amount != -1_235_000 ||
		entries[0].Ref != "upto:"+a.Key || entries[0].Model != "m" || entries[0].Usage.InputTokens != 3 ||
		entries[1].Kind != meter.EntryPayment || entries[1].Amount != 1_235_000 || entries[1].Ref != "upto:"+a.Key {
		t.Fatalf("entries %+v (%v), want one payment and one usage of 0.001235", entries, err)
	}
	got, err := ss[1].FindUpto(ctx, a.ID)
	if err != nil || got.State != meter.UptoSettled || got.TxHash != "0xabc" || got.Amount != 1235 || got.Charge.Cost != 1_235_000 {
		t.Fatalf("upto %+v (%v), want settled 1235 by 0xabc", got, err)
	}
	mustUptoStats(t, ss[0], meter.UptoDue, 0, 0)
	mustVerify(t, ss[0].Ledger)
}

// Every instance's settler lists the same due authorization; of 4
// beginning it at once, one takes it, and the others are refused until
// it is due again.
func TestUpto_DueBegunByOneInstance(t *testing.T) {
	ss := uptoStores(t, 4)
	ctx := context.Background()
	a := claimCaptured(t, ss[0], uptoPayer, 1, 700)
	now := time.Now()
	for _, s := range ss {
		due, err := s.DueUpto(ctx, now.Add(-time.Minute), now.Add(-time.Minute), now, 64)
		if err != nil || len(due) != 1 || due[0].ID != a.ID || due[0].State != meter.UptoDue {
			t.Fatalf("due %+v (%v), want %d", due, err, a.ID)
		}
	}
	codes := raceUpto(t, len(ss), func(i int) error { return ss[i].BeginUpto(ctx, a.ID) })
	mustUptoCodes(t, "4 settlers beginning one authorization", codes, map[string]int{"": 1, meter.ECodeConflict: 3})
	got, err := ss[0].FindUpto(ctx, a.ID)
	if err != nil || got.State != meter.UptoSettling || got.Attempts != 1 {
		t.Fatalf("upto %+v (%v), want settling after 1 attempt", got, err)
	}
	// Begun just now, it is nobody's work until it goes stale.
	if due, err := ss[1].DueUpto(ctx, now.Add(-time.Minute), now.Add(-time.Minute), now, 64); err != nil || len(due) != 0 {
		t.Fatalf("due while settling %+v (%v), want none", due, err)
	}
	// Stale, it is listed and begun again, once.
	later := time.Now().Add(time.Minute)
	for _, s := range ss {
		if due, err := s.DueUpto(ctx, later, later, later, 64); err != nil || len(due) != 1 || due[0].Attempts != 1 {
			t.Fatalf("due once stale %+v (%v), want %d after 1 attempt", due, err, a.ID)
		}
	}
	codes = raceUpto(t, len(ss), func(i int) error { return ss[i].BeginUpto(ctx, a.ID) })
	mustUptoCodes(t, "4 settlers beginning a stale one", codes, map[string]int{"": 1, meter.ECodeConflict: 3})
	if got, err := ss[2].FindUpto(ctx, a.ID); err != nil || got.Attempts != 2 {
		t.Fatalf("upto %+v (%v), want 2 attempts", got, err)
	}
	mustVerify(t, ss[0].Ledger)
}
