package auth_test

import (
	"context"
	"encoding/hex"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
)

// Review (i15-perf2): wallet messages are claimed by (signed_at, key).
// signed_at comes from X-Timestamp, which the signed text holds verbatim:
// a signature is for one spelling (leading zeros, the five-line form, the
// other's path or method refuse), the exact request is accepted once, also
// after a restart, the same text signed by another wallet is its own, and
// a malleated signature (s ↦ n−s, v 0/1) is not a second use.
func TestWalletReview_SignedAtCannotBeRespelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wallet.db")
	f := newWalletFixture(t, path)
	ctx := context.Background()
	key, other := newKey(t), newKey(t)
	ts := f.now.UnixMilli()
	r := sign(t, key, auth.DefaultRealm, ts, "POST", "/v1/chat/completions", "")
	for name, edit := range map[string]func(w *auth.WalletRequest){
		"leading zero": func(w *auth.WalletRequest) { w.Timestamp = "0" + w.Timestamp },
		"two zeros":    func(w *auth.WalletRequest) { w.Timestamp = "00" + w.Timestamp },
		"plus sign":    func(w *auth.WalletRequest) { w.Timestamp = "+" + w.Timestamp },
		"a ms later":   func(w *auth.WalletRequest) { w.Timestamp = strconv.FormatInt(ts+1, 10) },
		"lower method": func(w *auth.WalletRequest) { w.Method = "post" }, // upper-cased into the text: the same message
		"another path": func(w *auth.WalletRequest) { w.Path = "/v1/embeddings" },
		"with a body":  func(w *auth.WalletRequest) { w.Body = []byte("{}") },
		"v as 0/1":     func(w *auth.WalletRequest) { w.Signature = lowV(t, w.Signature) },
		"high s":       func(w *auth.WalletRequest) { w.Signature = highS(t, w.Signature) },
	} {
		w := *r
		edit(&w)
		_, err := f.v.Authenticate(ctx, &w)
		if name == "lower method" || name == "with a body" || name == "v as 0/1" {
			continue // judged below, once the original is used
		}
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
	}
	if _, err := f.v.Authenticate(ctx, r); err != nil {
		// "lower method", "with a body" (four-line form, body unbound) or "v as 0/1" may have used it first.
		if meter.ErrorCode(err) != meter.ECodeSignatureReplayed {
			t.Fatalf("original: %v", err)
		}
	}
	for _, edit := range []func(w *auth.WalletRequest){
		func(*auth.WalletRequest) {}, func(w *auth.WalletRequest) { w.Method = "post" },
		func(w *auth.WalletRequest) { w.Body = []byte("{}") }, func(w *auth.WalletRequest) { w.Signature = lowV(t, w.Signature) },
	} {
		w := *r
		edit(&w)
		if _, err := f.v.Authenticate(ctx, &w); meter.ErrorCode(err) != meter.ECodeSignatureReplayed {
			t.Fatalf("%+v again: %v, want signature_replayed", w, err)
		}
	}
	// The same text by another wallet is that wallet's own, once.
	o := sign(t, other, auth.DefaultRealm, ts, "POST", "/v1/chat/completions", "")
	if _, err := f.v.Authenticate(ctx, o); err != nil {
		t.Fatalf("other wallet, same text: %v", err)
	}
	f.close()
	g := newWalletFixture(t, path)
	g.now = f.now.Add(4 * time.Minute)
	for _, w := range []*auth.WalletRequest{r, o} {
		if _, err := g.v.Authenticate(ctx, w); meter.ErrorCode(err) != meter.ECodeSignatureReplayed {
			t.Fatalf("after a restart: %v, want signature_replayed", err)
		}
	}
	// Purged once outside the window, where it is refused as expired.
	g.now = f.now.Add(6 * time.Minute)
	if _, err := g.ledger.ReleaseExpired(ctx, g.now); err != nil {
		t.Fatal(err)
	}
	if _, err := g.v.Authenticate(ctx, r); meter.ErrorCode(err) != meter.ECodeSignatureExpired {
		t.Fatalf("after the purge: %v, want signature_expired", err)
	}
}

func lowV(t *testing.T, sig string) string {
	b, err := hex.DecodeString(strings.TrimPrefix(sig, "0x"))
	if err != nil {
		t.Fatal(err)
	}
	b[64] -= 27
	return "0x" + hex.EncodeToString(b)
}

var _ = accounts.TextHash
