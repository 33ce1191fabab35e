package pgtest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Each DSN is a database of its own, empty, and dropped when its test ends.
func TestDSNFreshDatabases(t *testing.T) {
	ctx := context.Background()
	var name string
	t.Run("first", func(t *testing.T) {
		a, b := DSN(t), DSN(t)
		if a == b {
			t.Fatalf("two DSN calls gave the same database %s", a)
		}
		ca, cb := connect(t, a), connect(t, b)
		var n int
		if err := ca.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("fresh database has %d tables (err %v), want 0", n, err)
		}
		if _, err := ca.Exec(ctx, `CREATE TABLE only_in_a (x BIGINT)`); err != nil {
			t.Fatal(err)
		}
		if err := cb.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_name = 'only_in_a'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("table of database a seen in b: %d (err %v)", n, err)
		}
		if err := ca.QueryRow(ctx, `SELECT current_database()`).Scan(&name); err != nil {
			t.Fatal(err)
		}
	})
	var n int
	if err := Admin(t).QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n); err != nil || n != 0 {
		t.Fatalf("database %s still exists after its test (%d, err %v)", name, n, err)
	}
}

// The server listens on loopback only, keeps fsync on, and never runs as
// root.
func TestServerSettings(t *testing.T) {
	conn := connect(t, DSN(t))
	ctx := context.Background()
	for setting, want := range map[string]string{
		"listen_addresses":        "127.0.0.1",
		"fsync":                   "on",
		"synchronous_commit":      "on",
		"full_page_writes":        "on",
		"unix_socket_directories": current.dir,
	} {
		var got string
		if err := conn.QueryRow(ctx, `SELECT current_setting($1)`, setting).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", setting, got, want)
		}
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", current.proc.Pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(st), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" && f[1] == "0" {
			t.Fatalf("postgres runs as root: %s", line)
		}
	}
}

// A connection left open does not stop the database from being dropped.
func TestDropWithOpenConnection(t *testing.T) {
	var name string
	t.Run("leaky", func(t *testing.T) {
		conn, err := pgx.Connect(context.Background(), DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		conn.QueryRow(context.Background(), `SELECT current_database()`).Scan(&name)
		// never closed
	})
	var n int
	Admin(t).QueryRow(context.Background(), `SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n)
	if n != 0 {
		t.Fatalf("database %s not dropped", name)
	}
}

// Stop removes the cluster's directory; the next DSN starts another.
func TestStopAndRestart(t *testing.T) {
	connect(t, DSN(t)).Close(context.Background())
	dir := current.dir
	if err := Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("cluster dir %s after Stop: %v", dir, err)
	}
	conn := connect(t, DSN(t))
	var one int
	if err := conn.QueryRow(context.Background(), `SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Fatalf("restarted cluster: %d, %v", one, err)
	}
}

// A test binary that panics leaves no server running (it dies with its
// parent), and the next run removes the directory it left.
func TestPanicLeavesNothingRunning(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") == "panic" {
		DSN(t)
		fmt.Printf("cluster %s %d\n", current.dir, current.proc.Pid)
		panic("test panics with a cluster running")
	}
	DSN(t) // skips here, as in the child, when PostgreSQL is missing
	cmd := exec.Command(os.Args[0], "-test.run=^TestPanicLeavesNothingRunning$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PGTEST_CHILD=panic")
	out, _ := cmd.CombinedOutput()
	var dir string
	var pid int
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "cluster" {
			dir = f[1]
			pid, _ = strconv.Atoi(f[2])
		}
	}
	if pid == 0 {
		t.Fatalf("child did not start a cluster:\n%s", out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if alive(pid) {
		t.Fatalf("postgres %d still running after its test binary panicked", pid)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the panicking child's dir should be left for the sweep: %v", err)
	}
	sweepStale()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("stale cluster dir %s not swept: %v", dir, err)
	}
}

// Missing PostgreSQL skips a test, except under CI, where it fails it.
func TestMissingPostgres(t *testing.T) {
	for _, tc := range []struct {
		err  error
		ci   string
		skip bool
	}{
		{ErrNotInstalled, "", true},
		{ErrNotInstalled, "1", false},
		{fmt.Errorf("initdb: boom"), "", false},
	} {
		if got := skippable(tc.err, tc.ci); got != tc.skip {
			t.Errorf("skippable(%v, CI=%q) = %v, want %v", tc.err, tc.ci, got, tc.skip)
		}
	}
}
