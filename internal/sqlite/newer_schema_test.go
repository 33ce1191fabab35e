package sqlite_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/paymeter/paymeter/internal/sqlite"
)

// A database that a later paymeter migrated is refused at open, not used
// without the tables that version writes (its replay records, say).
func TestOpen_RefusesANewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "paymeter.db")
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	newest := db.Count(t, `SELECT MAX(version) FROM schema_migrations`) // the binary's last migration
	if err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_later.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	again := sqlite.NewDB(path)
	err := again.Open()
	if !errors.Is(err, sqlite.ErrNewerSchema) {
		again.Close()
		t.Fatalf("open of a database at migration 9999 = %v, want ErrNewerSchema", err)
	}
	want := fmt.Sprintf("database schema is newer than this binary: the database is at migration 9999, this paymeter knows up to %d; run a paymeter of that version or later", newest)
	if err.Error() != want {
		t.Fatalf("error = %q, want %q", err, want)
	}
}
