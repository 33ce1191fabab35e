package main

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
)

// The real payment-identifier client of @x402/extensions 2.27, attached to
// an @x402/fetch upto payment (@x402/evm's UptoEvmScheme), on the
// simulated chain: its replay is answered with the first receipt and cost,
// a new permit under the same id is a conflict, and one permit settles, for
// the metered cost (testdata/interop/paymentidupto.mjs).
func TestInterop_UptoPaymentIdentifier(t *testing.T) {
	node := needNode(t)
	if _, err := os.Stat(filepath.Join(interopDir, "node_modules", "@x402", "extensions")); err != nil {
		t.Fatalf("@x402/extensions not installed (npm ci --prefix testdata/interop): %v", err)
	}
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunChainMain(t, uptoIDConfig(t, up.URL(), c), c)
	key, addr := uptoPayer(t, c, 1_000_000)

	cmd := exec.Command(node, "paymentidupto.mjs")
	cmd.Dir = interopDir
	cmd.Env = append(os.Environ(), "PAYMETER_URL="+m.URL(), "ASSET="+c.tokenAddr.Hex(),
		"PAYER_KEY=0x"+hex.EncodeToString(crypto.FromECDSA(key)))
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("node paymentidupto.mjs: %v\n%s%s", err, out, stderr)
	}
	type npmAnswer struct {
		Status              int
		Code, Receipt, Cost string
	}
	var got struct {
		ID, SentID, Scheme      string
		First, Replay, Conflict npmAnswer
		NewPayment              bool
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if got.SentID != got.ID || len(got.ID) != 36 || got.Scheme != "upto" {
		t.Fatalf("the client sent id %q by %q, generated %q", got.SentID, got.Scheme, got.ID)
	}
	wantUptoServed(t, answer{status: got.First.Status, code: got.First.Code, receipt: got.First.Receipt, cost: got.First.Cost}, addr)
	if want := (npmAnswer{http.StatusConflict, meter.ECodePaymentReplayed, got.First.Receipt, got.First.Cost}); got.Replay != want {
		t.Fatalf("replay: %+v, want %+v", got.Replay, want)
	}
	if want := (npmAnswer{Status: http.StatusConflict, Code: meter.ECodePaymentIDConflict}); got.Conflict != want || !got.NewPayment {
		t.Fatalf("conflict: %+v (a new payment: %v), want %+v", got.Conflict, got.NewPayment, want)
	}
	waitUptoSettled(t, m)
	if paid := 1_000_000 - c.balance(t, addr); paid != int64(chatSettled) || len(up.seen()) != 1 {
		t.Fatalf("paid %d units, served %d; want %d once and 1", paid, len(up.seen()), chatSettled)
	}
	a, err := m.Ledger.FindUptoByIdentifier(t.Context(), addr.Hex(), got.ID)
	if err != nil || a == nil || a.State != meter.UptoSettled || a.Amount != chatSettled {
		t.Fatalf("the ledger's authorization under %s: %+v %v", got.ID, a, err)
	}
	mustVerifyLedger(t, m)
}
