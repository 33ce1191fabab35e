package sqlite

import (
	"context"
	"database/sql"
)

// MigrateTo creates the database file at path as a paymeter whose last
// migration was version left it, then runs stmts on it: a file to migrate
// from.
func MigrateTo(path string, version int, stmts ...string) error {
	w, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on")
	if err != nil {
		return err
	}
	defer w.Close()
	db := NewDB(path)
	db.write = w
	ctx := context.Background()
	if err := db.migrateTo(ctx, version); err != nil {
		return err
	}
	for _, q := range stmts {
		if _, err := w.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}
