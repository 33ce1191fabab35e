package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// siwxInfo is a challenge as a client completes it: the 402's info and
// the chain it signs for.
type siwxInfo struct {
	x402.SIWXInfo
	ChainID string `json:"chainId"`
	Type    string `json:"type"`
}

// siwxEntry is one proof for siwx.mjs to sign (MODE=sign).
type siwxEntry struct {
	Info       siwxInfo `json:"info"`
	RequestURL string   `json:"requestUrl,omitempty"`
	Key        string   `json:"key,omitempty"`
	Address    string   `json:"address,omitempty"`
}

// siwxSign has @x402/extensions sign each entry; it returns the headers.
func siwxSign(t *testing.T, node string, entries []siwxEntry) []string {
	t.Helper()
	in, _ := json.Marshal(entries)
	out := siwxNode(t, node, in, "MODE=sign")
	var headers []string
	if err := json.Unmarshal(out, &headers); err != nil || len(headers) != len(entries) {
		t.Fatalf("siwx.mjs sign printed %s: %v", out, err)
	}
	return headers
}

// siwxDeclared is the sign-in-with-x declaration of a 402.
func siwxDeclared(t *testing.T, resp *http.Response) *x402.SIWXDeclaration {
	t.Helper()
	readAll(t, resp)
	if resp.StatusCode != http.StatusPaymentRequired {
		t.Fatalf("status %d, want 402", resp.StatusCode)
	}
	pr, err := x402.ParseChallengeV2(resp.Header.Get(x402.HeaderRequired))
	if err != nil {
		t.Fatal(err)
	}
	var d x402.SIWXDeclaration
	if err := json.Unmarshal(pr.Extensions[x402.ExtensionSIWX], &d); err != nil || len(d.SupportedChains) == 0 {
		t.Fatalf("402 extensions %s: %v", pr.Extensions, err)
	}
	return &d
}

// siwxChallenge asks m for a chat completion without credentials and
// returns the sign-in-with-x challenge of its 402, completed for its first chain.
func siwxChallenge(t *testing.T, m *Main) siwxInfo {
	t.Helper()
	d := siwxDeclared(t, postWith(t, m, "/v1/chat/completions", chatBody))
	return siwxInfo{SIWXInfo: d.Info, ChainID: d.SupportedChains[0].ChainID, Type: d.SupportedChains[0].Type}
}

// siwxSend sends a chat completion with a SIGN-IN-WITH-X header to url.
func siwxSend(t *testing.T, url, header string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", strings.NewReader(chatBody))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(x402.HeaderSIWX, header)
	return do(t, req)
}

// mustSIWXRefused checks a refusal's status, code and reason.
func mustSIWXRefused(t *testing.T, resp *http.Response, code, reason string) {
	t.Helper()
	e := mustError(t, resp, http.StatusUnauthorized, code)
	if e.Error.Details["reason"] != reason {
		t.Fatalf("%s: reason %v, want %s (%s)", code, e.Error.Details["reason"], reason, e.Error.Message)
	}
}

// Proofs signed by the real @x402/extensions client for challenges that
// are not this server's, or no longer good, are each refused with a stable
// code and reason, before anything is served; a proof is taken once, also
// after a restart, while one signed before the restart and never sent is
// still good after it (the nonces' key is kept in the database). A new
// wallet gets its free credits on its first sign-in, as with wallet headers.
func TestInterop_SIWXRefusals(t *testing.T) {
	node := needNode(t)
	up := newFixtureUpstream(t)
	cfg := x402Config(t, up.URL(), newFacilitatorStub(t).URL)
	m := NewMain(cfg, discardLogger())
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	key, _ := crypto.GenerateKey()
	other, _ := crypto.GenerateKey()
	wallet := crypto.PubkeyToAddress(key.PublicKey)
	now := time.Now().UTC()
	at := func(d time.Duration) string { return now.Add(d).Format("2006-01-02T15:04:05.000Z") }
	evil := "http://evil.example/v1/chat/completions"

	type variant struct {
		name         string
		edit         func(e *siwxEntry)
		code, reason string
	}
	variants := []variant{
		{"good", func(e *siwxEntry) {}, "", ""},
		{"good, kept for after the restart", func(e *siwxEntry) {}, "", ""},
		{"good, sent 50 times at once", func(e *siwxEntry) {}, "", ""},
		{"another site's challenge", func(e *siwxEntry) {
			e.Info.Domain, e.Info.URI, e.Info.Resources, e.RequestURL = "evil.example", evil, []string{evil}, evil
		}, meter.ECodeInvalidSIWX, "invalid_siwx_domain_mismatch"},
		{"a URI on another origin", func(e *siwxEntry) { e.Info.URI, e.RequestURL = evil, "" },
			meter.ECodeInvalidSIWX, "invalid_siwx_uri_mismatch"},
		{"a URI on another port", func(e *siwxEntry) { e.Info.URI, e.RequestURL = "http://127.0.0.1:1/v1/chat/completions", "" },
			meter.ECodeInvalidSIWX, "invalid_siwx_uri_mismatch"},
		{"issued too long ago", func(e *siwxEntry) { e.Info.IssuedAt, e.Info.ExpirationTime = at(-10*time.Minute), at(-5*time.Minute) },
			meter.ECodeSignatureExpired, "invalid_siwx_issued_at_too_old"},
		{"expired", func(e *siwxEntry) { e.Info.IssuedAt, e.Info.ExpirationTime = at(-time.Minute), at(-time.Second) },
			meter.ECodeSignatureExpired, "invalid_siwx_expired"},
		{"issued in the future", func(e *siwxEntry) { e.Info.IssuedAt, e.Info.ExpirationTime = at(10*time.Minute), at(15*time.Minute) },
			meter.ECodeSignatureExpired, "invalid_siwx_issued_at_in_future"},
		{"a chain not configured", func(e *siwxEntry) { e.Info.ChainID = "eip155:1" }, meter.ECodeInvalidSIWX, "invalid_siwx_chain_id"},
		{"a nonce paymeter did not issue", func(e *siwxEntry) { e.Info.Nonce = "0123456789abcdef0123456789abcdef" },
			meter.ECodeInvalidNonce, "invalid_siwx_nonce"},
		{"a time paymeter did not issue", func(e *siwxEntry) { e.Info.ExpirationTime = at(4 * time.Minute) },
			meter.ECodeInvalidNonce, "invalid_siwx_nonce"},
		{"signed by another key", func(e *siwxEntry) { e.Key, e.Address = hexKey(other), wallet.Hex() },
			meter.ECodeInvalidSignature, "invalid_siwx_signature"},
	}
	entries := make([]siwxEntry, len(variants))
	for i, v := range variants {
		entries[i] = siwxEntry{Info: siwxChallenge(t, m), RequestURL: m.URL() + "/v1/chat/completions", Key: hexKey(key)}
		v.edit(&entries[i])
	}
	headers := siwxSign(t, node, entries)
	for i, v := range variants[3:] {
		t.Run(v.name, func(t *testing.T) { mustSIWXRefused(t, siwxSend(t, m.URL(), headers[i+3]), v.code, v.reason) })
	}
	if n := len(up.seen()); n != 0 {
		t.Fatalf("the upstream saw %d requests of refused proofs", n)
	}

	resp := siwxSend(t, m.URL(), headers[0])
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("good proof: %d %s", resp.StatusCode, body)
	}
	w := walletOf(t, m, wallet)
	if w.FreeGranted != 5*meter.Credit || w.Balance >= 5*meter.Credit {
		t.Fatalf("new wallet %+v: want its 5 free credits, less the request", w)
	}
	mustSIWXRefused(t, siwxSend(t, m.URL(), headers[0]), meter.ECodeSignatureReplayed, "invalid_siwx_nonce_used")
	var wg sync.WaitGroup
	var served, replayed atomic.Int32
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := siwxSend(t, m.URL(), headers[2])
			var e apiError
			json.Unmarshal(readAll(t, resp), &e)
			switch {
			case resp.StatusCode == http.StatusOK:
				served.Add(1)
			case resp.StatusCode == http.StatusUnauthorized && e.Error.Code == meter.ECodeSignatureReplayed:
				replayed.Add(1)
			}
		}()
	}
	wg.Wait()
	if served.Load() != 1 || replayed.Load() != 49 {
		t.Fatalf("one proof 50 times at once: served=%d replayed=%d, want 1 and 49", served.Load(), replayed.Load())
	}
	// Key management is not for a proof that binds no request.
	req, _ := http.NewRequest(http.MethodPost, m.URL()+"/api/v1/api-keys", strings.NewReader(`{"name":"x"}`))
	req.Header.Set(x402.HeaderSIWX, headers[1])
	mustSIWXRefused(t, do(t, req), meter.ECodeInvalidSIWX, "invalid_siwx_route")

	// Restart on the same database and address.
	http.DefaultClient.CloseIdleConnections()
	cfg.Listen = m.ln.Addr().String()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2 := MustRunMain(t, cfg)
	mustSIWXRefused(t, siwxSend(t, m2.URL(), headers[0]), meter.ECodeSignatureReplayed, "invalid_siwx_nonce_used")
	resp = siwxSend(t, m2.URL(), headers[1])
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("proof signed before the restart: %d %s", resp.StatusCode, body)
	}
	if n := len(up.seen()); n != 3 {
		t.Fatalf("upstream saw %d requests, want the 3 good proofs'", n)
	}
	if after := walletOf(t, m2, wallet); after.FreeGranted != 5*meter.Credit || after.Balance >= w.Balance {
		t.Fatalf("wallet after its second request %+v (before %+v)", after, w)
	}
	mustVerify(t, m2)
}
