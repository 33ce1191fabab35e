package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// interopDir holds the Node clients and their lock file; `npm ci` there
// (.ci/run does it) installs them.
const interopDir = "../../testdata/interop"

// needNode skips when Node or the clients are not installed, except in CI,
// where a missing client is a failure.
func needNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(interopDir, "node_modules", "viem"))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("interop clients not installed (npm ci --prefix testdata/interop): %v", err)
		}
		t.Skipf("interop clients not installed (npm ci --prefix testdata/interop): %v", err)
	}
	return node
}

// runNode runs an interop script of testdata/interop with node, for at
// most a minute, and returns what it printed; a failure ends the test with
// the script's output and errors.
func runNode(t *testing.T, node, script string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	cmd.Dir = interopDir
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("node %s: %v\n%s%s", script, err, out, stderr)
	}
	return out
}

// Real third-party clients (siwe to build the SIWE message, viem to sign
// it and the wallet headers) drive a running paymeter end to end: nonce →
// verify → key → metered request; and wallet headers on a request and on
// the account API, with the realm elizaOS clients use.
func TestInterop_ViemAndSIWE(t *testing.T) {
	node := needNode(t)
	up := newFixtureUpstream(t)
	cfg := testConfig(t, up.URL())
	cfg.Wallet.Realm = "Eliza Cloud"
	m := MustRunMain(t, cfg)

	out := runNode(t, node, "wallet.mjs", m.URL(), "Eliza Cloud")
	var got struct {
		SIWEAddress   string `json:"siweAddress"`
		SIWEAccount   int64  `json:"siweAccount"`
		KeyedCost     string `json:"keyedCost"`
		WalletAddress string `json:"walletAddress"`
		WalletCost    string `json:"walletCost"`
		WalletBalance string `json:"walletBalance"`
		WalletFree    string `json:"walletFree"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if got.KeyedCost != "0.0000335" || got.WalletCost != "0.0000335" || got.WalletFree != "5" || got.WalletBalance != "4.9999665" {
		t.Fatalf("client saw %+v; want both requests charged 0.0000335 and the wallet left with 4.9999665 of its 5 free credits", got)
	}
	// The ledger agrees: two wallet accounts, one grant each.
	ctx := t.Context()
	wallets, err := m.Ledger.FindAccounts(ctx, meter.AccountWallet)
	if err != nil || len(wallets) != 2 {
		t.Fatalf("wallet accounts=%d err=%v, want 2", len(wallets), err)
	}
	for _, w := range wallets {
		entries, err := m.Ledger.FindEntries(ctx, meter.EntryFilter{AccountID: w.ID})
		if err != nil {
			t.Fatal(err)
		}
		grants := 0
		for _, e := range entries {
			if e.Kind == meter.EntryGrant {
				grants++
			}
		}
		if grants != 1 || (w.Address != got.SIWEAddress && w.Address != got.WalletAddress) {
			t.Fatalf("account %+v: %d grants, want 1 for one of the two client wallets", w, grants)
		}
	}
	mustVerify(t, m)
}
