package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is one PostgreSQL database, shared by every paymeter instance that
// opens it, through a pool of connections.
type DB struct {
	// Now is the clock; tests replace it.
	Now func() time.Time

	pool     *pgxpool.Pool
	display  string // the DSN without credentials, for messages
	password string // scrubbed from every error this package returns
}

// Open connects to the database at dsn (a postgres:// or postgresql://
// URL) and applies pending migrations.
func Open(ctx context.Context, dsn string) (*DB, error) {
	db, err := Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// defaultMaxConns is each instance's pool size unless the URL sets
// pool_max_conns.
const defaultMaxConns = 32

// Connect connects to the database at dsn and checks that it answers,
// without touching its schema (`paymeter migrate --status` reads it).
func Connect(ctx context.Context, dsn string) (*DB, error) {
	display := Redact(dsn)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// Not wrapped: the driver's message quotes the DSN, and its
		// password redaction is best effort.
		return nil, fmt.Errorf("database %s: not a valid PostgreSQL connection URL", display)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		// pgx's default (4, or one per CPU) is shared by the writer, the
		// payments, the shared rate limiter and a sweep that keeps one for
		// its run: a flood would wait on it (docs/deploy.md).
		cfg.MaxConns = defaultMaxConns
	}
	db := &DB{Now: time.Now, display: display, password: cfg.ConnConfig.Password}
	if db.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, db.errorf("connect: %w", err)
	}
	if err := db.pool.Ping(ctx); err != nil {
		db.pool.Close()
		return nil, db.errorf("connect: %w", err)
	}
	return db, nil
}

// Close closes every connection of the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return db.errorf("ping: %w", err)
	}
	return nil
}

// Pool is the connection pool, for the ledger and stores built on this
// database.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// String is the database's URL without user or password: scheme, host,
// port and database name, safe to print and log.
func (db *DB) String() string { return db.display }

// errorf wraps an error with the database's redacted URL and scrubs the
// password from the text, should a driver error ever quote it.
func (db *DB) errorf(format string, args ...any) error {
	err := fmt.Errorf("database %s: "+format, append([]any{db.display}, args...)...)
	if db.password == "" {
		return err
	}
	return &scrubbed{err: err, secret: db.password}
}

// scrubbed is an error whose text never contains secret; errors.Is and
// errors.As still see the error it wraps.
type scrubbed struct {
	err    error
	secret string
}

func (e *scrubbed) Error() string {
	s := e.err.Error()
	for _, form := range []string{e.secret, url.QueryEscape(e.secret), url.PathEscape(e.secret)} {
		s = strings.ReplaceAll(s, form, "xxxxx")
	}
	return s
}

func (e *scrubbed) Unwrap() error { return e.err }

// IsDSN reports whether a database setting names PostgreSQL: a URL with
// the scheme postgres or postgresql. Anything else is a SQLite file.
func IsDSN(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// Redact returns a PostgreSQL URL reduced to what is safe to show: scheme,
// host, port and database name; never the user, password or parameters
// (a password may also be given as ?password=).
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || !IsDSN(dsn) {
		return "postgres://(unparsable URL)"
	}
	host := u.Host
	if host == "" { // a unix socket: postgres:///db?host=/run/postgresql
		host = u.Query().Get("host")
		if strings.HasPrefix(host, "/") {
			host = "unix(" + host + ")"
		}
		if p := u.Query().Get("port"); p != "" && host != "" {
			host += ":" + p
		}
	}
	r := url.URL{Scheme: strings.ToLower(u.Scheme), Host: "HOST", Path: u.Path}
	// The host is put in after escaping, which would spell a socket's
	// path in %2F; it holds no secret.
	return strings.Replace(r.String(), "HOST", host, 1)
}

// ErrNewerSchema means the database was migrated by a later paymeter.
var ErrNewerSchema = errors.New("database schema is newer than this binary")

// Scrub returns err with the password of dsn removed from its text, in
// the spellings a URL gives it (errors.Is and errors.As still see err):
// for errors of code that holds the URL but not a DB.
func Scrub(err error, dsn string) error {
	if err == nil {
		return nil
	}
	cfg, perr := pgxpool.ParseConfig(dsn)
	if perr != nil || cfg.ConnConfig.Password == "" {
		return err
	}
	return &scrubbed{err: err, secret: cfg.ConnConfig.Password}
}
