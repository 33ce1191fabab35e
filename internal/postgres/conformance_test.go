package postgres_test

import (
	"context"
	"testing"

	"github.com/paymeter/paymeter/internal/ledgertest"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/pgtest"
	"github.com/paymeter/paymeter/internal/postgres"
)

// The engines' conformance suite (internal/ledgertest) on PostgreSQL,
// holds shared by the stores on one database.
func TestConformance(t *testing.T) {
	ledgertest.Run(t, ledgertest.Engine{
		Fresh: func(t *testing.T) string { return pgtest.DSN(t) },
		Open: func(t *testing.T, dsn string) meter.Store {
			s, err := postgres.OpenStore(context.Background(), dsn, quiet)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		SharedHolds: true,
	})
}
