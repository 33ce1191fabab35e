package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/paymeter/paymeter/internal/meter"
)

// withLedger opens the configured database for an operator command. It is
// safe while `paymeter serve` runs on the same file: SQLite's WAL and the
// ledger's in-transaction balance reads keep both consistent.
func withLedger(f *dbFlags, fn func(meter.Store) error) error {
	cfg, err := f.load()
	if err != nil {
		return err
	}
	s, err := openStore(cfg.Database, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// runLedger implements `paymeter ledger verify`, which exits non-zero on
// any invariant violation, `paymeter ledger reconcile` and `paymeter
// ledger write-off`.
func runLedger(ctx context.Context, args []string, stdout io.Writer) error {
	verb, rest, err := subcommand("ledger", args, "verify", "reconcile", "write-off")
	if err != nil {
		return err
	}
	if verb == "write-off" {
		return runWriteOff(ctx, rest, stdout, dialChain) // cmd_writeoff.go
	}
	fs := newFlags("ledger " + verb)
	var f dbFlags
	f.register(fs)
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if verb == "reconcile" {
		return runReconcile(ctx, &f, stdout, dialChain)
	}
	return withLedger(&f, func(l meter.Store) error {
		violations, err := l.Verify(ctx)
		if err != nil {
			return err
		}
		for _, v := range violations {
			fmt.Fprintln(stdout, "VIOLATION:", v)
		}
		if len(violations) > 0 {
			return fmt.Errorf("ledger verify: %d violation(s)", len(violations))
		}
		fmt.Fprintln(stdout, "ledger ok: every balance equals its journal, every hold is accounted for, nothing below zero")
		return nil
	})
}
