package auth_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// A claimed nonce is kept as long as its proof could be accepted under
// any x402.siwx.ttl, that is until its expirationTime (bound to the nonce),
// not only for the ttl of the process that claimed it: a challenge issued
// under a ttl of 1h, used under 5m, then the ttl back to 1h (a config
// change rolled back), is not taken a second time once the 5m claim has
// been purged.
func TestSIWX_ClaimOutlivesATTLChange(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "siwx.db")
	f := newSIWXFixture(t, path)
	f.s.TTL = time.Hour
	key := newKey(t)
	h := signProof(t, key, f.proof(t, key))
	issued := f.now
	f.close()

	g := newSIWXFixture(t, path) // restarted with the default ttl, 5m
	g.now = issued.Add(time.Minute)
	if _, err := g.s.Authenticate(ctx, h, ""); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if _, err := g.ledger.ReleaseExpired(ctx, issued.Add(6*time.Minute)); err != nil {
		t.Fatal(err)
	}
	g.close()

	r := newSIWXFixture(t, path) // the ttl back to 1h
	r.s.TTL, r.now = time.Hour, issued.Add(10*time.Minute)
	if code, reason := refusal(mustFail(r.s.Authenticate(ctx, h, ""))); code != meter.ECodeSignatureReplayed ||
		reason != "invalid_siwx_nonce_used" {
		t.Fatalf("second use after a ttl change: %q %q, want signature_replayed invalid_siwx_nonce_used", code, reason)
	}
}
