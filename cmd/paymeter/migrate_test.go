package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

// Until the PostgreSQL ledger exists, serve (and every command on the
// SQLite ledger) refuses a PostgreSQL database at startup, and never falls
// back to a SQLite file of that name.
func TestServeRefusesPostgres(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	dsn := "postgres://meter:pw@127.0.0.1:5432/pm"
	cfg := testConfig(t, "http://127.0.0.1:1/v1")
	cfg.Database = dsn
	err := NewMain(cfg, discardLogger()).Run(context.Background())
	want := "database postgres://127.0.0.1:5432/pm: the PostgreSQL ledger is not available yet in this paymeter"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("serve on PostgreSQL: %v, want %q", err, want)
	}
	for _, args := range [][]string{{"keys", "list"}, {"credits", "balance", "--account", "1"}, {"apps", "list"}, {"ledger", "verify"}} {
		_, err := cli(t, append(args, "--db", dsn)...)
		if !errors.Is(err, errNoPostgresLedger) {
			t.Errorf("%s on PostgreSQL: %v, want the refusal", strings.Join(args, " "), err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("a file was created for the PostgreSQL URL: %v", ents[0].Name())
	}
	// A libpq key=value string is not taken for a file name either.
	_, err = cli(t, "migrate", "--database", "host=db password=pw dbname=pm")
	if err == nil || !strings.Contains(err.Error(), "key=value connection string") || strings.Contains(err.Error(), "pw") {
		t.Fatalf("key=value DSN: %v", err)
	}
}
