package sqlite

import "context"

// Exec runs a statement on the writer connection, bypassing the ledger:
// tests use it to tamper with the database and prove that checks notice.
func (db *DB) Exec(query string, args ...any) error {
	_, err := db.write.ExecContext(context.Background(), query, args...)
	return err
}
