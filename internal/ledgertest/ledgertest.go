// Package ledgertest is the storage engines' conformance suite: the
// ledger's invariants (docs/design.md §4), stated once and proven through
// meter.Store only, against every engine. An engine's own tests call Run
// with a way to make fresh databases and to open stores on them.
package ledgertest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// Engine makes databases of one storage engine and opens stores on them.
type Engine struct {
	// Fresh makes a new, empty database and returns what names it to
	// Open: a file path, a URL. It removes it when the test ends.
	Fresh func(t *testing.T) string
	// Open opens a store on a database Fresh made, migrating it as
	// needed. Several stores may be open on one database at once (the
	// instances of a deployment, or an operator command beside serve).
	// The suite closes every store it opens.
	Open func(t *testing.T, database string) meter.Store
	// SharedHolds says that holds are decided in the database, so that
	// stores on one database never overspend together (PostgreSQL).
	// Without it holds are decided in one store's memory, and only one
	// store may take them (SQLite: one instance).
	SharedHolds bool
}

// test is one named invariant and the scenario that proves it.
type test struct {
	name string
	run  func(t *testing.T, d *db)
}

// Run runs every conformance test against e, each on a fresh database.
func Run(t *testing.T, e Engine) {
	var all []test
	all = append(all, ledgerTests...)
	all = append(all, claimTests...)
	all = append(all, durabilityTests...)
	for _, tt := range all {
		t.Run(tt.name, func(t *testing.T) {
			d := &db{engine: e, name: e.Fresh(t)}
			tt.run(t, d)
		})
	}
}

// db is the database a test runs on.
type db struct {
	engine Engine
	name   string
}

// open opens a store on the database, closed when the test ends unless
// the test closes it first.
func (d *db) open(t *testing.T) meter.Store {
	t.Helper()
	s := &closeOnce{Store: d.engine.Open(t, d.name)}
	t.Cleanup(func() { s.Close() })
	return s
}

// instances opens n stores on the database, as n instances of a
// deployment would.
func (d *db) instances(t *testing.T, n int) []meter.Store {
	t.Helper()
	ss := make([]meter.Store, n)
	for i := range ss {
		ss[i] = d.open(t)
	}
	return ss
}

// closeOnce lets both a test and its cleanup close a store.
type closeOnce struct {
	meter.Store
	once sync.Once
	err  error
}

func (c *closeOnce) Close() error {
	c.once.Do(func() { c.err = c.Store.Close() })
	return c.err
}

var ctx = context.Background()

// amt parses a decimal amount of credits.
func amt(t *testing.T, s string) meter.Amount {
	t.Helper()
	a, err := meter.ParseAmount(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// mustApp creates an app account funded with a grant of credits.
func mustApp(t *testing.T, s meter.Store, credits string) *meter.Account {
	t.Helper()
	a := &meter.Account{Kind: meter.AccountApp, Name: "conformance app"}
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if c := amt(t, credits); c > 0 {
		if _, err := s.Credit(ctx, a.ID, meter.EntryGrant, c, ""); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// mustVerify fails the test if the store finds any invariant violated,
// and checks on its own that every account's balance is the sum of its
// journal entries.
func mustVerify(t *testing.T, s meter.Store) {
	t.Helper()
	v, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) > 0 {
		t.Fatalf("ledger verify: %q", v)
	}
	accounts, err := s.FindAccounts(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accounts {
		if sum := journalSum(t, s, a.ID); sum != a.Balance {
			t.Fatalf("account %d: balance %s, its entries sum to %s", a.ID, a.Balance, sum)
		}
		if a.Balance-a.Held < 0 {
			t.Fatalf("account %d: balance %s held %s, available below zero", a.ID, a.Balance, a.Held)
		}
	}
}

// journalSum adds up every entry of the account, page by page.
func journalSum(t *testing.T, s meter.Store, accountID int64) meter.Amount {
	t.Helper()
	var sum meter.Amount
	f := meter.EntryFilter{AccountID: accountID, Limit: 500}
	for {
		page, err := s.FindEntries(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			sum += e.Amount
			f.BeforeID = e.ID
		}
		if len(page) < f.Limit {
			return sum
		}
	}
}

// balances returns the account's stored balance and held amounts.
func balances(t *testing.T, s meter.Store, id int64) (balance, held meter.Amount) {
	t.Helper()
	a, err := s.FindAccountByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return a.Balance, a.Held
}

// mustAvailable fails unless the account's available balance is want.
func mustAvailable(t *testing.T, s meter.Store, id int64, want meter.Amount) {
	t.Helper()
	got, err := s.Available(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("available=%s, want %s", got, want)
	}
}

// mustEventualHeld waits (briefly) until the stored held amount of the
// account is want: a hold may be answered before it is stored.
func mustEventualHeld(t *testing.T, s meter.Store, id int64, want meter.Amount) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, held := balances(t, s, id)
		if held == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("held=%s, want %s", held, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// race runs fn n times at once, released together, and counts the
// outcomes by error code ("" for success). An error that is not a
// *meter.Error fails the test: a race must be decided, not crash.
func race(t *testing.T, n int, fn func(i int) error) map[string]int {
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
			code := meter.ErrorCode(err)
			if code == meter.ECodeInternal {
				t.Errorf("attempt %d: %v", i, err)
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

// mustCodes fails unless the outcomes counted are exactly want.
func mustCodes(t *testing.T, what string, got map[string]int, want map[string]int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: outcomes %v, want %v", what, got, want)
	}
	for code, n := range want {
		if got[code] != n {
			t.Fatalf("%s: outcomes %v, want %v", what, got, want)
		}
	}
}
