package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/chain"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// `paymeter ledger write-off` gives up on a failed upto authorization that
// can no longer settle, after reading its permit's nonce on chain: its
// payer is then served again. It refuses one that can still settle, one
// whose nonce is spent on chain, one of a network it cannot read without
// --unchecked, and a missing reason.
func TestUpto_WriteOff(t *testing.T) {
	c := newSimChain(t)
	cfg := uptoConfig(t, newFixtureUpstream(t).URL(), c, "1", "100")
	m := mustRunPausedUpto(t, cfg, c)
	ctx := context.Background()
	key, _ := uptoPayer(t, c, 1_000_000)
	// One served and settled: its nonce is spent on chain.
	if resp := payUpto(t, m, key); resp.StatusCode != http.StatusOK {
		t.Fatalf("payment: %d %s", resp.StatusCode, readAll(t, resp))
	}
	if n, err := m.Upto.SettleDue(ctx); err != nil || n != 1 {
		t.Fatalf("settled %d (%v), want 1", n, err)
	}
	// One failed, its deadline an hour ago: it can never settle.
	gone := failedUptoOf(t, m, key, time.Now().Add(-time.Hour))
	if code := uptoRefusal(t, m, key); code != meter.ECodeUptoSettlementFailed {
		t.Fatalf("the payer with a failed settlement: %s, want %s", code, meter.ECodeUptoSettlementFailed)
	}

	withRPC := writeOffConfig(t, cfg.Database, c, `, rpc_url: "simulated://"`)
	noRPC := writeOffConfig(t, cfg.Database, c, "")
	writeOff := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := runWriteOff(ctx, args, &out, uptoDial(c))
		return out.String(), err
	}
	id := fmt.Sprint(gone.ID)
	for name, args := range map[string][]string{
		"no reason":                      {id, "--config", withRPC},
		"a reason of control characters": {id, "--reason", "a\x1bb", "--config", withRPC},
		"no id":                          {"--reason", "x", "--config", withRPC},
		"two ids":                        {id, "--reason", "x", "--config", withRPC, "7"},
	} {
		if _, err := writeOff(args...); !isUsage(err) {
			t.Errorf("%s: %v, want a usage error", name, err)
		}
	}
	if _, err := writeOff(id, "--reason", "revoked", "--config", noRPC); err == nil || !strings.Contains(err.Error(), "--unchecked") {
		t.Fatalf("without an rpc_url: %v, want a refusal naming --unchecked", err)
	}
	out, err := writeOff(id, "--reason", "payer revoked its allowance", "--config", withRPC)
	if err != nil || !strings.HasPrefix(out, fmt.Sprintf("written off: upto %d (", gone.ID)) {
		t.Fatalf("write-off: %v\n%s", err, out)
	}
	if a, err := m.Ledger.FindUpto(ctx, gone.ID); err != nil || a.State != meter.UptoReleased || a.Reason != "written off: payer revoked its allowance" {
		t.Fatalf("written off: %+v, %v", a, err)
	}
	if resp := payUpto(t, m, key); resp.StatusCode != http.StatusOK {
		t.Fatalf("the payer after the write-off: %d %s", resp.StatusCode, readAll(t, resp))
	}
	if _, err := writeOff(id, "--reason", "again", "--config", withRPC); meter.ErrorCode(err) != meter.ECodeConflict {
		t.Fatalf("a second write-off: %v, want %s", err, meter.ECodeConflict)
	}

	// Failed but not yet past its deadline: it can still settle.
	soonKey, _ := uptoPayer(t, c, 1_000_000)
	soon := failedUptoOf(t, m, soonKey, time.Now().Add(time.Minute))
	if _, err := writeOff(fmt.Sprint(soon.ID), "--reason", "x", "--config", withRPC, "--unchecked"); err == nil || !strings.Contains(err.Error(), "can still settle") {
		t.Fatalf("before its deadline: %v, want can still settle", err)
	}
	// Failed on record, but paid on chain (the settler lost the answer):
	// settled and booked, not written off, before its deadline too.
	paidKey, _ := uptoPayer(t, c, 1_000_000)
	paid := failedUptoOf(t, m, paidKey, time.Now().Add(10*time.Minute))
	pp, err := x402.DecodeUptoJSON(paid.Payload)
	if err != nil {
		t.Fatal(err)
	}
	relayer := &chain.Relayer{Backend: c.client, Key: c.relayerKey, PollInterval: 10 * time.Millisecond}
	res, err := relayer.SettleUpto(ctx, &x402.UptoSettlement{Payment: pp, Network: c.network(), Amount: chatSettled})
	if err != nil || res.Outcome != x402.Settled {
		t.Fatalf("settled on chain behind the ledger's back: %+v, %v", res, err)
	}
	out, err = writeOff(fmt.Sprint(paid.ID), "--reason", "x", "--config", withRPC)
	if err != nil || !strings.HasPrefix(out, fmt.Sprintf("not written off: upto %d settled on chain by %s", paid.ID, res.TxHash)) {
		t.Fatalf("write-off of one paid on chain: %v\n%s", err, out)
	}
	if a, err := m.Ledger.FindUpto(ctx, paid.ID); err != nil || a.State != meter.UptoSettled || a.TxHash != res.TxHash {
		t.Fatalf("the paid one: %+v, %v; want settled by %s", a, err, res.TxHash)
	}
	if resp := payUpto(t, m, paidKey); resp.StatusCode != http.StatusOK {
		t.Fatalf("its payer after: %d %s", resp.StatusCode, readAll(t, resp))
	}

	// Failed on record, its nonce spent on chain: reconcile, not write off.
	spentKey, _ := uptoPayer(t, c, 1_000_000)
	spent := failedUptoOf(t, m, spentKey, time.Now().Add(-time.Hour))
	p, err := x402.DecodeUptoJSON(spent.Payload)
	if err != nil {
		t.Fatal(err)
	}
	spendPermit2Nonce(t, c, spentKey, p.Permit.Nonce)
	if _, err := writeOff(fmt.Sprint(spent.ID), "--reason", "x", "--config", withRPC); err == nil || !strings.Contains(err.Error(), "spent on chain") {
		t.Fatalf("a nonce spent by nothing the node shows: %v, want a refusal", err)
	}
	// The operator who knows it did not pay says so; the flag is on record.
	if out, err := writeOff("--config", withRPC, fmt.Sprint(spent.ID), "--unchecked", "--reason", "payer spent it elsewhere"); err != nil ||
		!strings.HasPrefix(out, fmt.Sprintf("written off: upto %d", spent.ID)) {
		t.Fatalf("--unchecked write-off of a spent nonce: %v\n%s", err, out)
	}
	if a, err := m.Ledger.FindUpto(ctx, spent.ID); err != nil ||
		a.Reason != "written off: payer spent it elsewhere (unchecked: nonce spent on chain, no transfer to payTo found)" {
		t.Fatalf("its reason: %+v, %v", a, err)
	}
	mustVerify(t, m)
}

// failedUptoOf books, straight in the ledger, an authorization of key's
// permit with the given deadline, captured and then failed, as a settler
// refused by the chain would leave it.
func failedUptoOf(t *testing.T, m *Main, key *ecdsa.PrivateKey, deadline time.Time) *meter.UptoAuthorization {
	t.Helper()
	ctx := context.Background()
	ch := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	req := uptoOffered(t, ch)
	permit := uptoPermit(t, key, req, func(a *x402.Permit2Authorization) { a.Deadline = big.NewInt(deadline.Unix()) })
	p, err := x402.DecodeUpto(signUpto(t, key, ch, req, permit))
	if err != nil {
		t.Fatal(err)
	}
	a := &meter.UptoAuthorization{Key: p.Key(), Network: "base-sepolia", Token: p.Permit.Token.Hex(), Payer: p.Permit.From.Hex(),
		Max: meter.USDC(p.Permit.Amount.Int64()), Deadline: deadline, Payload: p.JSON, Requirement: []byte(`{}`)}
	lim := meter.UptoLimits{PerPayer: 1e9, Total: 1e9, Balance: 1e9, Allowance: 1e9}
	for _, step := range []func() error{
		func() error { return m.Ledger.ClaimUpto(ctx, a, lim) },
		func() error { return m.Ledger.CaptureUpto(ctx, a.ID, meter.Charge{Cost: chatCost}, chatSettled) },
		func() error { return m.Ledger.MarkUpto(ctx, a.ID, meter.UptoFailed, "", "allowance revoked") },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// uptoRefusal is the code of the answer to one more upto payment of key's.
func uptoRefusal(t *testing.T, m *Main, key *ecdsa.PrivateKey) string {
	t.Helper()
	resp := payUpto(t, m, key)
	body := readAll(t, resp)
	if resp.StatusCode == http.StatusOK {
		return ""
	}
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("%d %s: %v", resp.StatusCode, body, err)
	}
	return e.Error.Code
}

// writeOffConfig is a config file naming the ledger at db and c's network,
// with extra in its network entry.
func writeOffConfig(t *testing.T, db string, c *simChain, extra string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "paymeter.yaml")
	yaml := fmt.Sprintf("database: %s\nx402:\n  networks:\n    - {name: base-sepolia, asset: %q, token_name: USDC, token_version: \"2\", pay_to: %q, settlement: chain%s}\n",
		db, c.tokenAddr.Hex(), c.payTo.Hex(), extra)
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func isUsage(err error) bool {
	_, ok := err.(usageError)
	return ok
}
