package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Migration is one numbered schema migration.
type Migration struct {
	// Version is the number the file name starts with; the same number
	// means the same schema on PostgreSQL.
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

// Migrations returns the embedded migrations in the order Open applies them.
func Migrations() []Migration {
	names, _ := fs.Glob(migrationFS, "migrations/*.sql")
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "migrations/"), ".sql")
		v, _ := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		out = append(out, Migration{Version: v, Name: base})
	}
	return out
}

// Schema returns the newest migration the database has recorded.
func (db *DB) Schema(ctx context.Context) (Migration, error) {
	return readSchema(ctx, db.read)
}

// ReadSchema returns the newest migration recorded in the file at path
// without opening it for writing or migrating it (`paymeter migrate
// --status`); Version 0 when the file does not exist or was never migrated.
func ReadSchema(ctx context.Context, path string) (Migration, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return Migration{}, nil
	}
	conn, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return Migration{}, fmt.Errorf("open %s: %w", path, err)
	}
	defer conn.Close()
	return readSchema(ctx, conn)
}

func readSchema(ctx context.Context, conn *sql.DB) (Migration, error) {
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n); err != nil {
		return Migration{}, fmt.Errorf("read schema_migrations: %w", err)
	}
	if n == 0 {
		return Migration{}, nil
	}
	var m Migration
	err := conn.QueryRowContext(ctx, `SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1`).Scan(&m.Version, &m.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return Migration{}, nil
	}
	if err != nil {
		return Migration{}, fmt.Errorf("read schema_migrations: %w", err)
	}
	// schema_migrations holds the file name; show it as Migrations does.
	m.Name = strings.TrimSuffix(m.Name, ".sql")
	return m, nil
}
