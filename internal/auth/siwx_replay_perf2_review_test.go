package auth_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
)

// Review (i15-perf2): a sign-in-with-x claim is keyed (issuedAt, nonce).
// The same nonce under another spelling of its Issued At (or Expiration
// Time) would be another row; the nonce's tag binds the exact strings, so
// every other spelling is invalid_nonce, the exact one is accepted once,
// by any wallet, across a restart, and after its purge under a longer TTL.
func TestSIWXReview_IssuedAtSpellingsCannotReplayANonce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "siwx.db")
	f := newSIWXFixture(t, path)
	key, other := newKey(t), newKey(t)
	ctx := context.Background()
	base := f.proof(t, key)
	issued, expires := base["issuedAt"].(string), base["expirationTime"].(string)
	if !strings.HasSuffix(issued, ".000Z") {
		t.Fatalf("issuedAt %q: want the server's .000Z form", issued)
	}
	variant := func(field, v string) map[string]any {
		p := map[string]any{}
		for k, x := range base {
			p[k] = x
		}
		p[field] = v
		return p
	}
	stem := strings.TrimSuffix(issued, ".000Z")
	estem := strings.TrimSuffix(expires, ".000Z")
	spellings := []map[string]any{
		variant("issuedAt", stem+"Z"), variant("issuedAt", stem+".0Z"), variant("issuedAt", stem+".000000000Z"),
		variant("issuedAt", stem+".000+00:00"), variant("issuedAt", stem+"+00:00"), variant("issuedAt", strings.ToLower(issued)),
		variant("expirationTime", estem+"Z"), variant("expirationTime", estem+".000+00:00"),
	}
	for _, p := range spellings {
		if _, err := f.s.Authenticate(ctx, signProof(t, key, p), ""); err == nil {
			t.Fatalf("issuedAt %v expirationTime %v: accepted; the nonce's tag binds the exact strings", p["issuedAt"], p["expirationTime"])
		} else if code, _ := refusal(err); code != meter.ECodeInvalidNonce && code != meter.ECodeInvalidSIWX {
			t.Fatalf("issuedAt %v: %v, want invalid_nonce (or invalid_siwx)", p["issuedAt"], err)
		}
	}
	if _, err := f.s.Authenticate(ctx, signProof(t, key, base), ""); err != nil {
		t.Fatalf("first use: %v", err)
	}
	// The same nonce, again: by its wallet, by another, re-signed.
	again := variant("address", crypto.PubkeyToAddress(other.PublicKey).Hex())
	for name, h := range map[string]string{"same wallet": signProof(t, key, base), "other wallet": signProof(t, other, again),
		"lower-case address": signProof(t, key, variant("address", strings.ToLower(base["address"].(string))))} {
		if _, err := f.s.Authenticate(ctx, h, ""); meter.ErrorCode(err) != meter.ECodeSignatureReplayed {
			t.Fatalf("%s: %v, want signature_replayed", name, err)
		}
	}
	// After a restart.
	f.close()
	g := newSIWXFixture(t, path)
	g.now = f.now
	if _, err := g.s.Authenticate(ctx, signProof(t, key, base), ""); meter.ErrorCode(err) != meter.ECodeSignatureReplayed {
		t.Fatalf("after a restart: %v, want signature_replayed", err)
	}
	// Purged once expired; a longer TTL afterwards reopens nothing.
	g.now = g.now.Add(5*time.Minute + time.Second)
	if _, err := g.ledger.ReleaseExpired(ctx, g.now); err != nil {
		t.Fatal(err)
	}
	g.s.TTL = time.Hour
	if _, err := g.s.Authenticate(ctx, signProof(t, key, base), ""); err == nil {
		t.Fatal("after its purge, with a longer TTL: accepted again")
	}
}
