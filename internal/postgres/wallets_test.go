package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/pgtest"
	"github.com/paymeter/paymeter/internal/postgres"
)

// What many instances on one database show of wallets, SIWE and SIWX
// nonces: four Stores stand for four `paymeter serve` processes.

const (
	idAlice = "0x00000000000000000000000000000000000A11cE"
	idBob   = "0x0000000000000000000000000000000000000B0b"
)

// idStores opens n stores on one fresh database, and a pool on it for
// reading what they wrote.
func idStores(t *testing.T, n int) ([]*postgres.Store, *pgxpool.Pool) {
	t.Helper()
	dsn := pgtest.DSN(t)
	ss := make([]*postgres.Store, n)
	for i := range ss {
		s, err := postgres.OpenStore(context.Background(), dsn, quiet)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		ss[i] = s
	}
	return ss, mustOpen(t, dsn).Pool()
}

// idRace runs fn n times at once (i is the call's number) and counts the
// outcomes by error code ("" for success); any other error fails the test.
func idRace(t *testing.T, n int, fn func(i int) error) map[string]int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		start = make(chan struct{})
		codes = map[string]int{}
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := fn(i)
			var me *meter.Error
			if err != nil && !errors.As(err, &me) {
				t.Errorf("call %d: %v", i, err)
			}
			mu.Lock()
			codes[meter.ErrorCode(err)]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return codes
}

func idWantCodes(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: outcomes %v, want %v", what, got, want)
	}
}

// idInt reads one integer.
func idInt(t *testing.T, pool *pgxpool.Pool, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// idGrants reads the free-grant counts of a client today.
func idGrants(t *testing.T, pool *pgxpool.Pool, client string) (grants, amount int64) {
	t.Helper()
	day := time.Now().UnixMilli() / (24 * 60 * 60 * 1000)
	err := pool.QueryRow(context.Background(), `SELECT COALESCE(SUM(grants), 0)::bigint, COALESCE(SUM(amount), 0)::bigint
		FROM free_grants WHERE day = $1 AND client = $2`, day, client).Scan(&grants, &amount)
	if err != nil {
		t.Fatal(err)
	}
	return grants, amount
}

// 50 copies of one wallet message over four instances: one accepted,
// 49 replays; the new wallet gets one account and one grant, counted once.
func TestWallet_MessageAcceptedOnceAcrossInstances(t *testing.T) {
	ss, pool := idStores(t, 4)
	ctx, now := context.Background(), time.Now()
	free := meter.FreeGrant{Amount: 5 * meter.Credit, Client: "192.0.2.1", FreeLimits: meter.FreeLimits{PerClientPerDay: 3, DailyBudget: 100 * meter.Credit}}
	var winner *meter.Account
	var mu sync.Mutex
	codes := idRace(t, 50, func(i int) error {
		a, err := ss[i%4].AcceptWalletMessage(ctx, idAlice, [32]byte{7}, now, now.Add(time.Minute), free)
		var me *meter.Error
		if errors.As(err, &me) && me.Message != "this signed request was already used; sign each request anew" {
			t.Errorf("replay message %q", me.Message)
		}
		if err == nil {
			mu.Lock()
			winner = a
			mu.Unlock()
		}
		return err
	})
	idWantCodes(t, "50 copies of one message", codes, map[string]int{"": 1, meter.ECodeSignatureReplayed: 49})
	if winner.Kind != meter.AccountWallet || winner.Address != idAlice || winner.FreeGranted != 5*meter.Credit {
		t.Fatalf("accepted: %+v, want alice's wallet with 5 free credits", winner)
	}
	if n := idInt(t, pool, `SELECT count(*) FROM accounts WHERE address = $1`, idAlice); n != 1 {
		t.Fatalf("%d accounts for alice, want 1", n)
	}
	if n := idInt(t, pool, `SELECT count(*) FROM entries WHERE kind = 'grant' AND ref = $1 AND amount = $2 AND account_id = $3`,
		"initial:"+idAlice, int64(5*meter.Credit), winner.ID); n != 1 {
		t.Fatalf("%d grants of 5 to alice, want 1", n)
	}
	if n := idInt(t, pool, `SELECT count(*) FROM entries`); n != 1 {
		t.Fatalf("%d entries, want 1", n)
	}
	if n := idInt(t, pool, `SELECT count(*) FROM wallet_messages`); n != 1 {
		t.Fatalf("%d replay records, want 1", n)
	}
	if g, a := idGrants(t, pool, "192.0.2.1"); g != 1 || a != int64(5*meter.Credit) {
		t.Fatalf("client counts %d, %d, want 1 grant of 5", g, a)
	}
	if g, a := idGrants(t, pool, "*"); g != 1 || a != int64(5*meter.Credit) {
		t.Fatalf("day's counts %d, %d, want 1 grant of 5", g, a)
	}
	if bal, err := ss[3].Available(ctx, winner.ID); err != nil || bal != 5*meter.Credit {
		t.Fatalf("alice's available %s (%v), want 5", bal, err)
	}
	mustVerify(t, ss[0].Ledger)
}

// 50 first requests of one new wallet, each a message of its own, over
// four instances: all accepted, one account, one grant.
func TestWallet_FirstRequestsMakeOneAccountAndOneGrant(t *testing.T) {
	ss, pool := idStores(t, 4)
	ctx, now := context.Background(), time.Now()
	free := meter.FreeGrant{Amount: 2 * meter.Credit, Client: "2001:db8:1:2::7", FreeLimits: meter.FreeLimits{PerClientPerDay: 1}}
	ids := make(chan *meter.Account, 50)
	codes := idRace(t, 50, func(i int) error {
		a, err := ss[i%4].AcceptWalletMessage(ctx, idBob, [32]byte{byte(i), 1}, now, now.Add(time.Minute), free)
		if err == nil {
			ids <- a
		}
		return err
	})
	idWantCodes(t, "50 first messages of a new wallet", codes, map[string]int{"": 50})
	close(ids)
	var first int64
	var granted meter.Amount
	for a := range ids {
		if first == 0 {
			first = a.ID
		}
		if a.ID != first {
			t.Fatalf("accounts %d and %d for one wallet", first, a.ID)
		}
		granted += a.FreeGranted
	}
	if granted != 2*meter.Credit {
		t.Fatalf("granted %s in all, want 2", granted)
	}
	if n := idInt(t, pool, `SELECT count(*) FROM accounts`); n != 1 {
		t.Fatalf("%d accounts, want 1", n)
	}
	if n := idInt(t, pool, `SELECT count(*) FROM entries WHERE kind = 'grant'`); n != 1 {
		t.Fatalf("%d grants, want 1", n)
	}
	if g, a := idGrants(t, pool, "2001:db8:1:2::/64"); g != 1 || a != int64(2*meter.Credit) {
		t.Fatalf("client /64 counts %d, %d, want 1 grant of 2", g, a)
	}
	w, created, err := ss[1].EnsureWallet(ctx, idBob, free)
	if err != nil || created || w.ID != first || w.Balance != 2*meter.Credit || w.FreeGranted != 2*meter.Credit {
		t.Fatalf("ensure bob: %+v created=%v %v, want account %d with 2 granted", w, created, err, first)
	}
	mustVerify(t, ss[0].Ledger)
}

func idWallet(i int) string { return fmt.Sprintf("0x%040x", 0x1000+i) }

// 10 new wallets of one client over four instances, against a limit of
// 3 per client: exactly 3 granted; the others keep why, for their 402.
func TestWallet_PerClientLimitHoldsAcrossInstances(t *testing.T) {
	ss, pool := idStores(t, 4)
	ctx := context.Background()
	free := meter.FreeGrant{Amount: meter.Credit, Client: "198.51.100.9", FreeLimits: meter.FreeLimits{PerClientPerDay: 3}}
	var mu sync.Mutex
	granted := 0
	codes := idRace(t, 10, func(i int) error {
		a, created, err := ss[i%4].EnsureWallet(ctx, idWallet(i), free)
		if err == nil && !created {
			t.Errorf("wallet %d: not created", i)
		}
		if err == nil && a.FreeGranted == meter.Credit {
			mu.Lock()
			granted++
			mu.Unlock()
		}
		return err
	})
	idWantCodes(t, "10 new wallets", codes, map[string]int{"": 10})
	if granted != 3 {
		t.Fatalf("%d wallets granted, want 3", granted)
	}
	const why = "not granted: this IP address has had its 3 free grants today (UTC)"
	if n := idInt(t, pool, `SELECT count(*) FROM accounts WHERE free_denied = $1 AND free_granted = 0 AND balance = 0`, why); n != 7 {
		t.Fatalf("%d wallets refused with %q, want 7", n, why)
	}
	if n := idInt(t, pool, `SELECT count(*) FROM accounts WHERE free_denied = '' AND free_granted = $1 AND balance = $1`, int64(meter.Credit)); n != 3 {
		t.Fatalf("%d wallets with their credit, want 3", n)
	}
	if g, a := idGrants(t, pool, "198.51.100.9"); g != 3 || a != int64(3*meter.Credit) {
		t.Fatalf("client counts %d, %d, want 3 grants of 1", g, a)
	}
	if g, a := idGrants(t, pool, "*"); g != 3 || a != int64(3*meter.Credit) {
		t.Fatalf("day's counts %d, %d, want 3 grants of 1", g, a)
	}
	mustVerify(t, ss[0].Ledger)
}

// 10 new wallets of 10 clients over four instances, against a daily
// budget of 2.5 grants: exactly 2 granted, and the refused clients'
// counts taken back (none is counted for a grant not made).
func TestWallet_DailyBudgetHoldsAcrossInstances(t *testing.T) {
	ss, pool := idStores(t, 4)
	ctx := context.Background()
	var mu sync.Mutex
	granted := 0
	codes := idRace(t, 10, func(i int) error {
		free := meter.FreeGrant{Amount: 2 * meter.Credit, Client: fmt.Sprintf("203.0.113.%d", i),
			FreeLimits: meter.FreeLimits{PerClientPerDay: 5, DailyBudget: 5 * meter.Credit}}
		a, _, err := ss[i%4].EnsureWallet(ctx, idWallet(i), free)
		if err == nil && a.FreeGranted == 2*meter.Credit {
			mu.Lock()
			granted++
			mu.Unlock()
		}
		return err
	})
	idWantCodes(t, "10 new wallets", codes, map[string]int{"": 10})
	if granted != 2 {
		t.Fatalf("%d wallets granted, want 2", granted)
	}
	const why = "not granted: daily free-credit budget spent for today (UTC)"
	if n := idInt(t, pool, `SELECT count(*) FROM accounts WHERE free_denied = $1 AND balance = 0`, why); n != 8 {
		t.Fatalf("%d wallets refused with %q, want 8", n, why)
	}
	if g, a := idGrants(t, pool, "*"); g != 2 || a != int64(4*meter.Credit) {
		t.Fatalf("day's counts %d, %d, want 2 grants of 2", g, a)
	}
	if n := idInt(t, pool, `SELECT COALESCE(SUM(grants), 0)::bigint FROM free_grants WHERE client != '*'`); n != 2 {
		t.Fatalf("%d grants counted against clients, want 2", n)
	}
	// A grant larger than the whole budget is never made, nor counted.
	big := meter.FreeGrant{Amount: 6 * meter.Credit, Client: "203.0.113.99", FreeLimits: meter.FreeLimits{DailyBudget: 5 * meter.Credit}}
	if a, _, err := ss[0].EnsureWallet(ctx, idWallet(99), big); err != nil || a.FreeGranted != 0 || a.Balance != 0 {
		t.Fatalf("a grant above the budget: %+v %v, want none", a, err)
	}
	if g, _ := idGrants(t, pool, "203.0.113.99"); g != 0 {
		t.Fatalf("refused client counted %d grants, want 0", g)
	}
	mustVerify(t, ss[0].Ledger)
}

// A wallet refused for a limit is asked again at its next request: the
// next day, one of its messages, on another instance, grants it once.
func TestWallet_RefusedWalletGrantedTheNextDay(t *testing.T) {
	ss, pool := idStores(t, 2)
	ctx, now := context.Background(), time.Now()
	free := meter.FreeGrant{Amount: meter.Credit, Client: "192.0.2.50", FreeLimits: meter.FreeLimits{PerClientPerDay: 1}}
	if a, err := ss[0].AcceptWalletMessage(ctx, idAlice, [32]byte{1}, now, now.Add(time.Minute), free); err != nil || a.FreeGranted != meter.Credit {
		t.Fatalf("alice: %+v %v, want granted 1", a, err)
	}
	b, err := ss[0].AcceptWalletMessage(ctx, idBob, [32]byte{1}, now, now.Add(time.Minute), free)
	if err != nil || b.FreeGranted != 0 {
		t.Fatalf("bob: %+v %v, want refused", b, err)
	}
	tomorrow := now.Add(24 * time.Hour)
	ss[1].Ledger.Now = func() time.Time { return tomorrow }
	codes := idRace(t, 20, func(i int) error {
		_, err := ss[1].AcceptWalletMessage(ctx, idBob, [32]byte{2, byte(i)}, tomorrow, tomorrow.Add(time.Minute), free)
		return err
	})
	idWantCodes(t, "20 messages of bob the next day", codes, map[string]int{"": 20})
	var denied string
	var balance, granted int64
	if err := pool.QueryRow(ctx, `SELECT free_denied, balance, free_granted FROM accounts WHERE id = $1`, b.ID).Scan(&denied, &balance, &granted); err != nil {
		t.Fatal(err)
	}
	if denied != "" || balance != int64(meter.Credit) || granted != int64(meter.Credit) {
		t.Fatalf("bob the next day: denied=%q balance=%d granted=%d, want '' and 1 credit", denied, balance, granted)
	}
	mustVerify(t, ss[0].Ledger)
}

// 50 sign-ins with one SIWE nonce over four instances: one consumes it.
func TestSIWE_NonceConsumedOnceAcrossInstances(t *testing.T) {
	ss, pool := idStores(t, 4)
	ctx, now := context.Background(), time.Now()
	if err := ss[2].CreateNonce(ctx, "n-4x", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	codes := idRace(t, 50, func(i int) error {
		ok, err := ss[i%4].ConsumeNonce(ctx, "n-4x", now)
		if err == nil && !ok {
			return meter.Errorf(meter.ECodeInvalidNonce, "gone")
		}
		return err
	})
	idWantCodes(t, "50 sign-ins with one nonce", codes, map[string]int{"": 1, meter.ECodeInvalidNonce: 49})
	if n := idInt(t, pool, `SELECT count(*) FROM siwe_nonces`); n != 0 {
		t.Fatalf("%d nonces left, want 0", n)
	}
	// Creating a nonce purges the expired ones.
	if err := ss[0].CreateNonce(ctx, "n-old", now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := ss[1].CreateNonce(ctx, "n-new", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := idInt(t, pool, `SELECT count(*) FROM siwe_nonces WHERE nonce = 'n-new'`); n != 1 {
		t.Fatalf("n-new stored %d times, want 1", n)
	}
	if n := idInt(t, pool, `SELECT count(*) FROM siwe_nonces`); n != 1 {
		t.Fatalf("%d nonces, want 1 (the expired one purged)", n)
	}
}

// 50 claims of one SIWX nonce by two wallets over four instances: one
// accepted, with the winner's account and grant; 49 replays, none of
// which made an account.
func TestSIWX_NonceClaimedOnceAcrossInstances(t *testing.T) {
	ss, pool := idStores(t, 4)
	ctx, now := context.Background(), time.Now()
	free := meter.FreeGrant{Amount: 3 * meter.Credit, Client: "192.0.2.77"}
	winner := make(chan *meter.Account, 1)
	codes := idRace(t, 50, func(i int) error {
		who := []string{idAlice, idBob}[i%2]
		a, err := ss[i%4].AcceptSIWXNonce(ctx, "siwx-4x", who, now, now.Add(time.Minute), free)
		var me *meter.Error
		if errors.As(err, &me) && (me.Message != "this sign-in-with-x nonce was already used; sign the nonce of a new 402" ||
			fmt.Sprint(me.Details) != "map[reason:invalid_siwx_nonce_used]") {
			t.Errorf("replay: %q %v", me.Message, me.Details)
		}
		if err == nil {
			winner <- a
		}
		return err
	})
	idWantCodes(t, "50 claims of one SIWX nonce", codes, map[string]int{"": 1, meter.ECodeSignatureReplayed: 49})
	a := <-winner
	if a.FreeGranted != 3*meter.Credit || a.Kind != meter.AccountWallet {
		t.Fatalf("winner %+v, want a wallet with 3 free credits", a)
	}
	if n := idInt(t, pool, `SELECT count(*) FROM accounts`); n != 1 {
		t.Fatalf("%d accounts, want the winner's alone", n)
	}
	if n := idInt(t, pool, `SELECT count(*) FROM entries WHERE kind = 'grant' AND account_id = $1`, a.ID); n != 1 {
		t.Fatalf("%d grants, want 1", n)
	}
	if n := idInt(t, pool, `SELECT count(*) FROM siwx_claims WHERE nonce = 'siwx-4x' AND address = $1`, a.Address); n != 1 {
		t.Fatalf("%d claims by the winner, want 1", n)
	}
	// A nonce an earlier version recorded in siwx_nonces is refused too.
	if _, err := pool.Exec(ctx, `INSERT INTO siwx_nonces (nonce, address, expires_at) VALUES ('legacy', $1, $2)`, idAlice, now.Add(time.Minute).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if _, err := ss[1].AcceptSIWXNonce(ctx, "legacy", idAlice, now, now.Add(time.Minute), free); meter.ErrorCode(err) != meter.ECodeSignatureReplayed {
		t.Fatalf("a legacy nonce: err=%v, want signature_replayed", err)
	}
	mustVerify(t, ss[0].Ledger)
}

// A wallet message an earlier version recorded in seen_messages (by its
// hash alone) is refused.
func TestWallet_LegacyReplayRecordRefused(t *testing.T) {
	ss, pool := idStores(t, 1)
	ctx, now := context.Background(), time.Now()
	hash := [32]byte{9, 9}
	if _, err := pool.Exec(ctx, `INSERT INTO seen_messages (hash, expires_at) VALUES ($1, $2)`, hash[:], now.Add(time.Minute).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if _, err := ss[0].AcceptWalletMessage(ctx, idAlice, hash, now, now.Add(time.Minute), meter.FreeGrant{}); meter.ErrorCode(err) != meter.ECodeSignatureReplayed {
		t.Fatalf("a legacy replay: err=%v, want signature_replayed", err)
	}
	if n := idInt(t, pool, `SELECT count(*) FROM accounts`); n != 0 {
		t.Fatalf("%d accounts after a refused message, want 0", n)
	}
}
