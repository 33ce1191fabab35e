package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/paymeter/paymeter/internal/pgtest"
	"github.com/paymeter/paymeter/internal/postgres"
	"github.com/paymeter/paymeter/internal/sqlite"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// mustOpen opens a fresh database, closed when the test ends.
func mustOpen(t testing.TB, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// A fresh database gets every migration, recorded once under its name; a
// second Open applies nothing and changes no record.
func TestMigrateFreshThenNothing(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	db := mustOpen(t, dsn)
	known := postgres.Migrations()
	if got, want := len(known), len(sqlite.Migrations()); got != want {
		t.Fatalf("%d embedded migrations, want %d, as SQLite's", got, want)
	}
	last := known[len(known)-1]
	if v, err := db.Version(ctx); err != nil || v != last.Version {
		t.Fatalf("version = %d, %v; want %d", v, err, last.Version)
	}
	m, err := db.Schema(ctx)
	if err != nil || m != last {
		t.Fatalf("schema = %q, %v", m, err)
	}
	rows := recorded(t, db)
	for i, k := range known {
		if rows[i] != k {
			t.Fatalf("schema_migrations[%d] = %+v, want %+v", i, rows[i], k)
		}
	}
	again, err := postgres.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	applied, err := again.Migrate(ctx)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second migrate applied %v (err %v), want none", applied, err)
	}
	if got := recorded(t, db); len(got) != len(known) {
		t.Fatalf("%d records after a second migrate, want %d", len(got), len(known))
	}
}

func recorded(t *testing.T, db *postgres.DB) []postgres.Migration {
	t.Helper()
	rows, err := db.Pool().Query(context.Background(), `SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []postgres.Migration
	for rows.Next() {
		var m postgres.Migration
		if err := rows.Scan(&m.Version, &m.Name); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// Eight instances starting at once on a fresh database all open it, and
// between them apply each migration exactly once.
func TestConcurrentOpensApplyOnce(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	const n = 8
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		mu      sync.Mutex
		applied = map[int]int{}
		errs    []error
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Connect(ctx, dsn)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			defer db.Close()
			<-start
			done, err := db.Migrate(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			for _, m := range done {
				applied[m.Version]++
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d opens failed: %v", len(errs), n, errs)
	}
	for _, m := range postgres.Migrations() {
		if applied[m.Version] != 1 {
			t.Errorf("migration %s applied %d times, want 1", m.Name, applied[m.Version])
		}
	}
	db := mustOpen(t, dsn)
	var rows, distinct int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if n := len(postgres.Migrations()); rows != n || distinct != n {
		t.Fatalf("schema_migrations has %d rows, %d versions; want %d, %d", rows, distinct, n, n)
	}
}

// A database migrated by a later paymeter is refused, and nothing is
// applied to it.
func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	db := mustOpen(t, dsn)
	if _, err := db.Pool().Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future', 0)`); err != nil {
		t.Fatal(err)
	}
	_, err := postgres.Open(ctx, dsn)
	if !errors.Is(err, postgres.ErrNewerSchema) {
		t.Fatalf("open of a newer schema: %v, want ErrNewerSchema", err)
	}
	known := postgres.Migrations()
	want := fmt.Sprintf("database schema is newer than this binary: the database is at migration 9999, this paymeter knows up to %d; run a paymeter of that version or later",
		known[len(known)-1].Version)
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
	if v, _ := db.Version(ctx); v != 9999 {
		t.Fatalf("version after the refusal = %d, want 9999 (nothing applied)", v)
	}
}

// The journal refuses UPDATE, DELETE and TRUNCATE, by SQLSTATE, and keeps
// the entry as written.
func TestEntriesAppendOnly(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, pgtest.DSN(t))
	p := db.Pool()
	if _, err := p.Exec(ctx, `INSERT INTO accounts (id, kind, created_at) VALUES (1, 'app', 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Exec(ctx, `INSERT INTO entries (account_id, kind, amount, ref, created_at) VALUES (1, 'grant', 5000000000, 'g1', 0)`); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE entries SET amount = 9000000000 WHERE ref = 'g1'`,
		`DELETE FROM entries WHERE ref = 'g1'`,
		`TRUNCATE entries`,
		`TRUNCATE accounts CASCADE`,
	} {
		_, err := p.Exec(ctx, stmt)
		if !postgres.IsAppendOnly(err) || !strings.Contains(err.Error(), "journal entries are append-only") {
			t.Errorf("%s: %v, want the append-only refusal", stmt, err)
		}
	}
	var n int
	var amount int64
	if err := p.QueryRow(ctx, `SELECT count(*), sum(amount) FROM entries`).Scan(&n, &amount); err != nil {
		t.Fatal(err)
	}
	if n != 1 || amount != 5000000000 {
		t.Fatalf("entries: %d rows, sum %d; want 1, 5000000000", n, amount)
	}
}
