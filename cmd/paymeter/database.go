package main

import (
	"errors"
	"strings"

	"github.com/paymeter/paymeter/internal/postgres"
)

// databaseRef is the `database:` setting (config, PAYMETER_DATABASE, --db
// or --database) resolved to an engine: a postgres:// or postgresql:// URL
// is PostgreSQL, anything else the path of a SQLite file.
type databaseRef struct {
	value    string
	postgres bool
}

// parseDatabase resolves a database setting. A libpq key=value string
// ("host=… password=…") is refused rather than taken for a file name: it
// would create a file of that name and show its password as a path.
func parseDatabase(value string) (databaseRef, error) {
	if postgres.IsDSN(value) {
		return databaseRef{value: value, postgres: true}, nil
	}
	if looksLikeKeywordDSN(value) {
		return databaseRef{}, errors.New("database: looks like a PostgreSQL key=value connection string; give a postgres://host:port/dbname URL")
	}
	return databaseRef{value: value}, nil
}

// String shows the database without its credentials: `sqlite PATH`, or the
// PostgreSQL URL reduced to scheme, host, port and database name.
func (d databaseRef) String() string {
	if d.postgres {
		return postgres.Redact(d.value)
	}
	return "sqlite " + d.value
}

// looksLikeKeywordDSN reports whether s starts like a libpq connection
// string, e.g. "host=db dbname=pm password=…".
func looksLikeKeywordDSN(s string) bool {
	first, _, _ := strings.Cut(strings.TrimSpace(s), " ")
	key, _, ok := strings.Cut(first, "=")
	if !ok {
		return false
	}
	switch strings.ToLower(key) {
	case "host", "hostaddr", "port", "dbname", "user", "password", "sslmode", "service", "options", "connect_timeout":
		return true
	}
	return false
}

// checkDatabase checks a database setting: a SQLite file, or a
// postgres:// URL (never a libpq key=value string).
func checkDatabase(value string) error {
	_, err := parseDatabase(value)
	return err
}

// shownDatabase is a database setting as logs show it: a PostgreSQL URL
// without its credentials (a SQLite path as it is).
func shownDatabase(value string) string {
	if postgres.IsDSN(value) {
		return postgres.Redact(value)
	}
	return value
}
