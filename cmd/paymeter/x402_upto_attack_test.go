package main

import (
	"context"
	"net/http"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// Attacks on x402 upto (docs/security.md): each test is a way a payer, or
// what it controls, could be served without paying, lock others out or
// cost the relayer more than it settles.

// A payer cycling fresh addresses, each served once and then revoking its
// allowance (or moving its funds on to the next address), is bounded by
// the global cap: what failed to settle was served and is not settled, so
// it stays counted against x402.upto.max_unsettled until it settles. With
// a global cap of one quote, the first address is served and fails; the
// next is refused 503 upto_capacity_reached, whatever its funds.
func TestUptoAttack_FreshPayersBoundedByTheGlobalCap(t *testing.T) {
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	quote := chatQuote(t, c, up)
	cfg := uptoConfig(t, up.URL(), c, quote.Amount().String(), quote.Amount().String())
	m := mustRunPausedUpto(t, cfg, c)
	var lost meter.USDC
	for i := range 3 {
		key, _ := uptoPayer(t, c, 1_000_000)
		resp := payUpto(t, m, key)
		if i > 0 {
			mustError(t, resp, http.StatusServiceUnavailable, meter.ECodeUptoCapacity)
			continue
		}
		if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
			t.Fatalf("payer %d: %d %s", i, resp.StatusCode, body)
		}
		c.revokePermit2(t, key)
		if _, err := m.Upto.SettleDue(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range uptoAuthorizations(t, m) {
		if a.State != meter.UptoFailed {
			t.Fatalf("authorization %d is %s, want failed", a.ID, a.State)
		}
		lost += a.Amount
	}
	if lost != chatSettled {
		t.Fatalf("served and never settled: %s units, want one request's %s", lost, chatSettled)
	}
	mustVerifyLedger(t, m)
}
