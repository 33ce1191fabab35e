package sqlite

import (
	"log/slog"

	"github.com/paymeter/paymeter/internal/meter"
)

var _ meter.Store = (*Store)(nil)

// Store is the SQLite storage engine as the program uses it (meter.Store):
// the ledger, the keys and the SIWE nonces on one database file.
type Store struct {
	*Ledger
	*KeyStore
	*NonceStore
	// DB is the database file; Close closes it after the ledger.
	DB *DB
}

// OpenStore opens the database file at path, creating and migrating it
// as needed, and starts its ledger.
func OpenStore(path string, logger *slog.Logger) (*Store, error) {
	db := NewDB(path)
	if err := db.Open(); err != nil {
		return nil, err
	}
	return NewStore(db, logger)
}

// NewStore starts a ledger on the open database db; Close closes db too.
func NewStore(db *DB, logger *slog.Logger) (*Store, error) {
	l, err := NewLedger(db, logger)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Store{Ledger: l, KeyStore: NewKeyStore(db), NonceStore: NewNonceStore(db), DB: db}, nil
}

// SetInFlight sets Ledger.InFlight; call it before serving.
func (s *Store) SetInFlight(f *meter.InFlight) { s.Ledger.InFlight = f }

// Close stops the ledger, which commits what was submitted and releases
// the holds still active, then closes the database.
func (s *Store) Close() error {
	err := s.Ledger.Close()
	if cerr := s.DB.Close(); err == nil {
		err = cerr
	}
	return err
}
