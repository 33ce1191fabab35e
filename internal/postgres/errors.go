package postgres

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATE codes this package tells errors by; never by their text.
const (
	codeUndefinedTable    = "42P01"
	codeRestrictViolation = "23001" // the journal's append-only triggers
)

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func isUndefinedTable(err error) bool { return sqlState(err) == codeUndefinedTable }

// IsAppendOnly reports whether err is the journal refusing to change or
// remove an entry.
func IsAppendOnly(err error) bool { return sqlState(err) == codeRestrictViolation }
