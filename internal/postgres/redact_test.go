package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paymeter/paymeter/internal/pgtest"
	"github.com/paymeter/paymeter/internal/postgres"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://meter:s3cret@db.internal:5433/paymeter?sslmode=verify-full", "postgres://db.internal:5433/paymeter"},
		{"postgresql://meter@db:5432/pm", "postgresql://db:5432/pm"},
		{"POSTGRES://meter:s3cret@db/pm", "postgres://db/pm"},
		{"postgres://db:5432/pm?user=meter&password=s3cret", "postgres://db:5432/pm"},
		{"postgres:///pm?host=/run/postgresql&port=5433&password=s3cret", "postgres://unix(/run/postgresql):5433/pm"},
		{"postgres://meter:s3cret@h1:5432,h2:5432/pm", "postgres://h1:5432,h2:5432/pm"},
		{"postgres://meter:s3cret@[::1", "postgres://(unparsable URL)"},
		{"host=db password=s3cret", "postgres://(unparsable URL)"},
	} {
		if got := postgres.Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestIsDSN(t *testing.T) {
	for in, want := range map[string]bool{
		"postgres://h/db": true, "postgresql://h/db": true, "PostgreSQL://h/db": true,
		"paymeter.db": false, "/var/lib/paymeter/postgres.db": false, "postgres.db": false, "": false,
	} {
		if got := postgres.IsDSN(in); got != want {
			t.Errorf("IsDSN(%q) = %v, want %v", in, got, want)
		}
	}
}

// No error of Connect or Open contains the password: a malformed URL, a
// server that is not there, a database that does not exist.
func TestErrorsHideThePassword(t *testing.T) {
	const pw = "s3cret-Pa55"
	good := pgtest.DSN(t) // postgres://postgres@127.0.0.1:PORT/t_N?sslmode=disable
	hostPort := strings.SplitN(strings.TrimPrefix(good, "postgres://postgres@"), "/", 2)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, dsn := range []string{
		"postgres://meter:" + pw + "@127.0.0.1:notaport/pm",
		"postgres://meter:" + pw + "@127.0.0.1:1/pm?connect_timeout=2",
		"postgres://127.0.0.1:1/pm?connect_timeout=2&password=" + pw,
		"postgres://postgres:" + pw + "@" + hostPort + "/no_such_db?sslmode=disable",
		"postgres://" + pw + ":" + pw + "@" + hostPort + "/" + pw + "?sslmode=disable",
	} {
		_, err := postgres.Open(ctx, dsn)
		if err == nil {
			t.Fatalf("open %s: no error", postgres.Redact(dsn))
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("error shows the password: %v", err)
		}
		// (Unless the password is also the user and database names, when
		// the database's name is scrubbed too.)
		if !strings.Contains(postgres.Redact(dsn), pw) && !strings.HasPrefix(err.Error(), "database "+postgres.Redact(dsn)+": ") {
			t.Errorf("error %q does not name the database %s", err, postgres.Redact(dsn))
		}
	}
	// The driver's error is still there for errors.As.
	_, err := postgres.Open(ctx, "postgres://postgres:"+pw+"@"+hostPort+"/no_such_db?sslmode=disable")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "3D000" {
		t.Fatalf("missing database: %v, want SQLSTATE 3D000 through errors.As", err)
	}
}
