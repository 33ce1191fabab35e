package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/ledgertest"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/pgtest"
	"github.com/paymeter/paymeter/internal/postgres"
)

// ledgerStore is a meter.Store of which only the ledger (and the engine's
// Ping, Maintain and Close) is PostgreSQL's: enough for the conformance
// tests of credit, holds and captures; any other method is nil's, and
// panics, which fails the test that calls it.
type ledgerStore struct {
	meter.Store
	l  *postgres.Ledger
	db *postgres.DB
}

func (s *ledgerStore) CreateAccount(ctx context.Context, a *meter.Account) error {
	return s.l.CreateAccount(ctx, a)
}
func (s *ledgerStore) FindAccountByID(ctx context.Context, id int64) (*meter.Account, error) {
	return s.l.FindAccountByID(ctx, id)
}
func (s *ledgerStore) FindAccounts(ctx context.Context, k meter.AccountKind) ([]*meter.Account, error) {
	return s.l.FindAccounts(ctx, k)
}
func (s *ledgerStore) Credit(ctx context.Context, id int64, k meter.EntryKind, a meter.Amount, ref string) (*meter.Entry, error) {
	return s.l.Credit(ctx, id, k, a, ref)
}
func (s *ledgerStore) Hold(ctx context.Context, id int64, a meter.Amount, ttl time.Duration) (*meter.Hold, error) {
	return s.l.Hold(ctx, id, a, ttl)
}
func (s *ledgerStore) HoldWithin(ctx context.Context, id int64, a meter.Amount, ttl time.Duration, b meter.Budget) (*meter.Hold, error) {
	return s.l.HoldWithin(ctx, id, a, ttl, b)
}
func (s *ledgerStore) Capture(ctx context.Context, c meter.Charge) (meter.Amount, error) {
	return s.l.Capture(ctx, c)
}
func (s *ledgerStore) Release(ctx context.Context, id string) error { return s.l.Release(ctx, id) }
func (s *ledgerStore) ReleaseExpired(ctx context.Context, now time.Time) (int, error) {
	return s.l.ReleaseExpired(ctx, now)
}
func (s *ledgerStore) FindEntries(ctx context.Context, f meter.EntryFilter) ([]*meter.Entry, error) {
	return s.l.FindEntries(ctx, f)
}
func (s *ledgerStore) Available(ctx context.Context, id int64) (meter.Amount, error) {
	return s.l.Available(ctx, id)
}
func (s *ledgerStore) FindBudgetUse(ctx context.Context, id int64, b meter.Budget) (meter.BudgetUse, error) {
	return s.l.FindBudgetUse(ctx, id, b)
}
func (s *ledgerStore) Verify(ctx context.Context) ([]string, error) { return s.l.Verify(ctx) }
func (s *ledgerStore) Ping(ctx context.Context) error               { return s.l.Ping(ctx) }
func (s *ledgerStore) Maintain(ctx context.Context, every time.Duration) {
	s.l.Maintain(ctx, every)
}
func (s *ledgerStore) Close() error {
	s.l.Close()
	s.db.Close()
	return nil
}

// The ledger's conformance tests (internal/ledgertest) on PostgreSQL,
// with holds shared by the stores on one database.
func TestConformance_Ledger(t *testing.T) {
	ledgertest.RunLedger(t, ledgertest.Engine{
		Fresh: func(t *testing.T) string { return pgtest.DSN(t) },
		Open: func(t *testing.T, dsn string) meter.Store {
			db, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			return &ledgerStore{l: postgres.NewLedger(db.Pool(), quiet), db: db}
		},
		SharedHolds: true,
	})
}
