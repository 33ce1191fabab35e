package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
)

// The real payment-identifier client of @x402/extensions 2.27, attached to
// an @x402/fetch payment, gets its replay answered with the first receipt
// and cost, and a second payment under the same id refused as a conflict;
// the facilitator settles one payment (testdata/interop/paymentid.mjs).
func TestInterop_PaymentIdentifier(t *testing.T) {
	node := needNode(t)
	if _, err := os.Stat(filepath.Join(interopDir, "node_modules", "@x402", "extensions")); err != nil {
		t.Fatalf("@x402/extensions not installed (npm ci --prefix testdata/interop): %v", err)
	}
	up := newFixtureUpstream(t)
	fac := newFacilitatorStub(t)
	m := MustRunMain(t, paymentIDConfig(t, up.URL(), fac.URL))
	key, _ := crypto.GenerateKey()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "paymentid.mjs")
	cmd.Dir = interopDir
	cmd.Env = append(os.Environ(), "PAYMETER_URL="+m.URL(), "PAYER_KEY=0x"+hex.EncodeToString(crypto.FromECDSA(key)))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node paymentid.mjs: %v\n%s", err, out)
	}
	type answer struct {
		Status              int
		Code, Receipt, Cost string
	}
	var got struct {
		ID, SentID              string
		First, Replay, Conflict answer
		NewPayment              bool
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if got.SentID != got.ID || len(got.ID) != 36 {
		t.Fatalf("the client sent id %q, generated %q", got.SentID, got.ID)
	}
	if got.First.Status != http.StatusOK || got.First.Receipt == "" || got.First.Cost == "" {
		t.Fatalf("first: %+v", got.First)
	}
	if want := (answer{http.StatusConflict, meter.ECodePaymentReplayed, got.First.Receipt, got.First.Cost}); got.Replay != want {
		t.Fatalf("replay: %+v, want %+v", got.Replay, want)
	}
	if want := (answer{Status: http.StatusConflict, Code: meter.ECodePaymentIDConflict}); got.Conflict != want || !got.NewPayment {
		t.Fatalf("conflict: %+v (a new payment: %v), want %+v", got.Conflict, got.NewPayment, want)
	}
	fac.mu.Lock()
	settled := 0
	for _, n := range fac.settled {
		settled += n
	}
	fac.mu.Unlock()
	if settled != 1 || len(up.seen()) != 1 {
		t.Fatalf("settled %d, served %d; want 1 and 1", settled, len(up.seen()))
	}
	p, err := m.Ledger.FindPaymentByIdentifier(context.Background(), crypto.PubkeyToAddress(key.PublicKey).Hex(), got.ID)
	if err != nil || p == nil || p.State != meter.PaymentSettled {
		t.Fatalf("the ledger's payment under %s: %+v %v", got.ID, p, err)
	}
}
