package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/pgtest"
	"github.com/paymeter/paymeter/internal/postgres"
	"github.com/paymeter/paymeter/internal/sqlite"
)

// The embedded migrations, as `paymeter migrate` names them: both engines
// have the same list (TestSchemaParity).
var (
	lastMigration = sqlite.Migrations()[len(sqlite.Migrations())-1]
	allMigrations = fmt.Sprintf("%d (0001_init … %s)", len(sqlite.Migrations()), lastMigration.Name)
)

// `paymeter migrate` on a SQLite file: --status on a file not yet there
// creates nothing, the first run applies them all, the second none.
func TestMigrateSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "paymeter.db")
	want := "database: sqlite " + path + "\nschema: none\npending: " + allMigrations + "\n"
	if got := mustCLI(t, "migrate", "--status", "--database", path); got != want {
		t.Fatalf("status of a new file:\n%s\nwant\n%s", got, want)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("--status created the database: %v", err)
	}
	want = "database: sqlite " + path + "\nschema: " + lastMigration.String() + "\napplied: " + allMigrations + "\n"
	if got := mustCLI(t, "migrate", "--database", path); got != want {
		t.Fatalf("first migrate:\n%s\nwant\n%s", got, want)
	}
	want = "database: sqlite " + path + "\nschema: " + lastMigration.String() + "\napplied: none\n"
	if got := mustCLI(t, "migrate", "--db", path); got != want {
		t.Fatalf("second migrate:\n%s\nwant\n%s", got, want)
	}
	want = "database: sqlite " + path + "\nschema: " + lastMigration.String() + "\npending: none\n"
	if got := mustCLI(t, "migrate", "--status", "--db", path); got != want {
		t.Fatalf("status:\n%s\nwant\n%s", got, want)
	}
}

// withPassword puts user and password into a pgtest URL; the test cluster
// trusts loopback, so the password is sent but not needed.
func withPassword(dsn, userinfo string) string {
	return strings.Replace(dsn, "postgres://postgres@", "postgres://"+userinfo+"@", 1)
}

// `paymeter migrate` on PostgreSQL, the URL from --database or from
// PAYMETER_DATABASE, with a password in it that no output shows.
func TestMigratePostgres(t *testing.T) {
	const pw = "hunter2-Secret"
	dsn := pgtest.DSN(t)
	secret := withPassword(dsn, "postgres:"+pw)
	shown := postgres.Redact(dsn) // postgres://127.0.0.1:PORT/t_N
	if !strings.HasPrefix(shown, "postgres://127.0.0.1:") || strings.Contains(shown, "@") {
		t.Fatalf("redacted URL %q", shown)
	}
	want := "database: " + shown + "\nschema: none\npending: " + allMigrations + "\n"
	if got := mustCLI(t, "migrate", "--status", "--database", secret); got != want {
		t.Fatalf("status of a new database:\n%s\nwant\n%s", got, want)
	}
	want = "database: " + shown + "\nschema: " + lastMigration.String() + "\napplied: " + allMigrations + "\n"
	if got := mustCLI(t, "migrate", "--database", secret); got != want {
		t.Fatalf("first migrate:\n%s\nwant\n%s", got, want)
	}
	t.Setenv("PAYMETER_DATABASE", dsn+"&password="+pw)
	want = "database: " + shown + "\nschema: " + lastMigration.String() + "\napplied: none\n"
	if got := mustCLI(t, "migrate"); got != want {
		t.Fatalf("second migrate, from PAYMETER_DATABASE:\n%s\nwant\n%s", got, want)
	}
	want = "database: " + shown + "\nschema: " + lastMigration.String() + "\npending: none\n"
	if got := mustCLI(t, "migrate", "--status"); got != want {
		t.Fatalf("status:\n%s\nwant\n%s", got, want)
	}
}

// A database migrated by a later paymeter: migrate refuses it, --status
// shows it and fails; the password appears in neither.
func TestMigratePostgresNewerSchema(t *testing.T) {
	const pw = "hunter2-Secret"
	dsn := pgtest.DSN(t)
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Pool().Exec(context.Background(), `INSERT INTO schema_migrations VALUES (9999, '9999_future', 0)`); err != nil {
		t.Fatal(err)
	}
	secret := withPassword(dsn, "postgres:"+pw)
	out, err := cli(t, "migrate", "--database", secret)
	if !errors.Is(err, postgres.ErrNewerSchema) || strings.Contains(out+err.Error(), pw) {
		t.Fatalf("migrate of a newer schema: %v\n%s", err, out)
	}
	out, err = cli(t, "migrate", "--status", "--database", secret)
	want := "database: " + postgres.Redact(dsn) + "\nschema: migration 9999 (9999_future)\npending: none\n"
	if err == nil || out != want || strings.Contains(err.Error(), pw) {
		t.Fatalf("status of a newer schema: %v\n%s\nwant\n%s", err, out, want)
	}
	if !strings.Contains(err.Error(), "the schema is newer than this paymeter, which knows up to "+lastMigration.String()) {
		t.Fatalf("status error: %v", err)
	}
}

// No command shows a PostgreSQL password: migrate against a server that is
// not there, serve and the ledger commands refusing PostgreSQL.
func TestDatabasePasswordNeverShown(t *testing.T) {
	const pw = "hunter2-Secret"
	for _, dsn := range []string{
		"postgres://meter:" + pw + "@127.0.0.1:1/pm?connect_timeout=2",
		"postgresql://127.0.0.1:1/pm?connect_timeout=2&password=" + pw,
		"postgres://meter:" + pw + "@127.0.0.1:bad/pm",
	} {
		for _, args := range [][]string{
			{"migrate", "--database", dsn},
			{"migrate", "--status", "--database", dsn},
			{"keys", "list", "--db", dsn},
			{"ledger", "verify", "--db", dsn},
			{"serve", "--db", dsn, "--upstream", "http://127.0.0.1:1/v1", "--listen", "127.0.0.1:0"},
			{"config", "check"},
		} {
			t.Setenv("PAYMETER_DATABASE", dsn)
			out, err := cli(t, args...)
			if err == nil {
				t.Fatalf("%s on %s: no error\n%s", args[0], postgres.Redact(dsn), out)
			}
			if strings.Contains(out+err.Error(), pw) {
				t.Errorf("%s shows the password: %v\n%s", strings.Join(args[:2], " "), err, out)
			}
		}
	}
}

// serve and the operator commands run on PostgreSQL: an app, its key and
// its credit made by the commands, a request paid by the key through
// serve, the balance and ledger verify read by the commands; nothing is
// ever a file named after the URL, and its password is never shown.
func TestServeOnPostgres(t *testing.T) {
	const pw = "hunter2-Secret"
	dsn := withPassword(pgtest.DSN(t), "postgres:"+pw)
	for _, args := range [][]string{
		{"apps", "create", "--name", "acme"},
		{"credits", "grant", "--account", "1", "--amount", "2.5", "--ref", "invoice-7"},
	} {
		if out := mustCLI(t, append(args, "--db", dsn)...); strings.Contains(out, pw) {
			t.Fatalf("%s showed the password: %s", args[0], out)
		}
	}
	key := keyPattern.FindString(mustCLI(t, "keys", "create", "--db", dsn, "--app", "1", "--name", "ci"))
	if key == "" {
		t.Fatal("keys create printed no key")
	}
	up := newFixtureUpstream(t)
	cfg := testConfig(t, up.URL())
	cfg.Database = dsn
	m := MustRunMain(t, cfg)
	resp := post(t, m, "/v1/chat/completions", key, helloChat)
	body := readAll(t, resp)
	cost, err := meter.ParseAmount(resp.Header.Get("X-Paymeter-Cost"))
	if resp.StatusCode != http.StatusOK || err != nil || cost <= 0 {
		t.Fatalf("a request on PostgreSQL: %d cost %q %v\n%s", resp.StatusCode, resp.Header.Get("X-Paymeter-Cost"), err, body)
	}
	ready, err := http.Get(m.URL() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	if b := readAll(t, ready); ready.StatusCode != http.StatusOK || !strings.Contains(string(b), `"database":"ok"`) {
		t.Fatalf("/readyz on PostgreSQL: %d %s", ready.StatusCode, b)
	}
	want := fmt.Sprintf("balance %s, held 0, available %s", amt(t, "2.5")-cost, amt(t, "2.5")-cost)
	if out := mustCLI(t, "credits", "balance", "--db", dsn, "--account", "1"); !strings.Contains(out, want) {
		t.Fatalf("credits balance: %q, want %q", out, want)
	}
	if out := mustCLI(t, "ledger", "verify", "--db", dsn); !strings.Contains(out, "ledger ok") {
		t.Fatalf("ledger verify: %q", out)
	}
	// A SQLite file at the URL would be in ./postgres:/…
	if _, err := os.Stat("postgres:"); !os.IsNotExist(err) {
		t.Fatalf("a file was created for the PostgreSQL URL: %v", err)
	}
	// A libpq key=value string is not taken for a file name either.
	_, err = cli(t, "migrate", "--database", "host=db password=pw dbname=pm")
	if err == nil || !strings.Contains(err.Error(), "key=value connection string") || strings.Contains(err.Error(), "pw") {
		t.Fatalf("key=value DSN: %v", err)
	}
}
