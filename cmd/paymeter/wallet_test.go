package main

import (
	"crypto/ecdsa"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
)

// signedRequest builds a request signed with wallet headers.
func signedRequest(t *testing.T, m *Main, key *ecdsa.PrivateKey, realm, path, body string) *http.Request {
	t.Helper()
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	msg := auth.WalletMessage(realm, ts, http.MethodPost, path, "")
	sig, err := crypto.Sign(accounts.TextHash([]byte(msg)), key)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	req, _ := http.NewRequest(http.MethodPost, m.URL()+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Wallet-Address", crypto.PubkeyToAddress(key.PublicKey).Hex())
	req.Header.Set("X-Timestamp", ts)
	req.Header.Set("X-Wallet-Signature", "0x"+hex.EncodeToString(sig))
	return req
}

func do(t *testing.T, req *http.Request) *http.Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// A wallet with nothing but its key uses the proxy: its first signed
// request creates its account with the free credits, which pay for it.
// A replayed request, a bad signature and partial headers are refused,
// and a bad signature never falls back to an API key sent beside it.
func TestWallet_EndToEnd(t *testing.T) {
	up := newFixtureUpstream(t)
	cfg := testConfig(t, up.URL())
	cfg.Wallet.Realm = "Eliza Cloud"
	m := MustRunMain(t, cfg)
	_, apiKey := mustApp(t, m, "1", meter.DefaultKeyScopes)
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}

	req := signedRequest(t, m, key, "Eliza Cloud", "/v1/chat/completions", helloChat)
	resp := do(t, req)
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("status=%d body=%s, want 200", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Paymeter-Cost"); got != "0.0000335" {
		t.Fatalf("cost=%q, want 0.0000335", got)
	}
	wallets, err := m.Ledger.FindAccounts(t.Context(), meter.AccountWallet)
	if err != nil || len(wallets) != 1 {
		t.Fatalf("wallet accounts=%d err=%v, want 1", len(wallets), err)
	}
	w := waitSettled(t, m, wallets[0].ID)
	if w.Address != crypto.PubkeyToAddress(key.PublicKey).Hex() || w.Balance != amt(t, "5")-amt(t, "0.0000335") {
		t.Fatalf("wallet account=%+v, want 5 free credits less the request", w)
	}

	// The same signed request again (same timestamp, same signature).
	replay, _ := http.NewRequest(http.MethodPost, req.URL.String(), strings.NewReader(helloChat))
	replay.Header = req.Header.Clone()
	mustError(t, do(t, replay), 401, meter.ECodeSignatureReplayed)

	// A signature for another path; an API key beside it does not rescue it.
	wrong := signedRequest(t, m, key, "Eliza Cloud", "/v1/embeddings", helloChat)
	wrong.URL.Path = "/v1/chat/completions"
	wrong.Header.Set("Authorization", "Bearer "+apiKey)
	mustError(t, do(t, wrong), 401, meter.ECodeInvalidSignature)

	partial, _ := http.NewRequest(http.MethodPost, m.URL()+"/v1/chat/completions", strings.NewReader(helloChat))
	partial.Header.Set("X-Wallet-Address", w.Address)
	mustError(t, do(t, partial), 401, meter.ECodeInvalidSignature)
	mustVerify(t, m)
}

// The same signed request sent 50 times at once over HTTP is served once;
// after paymeter restarts on the same database it is still refused.
func TestWallet_ReplayOverHTTPAndRestart(t *testing.T) {
	up := newFixtureUpstream(t)
	cfg := testConfig(t, up.URL())
	m := NewMain(cfg, discardLogger())
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signed := signedRequest(t, m, key, "Paymeter", "/v1/chat/completions", helloChat)

	var wg sync.WaitGroup
	var served, replayed atomic.Int32
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, signed.URL.String(), strings.NewReader(helloChat))
			req.Header = signed.Header.Clone()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			readAll(t, resp)
			switch resp.StatusCode {
			case http.StatusOK:
				served.Add(1)
			case http.StatusUnauthorized:
				replayed.Add(1)
			}
		}()
	}
	wg.Wait()
	if served.Load() != 1 || replayed.Load() != 49 {
		t.Fatalf("served=%d refused=%d, want 1 and 49", served.Load(), replayed.Load())
	}
	if n := len(up.seen()); n != 1 {
		t.Fatalf("upstream saw %d requests, want 1", n)
	}
	http.DefaultClient.CloseIdleConnections()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	m2 := MustRunMain(t, cfg) // same database file
	req, _ := http.NewRequest(http.MethodPost, m2.URL()+"/v1/chat/completions", strings.NewReader(helloChat))
	req.Header = signed.Header.Clone()
	mustError(t, do(t, req), 401, meter.ECodeSignatureReplayed)
}

// signedAt builds a request signed by key for ts: two wallets can sign the
// very same message text (timestamp, method, path).
func signedAt(t *testing.T, url string, key *ecdsa.PrivateKey, ts, path, body string) *http.Request {
	t.Helper()
	msg := auth.WalletMessage(auth.DefaultRealm, ts, http.MethodPost, path, "")
	sig, err := crypto.Sign(accounts.TextHash([]byte(msg)), key)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	req, _ := http.NewRequest(http.MethodPost, url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(auth.HeaderWalletAddress, crypto.PubkeyToAddress(key.PublicKey).Hex())
	req.Header.Set(auth.HeaderTimestamp, ts)
	req.Header.Set(auth.HeaderWalletSignature, "0x"+hex.EncodeToString(sig))
	return req
}

// The replay record names the signer: two wallets signing the same
// timestamp, method and path are both served (one cannot block the
// other), while each one's own replay is refused, also after a restart.
func TestWallet_ReplayKeyedOnSigner(t *testing.T) {
	up := newFixtureUpstream(t)
	cfg := testConfig(t, up.URL())
	m := NewMain(cfg, discardLogger())
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	alice, mallory := freshWallets(t, 2)[0], freshWallets(t, 1)[0]
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	// Mallory signs first, hoping to burn the message Alice will send.
	for _, key := range []*ecdsa.PrivateKey{mallory, alice} {
		resp := do(t, signedAt(t, m.URL(), key, ts, "/v1/chat/completions", helloChat))
		if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status=%d %s, want 200", crypto.PubkeyToAddress(key.PublicKey).Hex(), resp.StatusCode, body)
		}
	}
	mustError(t, do(t, signedAt(t, m.URL(), alice, ts, "/v1/chat/completions", helloChat)), 401, meter.ECodeSignatureReplayed)
	http.DefaultClient.CloseIdleConnections()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	m2 := MustRunMain(t, cfg) // same database file
	for _, key := range []*ecdsa.PrivateKey{alice, mallory} {
		mustError(t, do(t, signedAt(t, m2.URL(), key, ts, "/v1/chat/completions", helloChat)), 401, meter.ECodeSignatureReplayed)
	}
	if n := len(up.seen()); n != 2 {
		t.Fatalf("upstream saw %d requests, want 2", n)
	}
}
