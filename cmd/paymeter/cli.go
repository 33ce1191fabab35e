package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

const helpText = `paymeter — a payment-aware metering proxy for OpenAI-compatible inference

Usage:
  paymeter demo  [--listen ADDR] [--db FILE] [--rpc ADDR] [--info FILE]
                                                      run with a demo upstream and chain, apps, keys, a funded payer
  paymeter serve [--config FILE] [--upstream URL] [--listen ADDR] [--db FILE]
  paymeter apps create --name NAME                    create an app account
  paymeter apps list
  paymeter keys create --app ID [--name N] [--scopes chat,embeddings,…] [--expires-in-days N] [--test]
  paymeter keys list [--app ID]
  paymeter keys revoke ID
  paymeter keys rotate ID
  paymeter credits grant --account ID --amount DECIMAL [--ref REF]
  paymeter credits balance --account ID
  paymeter credits history --account ID [--limit N]
  paymeter ledger verify
  paymeter migrate [--database FILE|postgres://…] [--status]
                                                      apply pending schema migrations (--status: show only)
  paymeter db copy --from FILE --to postgres://…      move a SQLite ledger to a new PostgreSQL database, exactly
  paymeter ledger reconcile [--config FILE]           check every x402 credit against its chain (rpc_url)
  paymeter ledger write-off ID --reason TEXT [--unchecked]
                                                      give up on a failed upto authorization past its deadline
                                                      (its nonce unspent on chain): its payer is refused no more
  paymeter config check [--config FILE]
  paymeter pay [-X METHOD] [-H 'Name: value']... [-d DATA|@FILE] [-N] [-i] [--max CREDITS] [--x402 1|2] [--wallet] URL
  paymeter pay … [--scheme exact|upto] [--asset ADDR]... [--siwx] URL
                                                      upto (the metered cost) when offered, else exact;
                                                      --siwx signs in with x: the wallet's balance pays
  paymeter pay topup --url BASE AMOUNT | pay signin --url BASE | pay balance --url BASE [--rpc URL --token ADDR]
                                                      a client that pays: x402 per request, wallet headers, top-up,
                                                      sign-in; key from --key-file FILE or $PAYMETER_PAYER_KEY; exit 0 2xx,
                                                      1 failure, 2 usage, 3 over --max, 4 payment or sign-in refused,
                                                      5 HTTP error, 6 402 not payable; plain http is signed for on loopback only
                                                      (else --insecure-http)
  paymeter version

Commands that read the database take --config FILE and --db FILE; without them
they use PAYMETER_DATABASE or paymeter.db in the current directory.
`

// run dispatches a command line; main only maps its error to an exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, helpText)
		return usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stderr)
	case "demo":
		return runDemo(ctx, rest, stdout, stderr)
	case "apps":
		return runApps(ctx, rest, stdout)
	case "keys":
		return runKeys(ctx, rest, stdout)
	case "credits":
		return runCredits(ctx, rest, stdout)
	case "ledger":
		return runLedger(ctx, rest, stdout)
	case "migrate":
		return runMigrate(ctx, rest, stdout)
	case "db":
		return runDB(ctx, rest, stdout)
	case "config":
		return runConfig(rest, stdout)
	case "pay":
		return runPay(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "paymeter", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, helpText)
		return nil
	}
	fmt.Fprint(stderr, helpText)
	return usagef("unknown command %q", cmd)
}

// subcommand splits "keys create …" into its verb and arguments.
func subcommand(group string, args []string, verbs ...string) (string, []string, error) {
	if len(args) == 0 {
		return "", nil, usagef("%s: want one of %s", group, strings.Join(verbs, ", "))
	}
	for _, v := range verbs {
		if args[0] == v {
			return v, args[1:], nil
		}
	}
	return "", nil, usagef("%s: unknown command %q; want one of %s", group, args[0], strings.Join(verbs, ", "))
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usagef("%s: %v", fs.Name(), err)
	}
	return nil
}

// dbFlags are the flags of every command that opens the database.
type dbFlags struct {
	config, db string
}

func (f *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "config file (YAML)")
	fs.StringVar(&f.db, "db", "", "the database: a SQLite file or a postgres:// URL")
}

// load resolves the configuration for an operator command: it needs only
// the database path, so the rest is not validated here.
func (f *dbFlags) load() (*Config, error) {
	cfg, err := LoadConfig(f.config, os.Environ())
	if err != nil {
		return nil, err
	}
	if f.db != "" {
		cfg.Database = f.db
	}
	if err := checkDatabase(cfg.Database); err != nil {
		return nil, err
	}
	return cfg, nil
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }
