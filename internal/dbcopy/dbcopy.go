// Package dbcopy moves a SQLite ledger to PostgreSQL exactly
// (`paymeter db copy`, docs/design.md §4): every row of every table, in
// one PostgreSQL transaction, then checked on both sides.
package dbcopy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	_ "github.com/mattn/go-sqlite3" // the source's driver

	"github.com/paymeter/paymeter/internal/postgres"
	"github.com/paymeter/paymeter/internal/sqlite"
)

// Result is what a copy moved, per table, in the order it was copied.
type Result struct {
	Tables []Table
}

// Table is one table's rows, as counted on both sides once copied.
type Table struct {
	Name string
	Rows int64
}

// Copy copies the SQLite ledger at from into the empty PostgreSQL database
// to (a postgres:// URL), migrating the target first. The source must be
// at the same migration as this binary (run `paymeter migrate` on it) and
// is only read. Nothing is committed unless every table copied whole, the
// row counts and every account's balance and held total agree on both
// sides, and `ledger verify` is clean on both.
func Copy(ctx context.Context, from, to string) (*Result, error) {
	want := sqlite.Migrations()[len(sqlite.Migrations())-1]
	have, err := sqlite.ReadSchema(ctx, from)
	if err != nil {
		return nil, err
	}
	if have != want {
		return nil, fmt.Errorf("%s is at %s, this paymeter at %s: run paymeter migrate on it first", from, have, want)
	}
	if v, err := sqlite.VerifyFile(ctx, from); err != nil {
		return nil, fmt.Errorf("verify %s: %w", from, err)
	} else if len(v) > 0 {
		return nil, fmt.Errorf("%s does not verify (%d violations, first: %s): repair it before copying", from, len(v), v[0])
	}
	src, err := sql.Open("sqlite3", "file:"+from+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", from, err)
	}
	defer src.Close()
	// One read transaction: the copy is of one moment of the source, even
	// if a paymeter still writes it.
	stx, err := src.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer stx.Rollback()

	dst, err := postgres.Open(ctx, to)
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	tables, err := tablesInOrder(ctx, stx)
	if err != nil {
		return nil, err
	}
	tx, err := dst.Pool().BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	res := &Result{}
	for _, t := range tables {
		if err := mustBeEmpty(ctx, tx, t); err != nil {
			return nil, err
		}
	}
	for _, t := range tables {
		n, err := copyTable(ctx, stx, tx, t)
		if err != nil {
			return nil, fmt.Errorf("copy %s: %w", t.name, err)
		}
		res.Tables = append(res.Tables, Table{Name: t.name, Rows: n})
	}
	if err := setIdentities(ctx, tx, tables); err != nil {
		return nil, err
	}
	if err := compare(ctx, stx, tx, res); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	l := postgres.NewLedger(dst.Pool(), slog.New(slog.DiscardHandler))
	defer l.Close()
	if v, err := l.Verify(ctx); err != nil {
		return nil, fmt.Errorf("verify the copy: %w", err)
	} else if len(v) > 0 {
		return nil, fmt.Errorf("the copy does not verify (%d violations, first: %s)", len(v), v[0])
	}
	return res, nil
}

// table is one source table: its columns, in the source's order, and
// whether it has an integer key the target generates (an identity).
type table struct {
	name     string
	columns  []string
	identity string // the INTEGER PRIMARY KEY column, "" if none
}

// tablesInOrder lists the source's tables (schema_migrations aside: the
// target keeps its own) so that every table comes after those its
// foreign keys reference.
func tablesInOrder(ctx context.Context, tx *sql.Tx) ([]table, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	byName, refs := map[string]table{}, map[string][]string{}
	for _, n := range names {
		t := table{name: n}
		cols, err := tx.QueryContext(ctx, `SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid`, n)
		if err != nil {
			return nil, err
		}
		pks := 0
		var pkCol, pkType string
		for cols.Next() {
			var c, typ string
			var pk int
			if err := cols.Scan(&c, &typ, &pk); err != nil {
				cols.Close()
				return nil, err
			}
			t.columns = append(t.columns, c)
			if pk > 0 {
				pks++
				pkCol, pkType = c, typ
			}
		}
		cols.Close()
		if pks == 1 && strings.EqualFold(pkType, "INTEGER") {
			t.identity = pkCol
		}
		fks, err := tx.QueryContext(ctx, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, n)
		if err != nil {
			return nil, err
		}
		for fks.Next() {
			var ref string
			if err := fks.Scan(&ref); err != nil {
				fks.Close()
				return nil, err
			}
			if ref != n {
				refs[n] = append(refs[n], ref)
			}
		}
		fks.Close()
		byName[n] = t
	}
	var out []table
	done := map[string]bool{}
	var visit func(n string, path []string) error
	visit = func(n string, path []string) error {
		if done[n] {
			return nil
		}
		if slices.Contains(path, n) {
			return fmt.Errorf("foreign keys form a cycle through %s", n)
		}
		for _, r := range refs[n] {
			if err := visit(r, append(path, n)); err != nil {
				return err
			}
		}
		done[n] = true
		out = append(out, byName[n])
		return nil
	}
	for _, n := range names {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// mustBeEmpty refuses a target table that has rows: a copy never merges
// two ledgers.
func mustBeEmpty(ctx context.Context, tx pgx.Tx, t table) error {
	var any bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+pgx.Identifier{t.name}.Sanitize()+`)`).Scan(&any); err != nil {
		return fmt.Errorf("read %s: %w", t.name, err)
	}
	if any {
		return fmt.Errorf("the target's %s is not empty: copy into a new database", t.name)
	}
	return nil
}

// copyTable streams the source table's rows into the target with COPY.
func copyTable(ctx context.Context, src *sql.Tx, dst pgx.Tx, t table) (int64, error) {
	quoted := make([]string, len(t.columns))
	for i, c := range t.columns {
		quoted[i] = `"` + c + `"`
	}
	rows, err := src.QueryContext(ctx, `SELECT `+strings.Join(quoted, ", ")+` FROM "`+t.name+`"`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n, err := dst.CopyFrom(ctx, pgx.Identifier{t.name}, t.columns, &sqlRows{rows: rows, n: len(t.columns)})
	if err != nil {
		return n, err
	}
	return n, rows.Err()
}

// sqlRows is a source query as pgx.CopyFromSource: SQLite's INTEGER,
// TEXT, BLOB and NULL values as int64, string, []byte and nil, which
// the target's BIGINT, TEXT and BYTEA columns take as they are.
type sqlRows struct {
	rows *sql.Rows
	n    int
	vals []any
	err  error
}

func (r *sqlRows) Next() bool {
	if !r.rows.Next() {
		return false
	}
	vals, ptrs := make([]any, r.n), make([]any, r.n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if r.err = r.rows.Scan(ptrs...); r.err != nil {
		return false
	}
	r.vals = vals
	return true
}

func (r *sqlRows) Values() ([]any, error) { return r.vals, r.err }
func (r *sqlRows) Err() error             { return errors.Join(r.err, r.rows.Err()) }

// setIdentities moves each identity past the highest id copied, so that
// the target's next row does not take an id the source used.
func setIdentities(ctx context.Context, tx pgx.Tx, tables []table) error {
	for _, t := range tables {
		if t.identity == "" {
			continue
		}
		name, col := pgx.Identifier{t.name}.Sanitize(), pgx.Identifier{t.identity}.Sanitize()
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), m) FROM (SELECT max(`+col+`) AS m FROM `+name+`) t
			WHERE m IS NOT NULL`, t.name, t.identity); err != nil {
			return fmt.Errorf("set %s's identity: %w", t.name, err)
		}
	}
	return nil
}

// compare checks the copy against the source before it is committed:
// each table's row count, every account's balance and held total, and
// the journal's sum.
func compare(ctx context.Context, src *sql.Tx, dst pgx.Tx, res *Result) error {
	for _, t := range res.Tables {
		var s, d int64
		if err := src.QueryRowContext(ctx, `SELECT count(*) FROM "`+t.Name+`"`).Scan(&s); err != nil {
			return err
		}
		if err := dst.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{t.Name}.Sanitize()).Scan(&d); err != nil {
			return err
		}
		if s != d || d != t.Rows {
			return fmt.Errorf("%s: %d rows in the source, %d copied, %d in the target", t.Name, s, t.Rows, d)
		}
	}
	const accounts = `SELECT id, balance, held FROM accounts ORDER BY id`
	srows, err := src.QueryContext(ctx, accounts)
	if err != nil {
		return err
	}
	defer srows.Close()
	drows, err := dst.Query(ctx, accounts)
	if err != nil {
		return err
	}
	defer drows.Close()
	for srows.Next() {
		var a, b [3]int64
		if err := srows.Scan(&a[0], &a[1], &a[2]); err != nil {
			return err
		}
		if !drows.Next() {
			return fmt.Errorf("account %d is missing from the copy", a[0])
		}
		if err := drows.Scan(&b[0], &b[1], &b[2]); err != nil {
			return err
		}
		if a != b {
			return fmt.Errorf("account %d: balance %d held %d in the source, %d and %d in the copy (account %d)", a[0], a[1], a[2], b[1], b[2], b[0])
		}
	}
	if drows.Next() {
		return errors.New("the copy has accounts the source has not")
	}
	drows.Close()
	var s, d int64
	if err := src.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM entries`).Scan(&s); err != nil {
		return err
	}
	if err := dst.QueryRow(ctx, `SELECT COALESCE(SUM(amount), 0)::bigint FROM entries`).Scan(&d); err != nil {
		return err
	}
	if s != d {
		return fmt.Errorf("the journal sums to %d in the source, %d in the copy", s, d)
	}
	return nil
}
