package postgres_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/pgtest"
	"github.com/paymeter/paymeter/internal/postgres"
	"github.com/paymeter/paymeter/internal/sqlite"
)

// column is what both schemas must agree on about a column.
type column struct {
	Name     string
	Type     string // PostgreSQL's name: bigint, text, bytea
	NotNull  bool
	Default  string // normalised; identities have none
	Identity bool   // an integer id the database assigns
}

// table is a table's columns in order, its primary key and its
// single-table constraints.
type table struct {
	Columns []column
	Key     []string
	Unique  []string // "a,b" per UNIQUE, sorted
	Refs    []string // "col->table.col", sorted
}

// sqliteSchema migrates a fresh SQLite file and reads its tables.
func sqliteSchema(t *testing.T) (map[string]table, map[string]bool) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parity.db")
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	conn, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	names := strings.Fields(queryJoin(t, conn, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`))
	out := map[string]table{}
	for _, name := range names {
		var tb table
		rows, err := conn.Query(`SELECT name, type, "notnull", COALESCE(dflt_value, ''), pk FROM pragma_table_info(?) ORDER BY cid`, name)
		if err != nil {
			t.Fatal(err)
		}
		keys := map[int]string{}
		for rows.Next() {
			var c column
			var typ string
			var pk int
			rows.Scan(&c.Name, &typ, &c.NotNull, &c.Default, &pk)
			c.Type = map[string]string{"INTEGER": "bigint", "TEXT": "text", "BLOB": "bytea"}[typ]
			if pk > 0 {
				keys[pk] = c.Name
				c.NotNull = true // SQLite's rowid keys and WITHOUT ROWID keys are never NULL
			}
			if pk == 1 && typ == "INTEGER" {
				c.Identity = true // decided below, once the whole key is known
			}
			tb.Columns = append(tb.Columns, c)
		}
		rows.Close()
		for i := 1; i <= len(keys); i++ {
			tb.Key = append(tb.Key, keys[i])
		}
		// An INTEGER PRIMARY KEY alone is SQLite's rowid, assigned by the
		// database unless given, as PostgreSQL's identity columns are;
		// siwx_key's one row has the fixed id 1, and a migration's version
		// is always given.
		def := strings.ToLower(tableSQL(t, conn, name))
		rowid := len(tb.Key) == 1 && name != "schema_migrations" && !strings.Contains(def, "without rowid") && !strings.Contains(def, "check (id = 1)")
		for i := range tb.Columns {
			tb.Columns[i].Identity = tb.Columns[i].Identity && rowid
		}
		tb.Unique = strings.Fields(queryJoin(t, conn, `SELECT (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(il.name) ORDER BY seqno))
			FROM pragma_index_list(?) il WHERE il.origin = 'u' ORDER BY 1`, name))
		tb.Refs = strings.Fields(queryJoin(t, conn, `SELECT "from" || '->' || "table" || '.' || "to" FROM pragma_foreign_key_list(?) ORDER BY 1`, name))
		out[name] = normal(tb)
	}
	indexes := map[string]bool{} // explicit index name → partial
	rows, err := conn.Query(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, def string
		rows.Scan(&name, &def)
		indexes[name] = strings.Contains(strings.ToUpper(def), " WHERE ")
	}
	return out, indexes
}

// normal makes empty lists nil, so that the two readers compare equal.
func normal(tb table) table {
	for _, l := range []*[]string{&tb.Key, &tb.Unique, &tb.Refs} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	return tb
}

func tableSQL(t *testing.T, conn *sql.DB, name string) string {
	var s string
	if err := conn.QueryRow(`SELECT sql FROM sqlite_master WHERE name = ?`, name).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// queryJoin returns a one-column query's values separated by spaces.
func queryJoin(t *testing.T, conn *sql.DB, q string, args ...any) string {
	t.Helper()
	rows, err := conn.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		rows.Scan(&s)
		out = append(out, s.String)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// Every table of the SQLite schema exists in PostgreSQL's with the same
// columns in the same order, types mapped (INTEGER → bigint, so every
// amount, balance and held is bigint; BLOB → bytea), the same NOT NULLs,
// defaults, primary keys, UNIQUEs, references, and named indexes, partial
// where SQLite's are.
func TestSchemaParity(t *testing.T) {
	want, wantIdx := sqliteSchema(t)
	db := mustOpen(t, pgtest.DSN(t))
	got, gotIdx := postgresSchema(t, db)
	var names []string
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) != 20 {
		t.Fatalf("SQLite schema has %d tables, want 20: %v", len(names), names)
	}
	for _, n := range names {
		if !reflect.DeepEqual(normal(got[n]), want[n]) {
			t.Errorf("table %s:\n postgres %+v\n sqlite   %+v", n, got[n], want[n])
		}
	}
	if len(got) != len(want) {
		t.Errorf("PostgreSQL has %d tables, SQLite %d", len(got), len(want))
	}
	if !reflect.DeepEqual(gotIdx, wantIdx) {
		t.Errorf("indexes (name → partial):\n postgres %v\n sqlite   %v", gotIdx, wantIdx)
	}
	for _, money := range []string{"accounts.balance", "accounts.held", "accounts.free_granted", "entries.amount",
		"holds.amount", "payments.amount", "sessions.spend_cap", "free_grants.amount", "upto_authorizations.max",
		"upto_authorizations.cost", "upto_authorizations.amount", "upto_exposure.open"} {
		tn, cn, _ := strings.Cut(money, ".")
		found := false
		for _, c := range got[tn].Columns {
			if c.Name == cn {
				found = true
				if c.Type != "bigint" {
					t.Errorf("%s is %s, want bigint", money, c.Type)
				}
			}
		}
		if !found {
			t.Errorf("%s missing", money)
		}
	}
}

func postgresSchema(t *testing.T, db *postgres.DB) (map[string]table, map[string]bool) {
	t.Helper()
	ctx := context.Background()
	p := db.Pool()
	out := map[string]table{}
	rows, err := p.Query(ctx, `SELECT table_name, column_name, data_type, is_nullable = 'NO', COALESCE(column_default, ''), is_identity = 'YES'
		FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var tn string
		var c column
		if err := rows.Scan(&tn, &c.Name, &c.Type, &c.NotNull, &c.Default, &c.Identity); err != nil {
			t.Fatal(err)
		}
		c.Default = strings.TrimSuffix(c.Default, "::text")
		tb := out[tn]
		tb.Columns = append(tb.Columns, c)
		out[tn] = tb
	}
	rows.Close()
	cons, err := p.Query(ctx, `SELECT c.conrelid::regclass::text, c.contype::text,
			(SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
				JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n),
			COALESCE(c.confrelid::regclass::text, ''),
			COALESCE((SELECT string_agg(a.attname, ',') FROM unnest(c.confkey) k(n)
				JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n), '')
		FROM pg_constraint c JOIN pg_namespace ns ON ns.oid = c.connamespace
		WHERE ns.nspname = current_schema() AND c.contype IN ('p', 'u', 'f')`)
	if err != nil {
		t.Fatal(err)
	}
	for cons.Next() {
		var tn, typ, cols, ref, refCols string
		if err := cons.Scan(&tn, &typ, &cols, &ref, &refCols); err != nil {
			t.Fatal(err)
		}
		tb := out[tn]
		switch typ {
		case "p":
			tb.Key = strings.Split(cols, ",")
		case "u":
			tb.Unique = append(tb.Unique, cols)
			sort.Strings(tb.Unique)
		case "f":
			tb.Refs = append(tb.Refs, cols+"->"+ref+"."+refCols)
			sort.Strings(tb.Refs)
		}
		out[tn] = tb
	}
	cons.Close()
	idx := map[string]bool{}
	irows, err := p.Query(ctx, `SELECT i.indexname, i.indexdef FROM pg_indexes i
		WHERE i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`)
	if err != nil {
		t.Fatal(err)
	}
	defer irows.Close()
	for irows.Next() {
		var name, def string
		irows.Scan(&name, &def)
		idx[name] = strings.Contains(def, " WHERE ")
	}
	return out, idx
}
