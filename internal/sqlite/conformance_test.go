package sqlite_test

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/paymeter/paymeter/internal/ledgertest"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/sqlite"
)

// TestConformance runs the engines' conformance suite on SQLite: a file
// in a temporary directory with the production pragmas.
func TestConformance(t *testing.T) {
	ledgertest.Run(t, ledgertest.Engine{
		Fresh: func(t *testing.T) string { return filepath.Join(t.TempDir(), "paymeter.db") },
		Open: func(t *testing.T, path string) meter.Store {
			s, err := sqlite.OpenStore(path, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	})
}
