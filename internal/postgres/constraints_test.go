package postgres_test

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/paymeter/paymeter/internal/pgtest"
	"github.com/paymeter/paymeter/internal/sqlite"
)

// The same rows are refused, and the same accepted, by both schemas: the
// CHECKs, UNIQUEs, references and lengths mean the same on each engine.
func TestConstraintParity(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	sdb := sqlite.NewDB(path)
	if err := sdb.Open(); err != nil {
		t.Fatal(err)
	}
	sdb.Close()
	lite, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg := mustOpen(t, pgtest.DSN(t)).Pool()

	key32, key31 := bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{7}, 31)
	setup := []string{
		`INSERT INTO accounts (id, kind, balance, held, created_at) VALUES (1, 'app', 10, 0, 0)`,
		`INSERT INTO entries (account_id, kind, amount, ref, created_at) VALUES (1, 'grant', 10, 'g1', 0)`,
		`INSERT INTO payments (id, key, network, payer, wallet, amount, purpose, state, payload, requirement, created_at, updated_at)
			VALUES (1, 'k1', 'n', 'p', 'w', 1, 'topup', 'claimed', '{}', '{}', 0, 0)`,
		`INSERT INTO upto_authorizations (id, key, network, token, payer, account_id, max, state, deadline, payload, requirement, created_at, updated_at)
			VALUES (1, 'u1', 'n', 't', 'p', 1, 5, 'claimed', 0, '{}', '{}', 0, 0)`,
	}
	for _, s := range setup {
		if _, err := lite.Exec(s); err != nil {
			t.Fatalf("sqlite: %s: %v", s, err)
		}
		if _, err := pg.Exec(ctx, s); err != nil {
			t.Fatalf("postgres: %s: %v", s, err)
		}
	}
	for _, tc := range []struct {
		name string
		ok   bool
		stmt string
		args []any
	}{
		{"account kind", false, `INSERT INTO accounts (kind, created_at) VALUES ('bank', 0)`, nil},
		{"available below zero", false, `UPDATE accounts SET held = 11 WHERE id = 1`, nil},
		{"available zero", true, `UPDATE accounts SET held = 10 WHERE id = 1`, nil},
		{"held negative", false, `INSERT INTO accounts (kind, held, balance, created_at) VALUES ('app', -1, -1, 0)`, nil},
		{"address unique", false, `INSERT INTO accounts (kind, address, created_at) VALUES ('wallet', '0xa', 0), ('wallet', '0xa', 0)`, nil},
		{"entry kind", false, `INSERT INTO entries (account_id, kind, amount, ref, created_at) VALUES (1, 'gift', 1, 'x', 0)`, nil},
		{"entry ref once per kind", false, `INSERT INTO entries (account_id, kind, amount, ref, created_at) VALUES (1, 'grant', 1, 'g1', 0)`, nil},
		{"same ref other kind", true, `INSERT INTO entries (account_id, kind, amount, ref, created_at) VALUES (1, 'topup', 1, 'g1', 0)`, nil},
		{"entry of no account", false, `INSERT INTO entries (account_id, kind, amount, ref, created_at) VALUES (99, 'grant', 1, 'g2', 0)`, nil},
		{"hold negative", false, `INSERT INTO holds (id, account_id, amount, created_at, expires_at) VALUES ('h', 1, -1, 0, 0)`, nil},
		{"key hash 31 bytes", false, `INSERT INTO api_keys (account_id, name, prefix, hash, scopes, created_at) VALUES (1, 'n', 'p', $1, 's', 0)`, []any{key31}},
		{"key hash 32 bytes", true, `INSERT INTO api_keys (account_id, name, prefix, hash, scopes, created_at) VALUES (1, 'n', 'p', $1, 's', 0)`, []any{key32}},
		{"seen message 31 bytes", false, `INSERT INTO seen_messages (hash, expires_at) VALUES ($1, 0)`, []any{key31}},
		{"payment amount zero", false, `INSERT INTO payments (key, network, payer, wallet, amount, purpose, state, payload, requirement, created_at, updated_at)
			VALUES ('k2', 'n', 'p', 'w', 0, 'topup', 'claimed', '{}', '{}', 0, 0)`, nil},
		{"payment key once", false, `INSERT INTO payments (key, network, payer, wallet, amount, purpose, state, payload, requirement, created_at, updated_at)
			VALUES ('k1', 'n', 'p', 'w', 1, 'topup', 'claimed', '{}', '{}', 0, 0)`, nil},
		{"payment state", false, `UPDATE payments SET state = 'lost' WHERE id = 1`, nil},
		{"session spend cap negative", false, `INSERT INTO sessions (key_id, account_id, prefix, hash, scopes, spend_cap, created_at, expires_at)
			VALUES (1, 1, 'p', $1, 's', -1, 0, 0)`, []any{key32}},
		{"free grants negative", false, `INSERT INTO free_grants (day, client, grants) VALUES (1, '*', -1)`, nil},
		{"siwx key id 2", false, `INSERT INTO siwx_key (id, key) VALUES (2, $1)`, []any{key32}},
		{"siwx key 31 bytes", false, `INSERT INTO siwx_key (id, key) VALUES (1, $1)`, []any{key31}},
		{"payment identifier 15 chars", false, `INSERT INTO payment_identifiers (payer, id, payment_id, created_at) VALUES ('p', '123456789012345', 1, 0)`, nil},
		{"payment identifier 16 chars", true, `INSERT INTO payment_identifiers (payer, id, payment_id, created_at) VALUES ('p', '1234567890123456', 1, 0)`, nil},
		{"payment identifier of no payment", false, `INSERT INTO payment_identifiers (payer, id, payment_id, created_at) VALUES ('p', '1234567890123456', 9, 0)`, nil},
		{"upto amount above max", false, `UPDATE upto_authorizations SET amount = 6 WHERE id = 1`, nil},
		{"upto amount at max", true, `UPDATE upto_authorizations SET amount = 5 WHERE id = 1`, nil},
		{"upto state", false, `UPDATE upto_authorizations SET state = 'lost' WHERE id = 1`, nil},
		{"upto exposure negative", false, `INSERT INTO upto_exposure (payer, open) VALUES ('*', -1)`, nil},
		{"upto identifier 129 chars", false, `INSERT INTO upto_identifiers (payer, id, upto_id, created_at) VALUES ('p', $1, 1, 0)`, []any{string(bytes.Repeat([]byte{'a'}, 129))}},
		{"wallet message 31 bytes", false, `INSERT INTO wallet_messages (signed_at, key, expires_at) VALUES (1, $1, 0)`, []any{key31}},
		{"wallet message twice", false, `INSERT INTO wallet_messages (signed_at, key, expires_at) VALUES (1, $1, 0), (1, $1, 0)`, []any{key32}},
		{"siwx claim twice", false, `INSERT INTO siwx_claims (issued_at, nonce, address, expires_at) VALUES (1, 'n', 'a', 0), (1, 'n', 'a', 0)`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ltx, _ := lite.Begin()
			defer ltx.Rollback()
			_, lerr := ltx.Exec(tc.stmt, tc.args...)
			ptx, err := pg.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer ptx.Rollback(ctx)
			_, perr := ptx.Exec(ctx, tc.stmt, tc.args...)
			if (lerr == nil) != tc.ok || (perr == nil) != tc.ok {
				t.Fatalf("want accepted=%v; sqlite: %v; postgres: %v", tc.ok, lerr, perr)
			}
		})
	}
}
