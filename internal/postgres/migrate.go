package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migration is one numbered schema migration.
type Migration struct {
	// Version is the number the file name starts with; the same number
	// means the same schema on SQLite.
	Version int
	// Name is the file name without its extension, e.g. 0012_replay_by_time.
	Name string
}

// String is the migration as `paymeter migrate` shows it.
func (m Migration) String() string {
	if m.Version == 0 {
		return "none"
	}
	return fmt.Sprintf("migration %d (%s)", m.Version, m.Name)
}

// Migrations returns the embedded migrations in the order they apply.
func Migrations() []Migration {
	names, _ := fs.Glob(migrationFS, "migrations/*.sql")
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "migrations/"), ".sql")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			panic("migration " + base + ": name must start with a number") // a build mistake
		}
		out = append(out, Migration{Version: v, Name: base})
	}
	return out
}

// lockKey is the advisory lock that serialises migrations across every
// instance on the database ("paymeter schema" as bytes).
const lockKey int64 = 0x7061796d65746572

// Migrate applies the embedded migrations the database has not recorded,
// each in its own transaction under the advisory lock: of N instances
// starting at once, one applies a migration and the others, waiting on the
// lock, find it recorded. It returns those it applied.
func (db *DB) Migrate(ctx context.Context) ([]Migration, error) {
	known := Migrations()
	var applied []Migration
	for _, m := range known {
		done, err := db.apply(ctx, m, known[len(known)-1].Version)
		if err != nil {
			if errors.Is(err, ErrNewerSchema) {
				return applied, err
			}
			return applied, db.errorf("migration %s: %w", m.Name, err)
		}
		if done {
			applied = append(applied, m)
		}
	}
	return applied, nil
}

// apply applies m unless it is recorded; newest is the binary's last.
func (db *DB) apply(ctx context.Context, m Migration, newest int) (bool, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey); err != nil {
		return false, err
	}
	// Under the lock, so that two first starts do not race to create it.
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    BIGINT PRIMARY KEY,
		name       TEXT   NOT NULL,
		applied_at BIGINT NOT NULL)`); err != nil {
		return false, fmt.Errorf("create schema_migrations: %w", err)
	}
	var top int
	var have bool
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0), COALESCE(bool_or(version = $1), false) FROM schema_migrations`,
		m.Version).Scan(&top, &have); err != nil {
		return false, fmt.Errorf("read schema_migrations: %w", err)
	}
	// A database migrated by a later paymeter is refused: this binary
	// would ignore the tables that version writes, such as its replay
	// records, and accept again what they refuse.
	if top > newest {
		return false, db.errorf("%w: the database is at migration %d, this paymeter knows up to %d; run a paymeter of that version or later",
			ErrNewerSchema, top, newest)
	}
	if have {
		return false, nil
	}
	body, err := migrationFS.ReadFile("migrations/" + m.Name + ".sql")
	if err != nil {
		return false, err
	}
	// Without arguments pgx sends the file as one simple query, which may
	// hold many statements; it runs inside tx.
	if _, err := tx.Exec(ctx, string(body)); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.Version, m.Name, db.Now().UnixMilli()); err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}

// Schema returns the newest migration the database has recorded; Version
// 0 when it has none (a new database, or one never migrated).
func (db *DB) Schema(ctx context.Context) (Migration, error) {
	var m Migration
	err := db.pool.QueryRow(ctx, `SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1`).Scan(&m.Version, &m.Name)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Migration{}, nil
	case isUndefinedTable(err):
		return Migration{}, nil
	case err != nil:
		return Migration{}, db.errorf("read schema_migrations: %w", err)
	}
	return m, nil
}

// Version returns the number of the newest migration applied; 0 if none.
func (db *DB) Version(ctx context.Context) (int, error) {
	m, err := db.Schema(ctx)
	return m.Version, err
}
