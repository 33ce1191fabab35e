package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/demo"
	"github.com/paymeter/paymeter/internal/meter"
)

// runDemo starts paymeter in front of the built-in demo upstream and on a
// chain of its own, on a fresh database with one funded app and one nearly
// broke app, and prints a ready-to-paste line for each way to pay.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo")
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	dbPath := fs.String("db", "", "SQLite file (default: a fresh file in a new temporary directory)")
	rpc := fs.String("rpc", "127.0.0.1:0", "loopback address of the demo chain's JSON-RPC (port 0: any free port)")
	infoPath := fs.String("info", "", "write what the demo prints to this file, as JSON (it holds the demo payer's key)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "paymeter-demo-")
	if err != nil {
		return err
	}
	if *dbPath == "" {
		*dbPath = filepath.Join(dir, "paymeter.db")
	}

	up, err := startDemoUpstream()
	if err != nil {
		return err
	}
	defer up.Close()
	chain, err := startDemoChain(ctx, *rpc)
	if err != nil {
		return err
	}
	defer chain.Close()

	cfg, err := LoadConfig("", os.Environ())
	if err != nil {
		return err
	}
	cfg.Listen, cfg.Database = *listen, *dbPath
	cfg.Upstream.URL, cfg.Upstream.APIKey = up.url, up.apiKey
	addDemoAnthropic(cfg, up)
	chain.configure(cfg)
	m := NewMain(cfg, newLogger(stderr, cfg.Log))
	if err := m.Run(ctx); err != nil {
		return err
	}
	defer m.Close()

	rich, err := demoApp(ctx, m, "demo", "10")
	if err != nil {
		return err
	}
	broke, err := demoApp(ctx, m, "demo-broke", "0.00001")
	if err != nil {
		return err
	}
	keyFile, configFile, err := chain.writeFiles(dir, cfg.Database)
	if err != nil {
		return err
	}
	info := newDemoInfo(m, cfg, chain, rich, broke, keyFile, configFile)
	if *infoPath != "" {
		if err := info.write(*infoPath); err != nil {
			return err
		}
	}
	printDemo(stdout, info)
	<-ctx.Done()
	return nil
}

// demoUpstream is the built-in upstream, listening on loopback.
type demoUpstream struct {
	url, apiKey string
	srv         *http.Server
}

func startDemoUpstream() (*demoUpstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	// The upstream demands its own key, which paymeter injects: the demo
	// shows that clients never need (or see) it.
	d := &demoUpstream{url: "http://" + ln.Addr().String() + "/v1", apiKey: "demo-upstream-secret"}
	d.srv = &http.Server{Handler: &demo.Server{APIKey: d.apiKey}}
	go func() {
		if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "demo upstream:", err)
		}
	}()
	return d, nil
}

func (d *demoUpstream) Close() error { return d.srv.Close() }

// demoApp creates an app with credits and a key, and returns the key.
func demoApp(ctx context.Context, m *Main, name, credits string) (string, error) {
	a := &meter.Account{Kind: meter.AccountApp, Name: name}
	if err := m.Ledger.CreateAccount(ctx, a); err != nil {
		return "", err
	}
	amt, err := meter.ParseAmount(credits)
	if err != nil {
		return "", err
	}
	if _, err := m.Ledger.Credit(ctx, a.ID, meter.EntryGrant, amt, "demo-grant-"+name); err != nil {
		return "", err
	}
	return auth.IssueKey(ctx, m.Keys, &meter.Key{AccountID: a.ID, Name: "demo", Scopes: meter.DefaultKeyScopes}, true)
}

// printDemo prints the demo's ready-to-paste lines: one per way to pay,
// then how to look at the ledger and the chain.
func printDemo(w io.Writer, i *demoInfo) {
	fmt.Fprintf(w, `
paymeter demo is running at %[1]s
  upstream: built-in demo (models %[5]s)
  database: %[2]s
  chain:    a local EVM at %[6]s (chain id %[7]d), test USDC at %[8]s
  payer:    %[9]s holds 100 test USDC; its key, a throwaway of this chain, is in %[10]s
  app "demo" has 10 credits; its key: %[3]s

A chat completion (the response carries X-Paymeter-Cost):
  curl -si %[1]s/v1/chat/completions -H "Authorization: Bearer %[3]s" -H "Content-Type: application/json" \
    -d '{"model":"demo-small","messages":[{"role":"user","content":"Say hello."}]}'

The same, streamed (the cost arrives as a trailer once the stream ends):
  curl -sN --raw %[1]s/v1/chat/completions -H "Authorization: Bearer %[3]s" -H "Content-Type: application/json" \
    -d '{"model":"demo-small","stream":true,"messages":[{"role":"user","content":"Tell me a story."}]}'

A session token for a browser, minted from the key (15 minutes, at most 0.05 credits), then used:
  TOKEN=$(curl -s -X POST %[1]s/api/v1/auth/session-token -H "Authorization: Bearer %[3]s" -H "Content-Type: application/json" \
    -d '{"spendCap":"0.05"}' | sed 's/.*"sessionToken":"\([^"]*\)".*/\1/')
  curl -si %[1]s/v1/chat/completions -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
    -d '{"model":"demo-small","messages":[{"role":"user","content":"Say hello."}]}'

%[4]s
An app that has run out of credit (402 insufficient_credits, offering x402 instead):
  curl -si %[1]s/v1/chat/completions -H "X-API-Key: %[11]s" -H "Content-Type: application/json" \
    -d '{"model":"demo-large","messages":[{"role":"user","content":"Hello?"}]}'

No credentials at all: 402 payment_required, with the x402 v2 offer in PAYMENT-REQUIRED and the v1 one in the body:
  curl -si %[1]s/v1/chat/completions -H "Content-Type: application/json" \
    -d '{"model":"demo-small","messages":[{"role":"user","content":"Say hello."}]}'
`, i.BaseURL, i.Database, i.APIKey, demoAPILines(i.BaseURL, i.APIKey), strings.Join(i.Models, ", "),
		i.Chain.RPCURL, i.Chain.ChainID, i.Token.Address, i.Payer.Address, i.Payer.KeyFile, i.BrokeAPIKey)
	fmt.Fprint(w, demoPayLines(i))
	fmt.Fprint(w, "\nPress Ctrl-C to stop.\n")
}
