// Package pgtest gives tests a real PostgreSQL: one throwaway cluster per
// test binary, in a temporary directory, listening on a loopback port, and
// a fresh empty database for every DSN call.
//
// Use it from TestMain so that the cluster is stopped and its directory
// removed when the tests end:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// Without PostgreSQL installed a test that asks for a database is skipped,
// except when the environment variable CI is set: then it fails, so that a
// CI machine without the server cannot pass by skipping the engine.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	mu      sync.Mutex
	current *cluster // started on the first DSN call
	failed  error    // why the cluster could not start; remembered, not retried
	dbSeq   atomic.Int64
)

// Main runs the tests, then stops the cluster (if one was started) and
// removes its directory; it returns m.Run's exit code. A test binary that
// dies without reaching the end (a panic) leaves the server to the kernel:
// it is started with a parent-death signal, and the next run removes the
// directories of clusters whose server is gone.
func Main(m *testing.M) int {
	code := m.Run()
	if err := Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
	}
	return code
}

// Stop stops the cluster and removes its directory; the next DSN call
// starts a new one. Main calls it.
func Stop() error {
	mu.Lock()
	defer mu.Unlock()
	c := current
	current, failed = nil, nil
	if c == nil {
		return nil
	}
	return c.stop()
}

// DSN returns the URL of a new, empty database on the cluster, starting the
// cluster on first use; the database is dropped when tb's test ends. The
// URL names user postgres on 127.0.0.1 without a password (the cluster
// trusts loopback connections).
func DSN(tb testing.TB) string {
	tb.Helper()
	c := need(tb)
	name := fmt.Sprintf("t_%d", dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Database names cannot be bound as parameters; name is ours, t_<n>.
	if _, err := c.admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		mu.Lock()
		stopped := current != c
		mu.Unlock()
		if stopped { // Stop removed the cluster, and this database with it
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE ends connections a test left open, so that a leak shows as
		// that test's failure, not as a drop that hangs.
		if _, err := c.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return c.url(name)
}

// Admin returns a pool on the cluster's maintenance database (postgres),
// as its superuser, for tests that need to look at the server itself.
func Admin(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	return need(tb).admin
}

// need returns the running cluster, starting it on first use; it skips or
// fails tb when PostgreSQL is not installed, and fails it when the cluster
// cannot start.
func need(tb testing.TB) *cluster {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if current == nil && failed == nil {
		current, failed = start()
	}
	if failed != nil {
		if skippable(failed, os.Getenv("CI")) {
			tb.Skipf("pgtest: %v", failed)
		}
		tb.Fatalf("pgtest: %v", failed)
	}
	return current
}

// skippable reports whether a cluster that could not start skips a test
// rather than failing it: only when PostgreSQL is missing, and not in CI.
func skippable(err error, ci string) bool { return errors.Is(err, ErrNotInstalled) && ci == "" }

// ErrNotInstalled means no PostgreSQL server binaries were found.
var ErrNotInstalled = errors.New("PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin or on PATH; Debian: apt-get install postgresql)")

// ping reports whether the server at url accepts a connection and a query.
func ping(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}
