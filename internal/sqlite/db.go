package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/paymeter/paymeter/internal/meter"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is one SQLite database file. Writes go through a single connection
// (SQLite has one writer at a time anyway, and one connection lets the
// ledger batch them); reads use a pool that WAL lets run beside the writer.
type DB struct {
	// Path is the database file.
	Path string
	// Now is the clock; tests replace it.
	Now func() time.Time

	write *sql.DB
	read  *sql.DB
}

// NewDB returns a DB for the file at path; call Open before use.
func NewDB(path string) *DB {
	return &DB{Path: path, Now: time.Now}
}

// Open opens the file, creating it if needed, and applies pending migrations.
func (db *DB) Open() (err error) {
	if db.Path == "" {
		return errors.New("database path required")
	}
	// WAL lets readers run beside the writer; synchronous=FULL makes every
	// commit durable before it returns (the ledger batches commits to pay
	// for the fsync once per batch); _txlock=immediate takes the write lock
	// at BEGIN so that two processes never deadlock upgrading read locks.
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "5000")
	q.Set("_txlock", "immediate")
	// Checkpoints stay automatic, run by the writer after a commit that
	// grows the WAL past 1000 pages: measured, that beats checkpointing
	// beside the writer, which under constant writes never lets the WAL
	// restart, so it grows without bound and every fsync appends to it.
	if db.write, err = sql.Open("sqlite3", "file:"+db.Path+"?"+q.Encode()); err != nil {
		return fmt.Errorf("open %s: %w", db.Path, err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxLifetime(0)

	q.Del("_txlock")
	q.Set("_query_only", "true")
	if db.read, err = sql.Open("sqlite3", "file:"+db.Path+"?"+q.Encode()); err != nil {
		db.write.Close()
		return fmt.Errorf("open %s: %w", db.Path, err)
	}
	db.read.SetMaxOpenConns(8)
	db.read.SetMaxIdleConns(8)

	if err := db.migrate(context.Background()); err != nil {
		db.Close()
		return err
	}
	return nil
}

// Close closes both connection pools.
func (db *DB) Close() error {
	var errs []error
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	return errors.Join(errs...)
}

// Ping checks that the database answers a read.
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

// ErrNewerSchema means the database was migrated by a later paymeter.
var ErrNewerSchema = errors.New("database schema is newer than this binary")

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, each in its own transaction, in file-name order.
func (db *DB) migrate(ctx context.Context) error { return db.migrateTo(ctx, math.MaxInt) }

// migrateTo is migrate up to the given version only.
func (db *DB) migrateTo(ctx context.Context, last int) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	// A database migrated by a later paymeter is refused: this binary
	// would ignore the tables that version writes, such as its replay
	// records, and accept again what they refuse.
	var newest int
	if len(names) > 0 {
		newest, _ = strconv.Atoi(strings.SplitN(strings.TrimPrefix(names[len(names)-1], "migrations/"), "_", 2)[0])
	}
	var applied int
	if err := db.write.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&applied); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	if applied > newest {
		return fmt.Errorf("%w: the database is at migration %d, this paymeter knows up to %d; run a paymeter of that version or later",
			ErrNewerSchema, applied, newest)
	}
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", base)
		}
		if version > last {
			break
		}
		if err := db.applyMigration(ctx, version, name); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, version int, name string) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	body, err := migrationFS.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		version, strings.TrimPrefix(name, "migrations/"), db.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

// isConstraint reports whether err is a SQLite constraint violation of the
// given extended kind (e.g. sqlite3.ErrConstraintUnique), judged by the
// driver's error code, never by its text.
func isConstraint(err error, ext sqlite3.ErrNoExtended) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint && se.ExtendedCode == ext
}

// notFound translates sql.ErrNoRows into a client-safe not_found error.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return meter.Errorf(meter.ECodeNotFound, format, args...)
	}
	return err
}

// millis converts an optional time to a nullable Unix-millisecond column.
func millis(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// fromMillis converts a nullable Unix-millisecond column to an optional time.
func fromMillis(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := time.UnixMilli(n.Int64).UTC()
	return &t
}
