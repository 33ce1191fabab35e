package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// An x402 request payment is claimed durably before the facilitator is
// asked to settle it (the facilitator here looks), then the request is
// served at once: its settlement is recorded in the commit that books its
// cost (payment, usage and change on the payer's wallet), or on its own
// once the request has run for a second, a long stream's (docs/design.md
// §5). Either way each payment is settled with its transaction and
// applied once.
func TestX402_SettlementRecordedWithTheCharge(t *testing.T) {
	up := newFixtureUpstream(t)
	up.Events, up.Delay = slowEvents(20), 100*time.Millisecond // a stream of two seconds
	var (
		mu      sync.Mutex
		m       *Main
		claimed []string // what /settle found claimed, by payment key
	)
	stub := newFacilitatorStub(t)
	fac := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/settle" {
			open, err := m.Ledger.OpenPayments(context.Background(), time.Now().Add(time.Hour))
			mu.Lock()
			for _, p := range open {
				if err == nil && p.State == meter.PaymentClaimed {
					claimed = append(claimed, p.Key)
				}
			}
			mu.Unlock()
		}
		stub.serve(w, r)
	}))
	t.Cleanup(fac.Close)
	m = MustRunMain(t, x402Config(t, up.URL(), fac.URL))
	key, _ := crypto.GenerateKey()
	payer := crypto.PubkeyToAddress(key.PublicKey)
	pay := func(body string) (x402.Authorization, func() (int, string, string)) {
		c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", body), meter.ECodePaymentRequired)
		h, v, a := payment(t, key, c, 1)
		done := make(chan struct{})
		var status int
		var got, cost string
		go func() {
			defer close(done)
			resp := postWith(t, m, "/v1/chat/completions", body, h, v)
			got = string(readAll(t, resp))
			status, cost = resp.StatusCode, resp.Header.Get("X-Paymeter-Cost")
			if strings.Contains(body, `"stream":true`) {
				cost = resp.Trailer.Get("X-Paymeter-Cost")
			}
		}()
		return a, func() (int, string, string) { <-done; return status, got, cost }
	}
	keyOf := func(a x402.Authorization) string {
		return (&x402.Payment{ChainID: 84532, Authorization: a}).Key(testAsset)
	}

	stream, finish := pay(longStream)
	time.Sleep(1500 * time.Millisecond)
	// Still streaming, past a second: recorded settled on its own, unapplied.
	un, err := m.Ledger.UnappliedPayments(context.Background(), time.Now().Add(time.Minute))
	if err != nil || len(un) != 1 || un[0].Key != keyOf(stream) || un[0].TxHash != "0x"+strings.Repeat("ab", 32) {
		t.Fatalf("unapplied while streaming: %+v %v, want the stream's payment, settled", un, err)
	}
	if status, body, cost := finish(); status != http.StatusOK || cost == "" {
		t.Fatalf("stream: %d %q cost %q", status, tail(body), cost)
	}
	short, finish := pay(chatBody)
	status, body, cost := finish()
	if status != http.StatusOK || cost == "" {
		t.Fatalf("short request: %d %s", status, body)
	}
	charged, _ := meter.ParseAmount(cost)
	settled, err := m.Ledger.SettledPayments(context.Background(), 0, 10)
	if err != nil || len(settled) != 2 {
		t.Fatalf("settled payments %+v %v, want both", settled, err)
	}
	for _, p := range settled {
		if p.TxHash != "0x"+strings.Repeat("ab", 32) || p.AccountID == 0 {
			t.Fatalf("payment %+v, want settled with its transaction on the wallet", p)
		}
	}
	if un, _ := m.Ledger.UnappliedPayments(context.Background(), time.Now().Add(time.Minute)); len(un) != 0 {
		t.Fatalf("unapplied after both answers: %+v", un)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(claimed, " ") != keyOf(stream)+" "+keyOf(short) {
		t.Fatalf("claimed when /settle was asked: %q, want each payment's own", claimed)
	}
	w := walletOf(t, m, payer)
	entries := usageEntries(t, m, w.ID)
	if len(entries) != 2 || entries[0].Amount != -charged {
		t.Fatalf("usage %+v, want two charges, the last of %s", entries, charged)
	}
	mustVerify(t, m)
}
