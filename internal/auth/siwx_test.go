package auth_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/sqlite"
	"github.com/paymeter/paymeter/internal/walletsig"
	"github.com/paymeter/paymeter/internal/x402"
)

// siwxFixture is sign-in-with-x on a real ledger, with a movable clock.
type siwxFixture struct {
	db     *sqlite.DB
	ledger *sqlite.Ledger
	s      *auth.SIWX
	now    time.Time
}

const siwxOrigin = "https://api.example.com"

func newSIWXFixture(t *testing.T, path string) *siwxFixture {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "siwx.db")
	}
	f := &siwxFixture{db: sqlite.NewDB(path), now: time.UnixMilli(1767225600000).UTC()}
	if err := f.db.Open(); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.ledger, err = sqlite.NewLedger(f.db, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.close)
	key, err := f.ledger.SIWXKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f.s = auth.NewSIWX(f.ledger, key)
	f.s.ChainIDs = []int64{84532, 8453}
	f.s.Now = func() time.Time { return f.now }
	if err := f.s.SetOrigin(siwxOrigin); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *siwxFixture) close() {
	if f.ledger != nil {
		f.ledger.Close()
		f.db.Close()
		f.ledger = nil
	}
}

// proof is what a client makes of a challenge: the payload as a JSON
// object, to be edited, then signed.
func (f *siwxFixture) proof(t *testing.T, key *ecdsa.PrivateKey) map[string]any {
	t.Helper()
	info := f.s.Challenge("/v1/chat/completions")
	b, _ := json.Marshal(info)
	var p map[string]any
	json.Unmarshal(b, &p)
	p["chainId"], p["type"] = "eip155:84532", "eip191"
	p["address"] = crypto.PubkeyToAddress(key.PublicKey).Hex()
	return p
}

// signProof signs p's message with key and returns the header value.
func signProof(t *testing.T, key *ecdsa.PrivateKey, p map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(p)
	var payload x402.SIWXPayload
	if err := json.Unmarshal(b, &payload); err != nil {
		t.Fatal(err)
	}
	msg, err := auth.SIWXMessage(&payload)
	if err != nil { // a proof refused before its signature is read
		p["signature"] = "0x" + strings.Repeat("00", 65)
		return header(p)
	}
	p["signature"] = signText(t, key, msg)
	return header(p)
}

func header(p map[string]any) string {
	b, _ := json.Marshal(p)
	return base64.StdEncoding.EncodeToString(b)
}

// refusal is the code and reason of err ("" for none).
func refusal(err error) (code, reason string) {
	var me *meter.Error
	if errors.As(err, &me) {
		r, _ := me.Details["reason"].(string)
		return me.Code, r
	}
	return "", ""
}

// The spec's example header decodes to its example message, byte for byte.
func TestSIWXMessage_SpecVector(t *testing.T) {
	const h = "eyJkb21haW4iOiJhcGkuZXhhbXBsZS5jb20iLCJhZGRyZXNzIjoiMHg4NTdiMDY1MTlFOTFlM0E1NDUzODc5MWJEYmIwRTIyMzczZTM2YjY2IiwidXJpIjoiaHR0cHM6Ly9hcGkuZXhhbXBsZS5jb20vcHJlbWl1bS1kYXRhIiwidmVyc2lvbiI6IjEiLCJjaGFpbklkIjoiZWlwMTU1Ojg0NTMiLCJ0eXBlIjoiZWlwMTkxIiwibm9uY2UiOiJhMWIyYzNkNGU1ZjY3ODkwYTFiMmMzZDRlNWY2Nzg5MCIsImlzc3VlZEF0IjoiMjAyNC0wMS0xNVQxMDozMDowMC4wMDBaIiwiZXhwaXJhdGlvblRpbWUiOiIyMDI0LTAxLTE1VDEwOjM1OjAwLjAwMFoiLCJzdGF0ZW1lbnQiOiJTaWduIGluIHRvIGFjY2VzcyBwcmVtaXVtIGRhdGEiLCJyZXNvdXJjZXMiOlsiaHR0cHM6Ly9hcGkuZXhhbXBsZS5jb20vcHJlbWl1bS1kYXRhIl0sInNpZ25hdHVyZVNjaGVtZSI6ImVpcDE5MSIsInNpZ25hdHVyZSI6IjB4MmQ2YTc1ODhkNmFjY2E1MDVjYmYwZDlhNGEyMjdlMGM1MmM2YzM0MDA4YzhlODk4NmExMjgzMjU5NzY0MTczNjA4YTJjZTY0OTY2NDJlMzc3ZDZkYThkYmJmNTgzNmU5YmQxNTA5MmY5ZWNhYjA1ZGVkM2Q2MjkzYWYxNDhiNTcxYyJ9"
	const want = "api.example.com wants you to sign in with your Ethereum account:\n" +
		"0x857b06519E91e3A54538791bDbb0E22373e36b66\n\nSign in to access premium data\n\n" +
		"URI: https://api.example.com/premium-data\nVersion: 1\nChain ID: 8453\nNonce: a1b2c3d4e5f67890a1b2c3d4e5f67890\n" +
		"Issued At: 2024-01-15T10:30:00.000Z\nExpiration Time: 2024-01-15T10:35:00.000Z\n" +
		"Resources:\n- https://api.example.com/premium-data"
	p, err := x402.DecodeSIWX(h)
	if err != nil {
		t.Fatal(err)
	}
	got, err := auth.SIWXMessage(p)
	if err != nil || got != want {
		t.Fatalf("message %q (err %v),\nwant %q", got, err, want)
	}
	// Without a statement the SIWE library writes two blank lines; a lower
	// case address is written in its EIP-55 form.
	p.Statement, p.Resources, p.Address = nil, nil, strings.ToLower(p.Address)
	got, _ = auth.SIWXMessage(p)
	if !strings.HasPrefix(got, "api.example.com wants you to sign in with your Ethereum account:\n"+
		"0x857b06519E91e3A54538791bDbb0E22373e36b66\n\n\nURI: ") {
		t.Fatalf("no statement: %q", got)
	}
}

// A valid proof is taken once: its wallet's account is created with the
// free credits, and the same header again, 50 times at once or after a
// restart, is signature_replayed.
func TestSIWX_AcceptedOnceEvenAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "siwx.db")
	f := newSIWXFixture(t, path)
	key := newKey(t)
	h := signProof(t, key, f.proof(t, key))
	later := signProof(t, key, f.proof(t, key))

	var accepted, replayed atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := f.s.Authenticate(context.Background(), h, "192.0.2.1")
			switch code, _ := refusal(err); {
			case err == nil && p.Label == crypto.PubkeyToAddress(key.PublicKey).Hex() && p.Kind == meter.PrincipalWallet &&
				p.Scopes == auth.SIWXScopes:
				accepted.Add(1)
			case code == meter.ECodeSignatureReplayed:
				replayed.Add(1)
			default:
				t.Error(p, err)
			}
		}()
	}
	wg.Wait()
	if accepted.Load() != 1 || replayed.Load() != 49 {
		t.Fatalf("accepted=%d replayed=%d, want 1 and 49", accepted.Load(), replayed.Load())
	}
	accts, err := f.ledger.FindAccounts(context.Background(), meter.AccountWallet)
	if err != nil || len(accts) != 1 || accts[0].Balance != 5*meter.Credit || accts[0].FreeGranted != 5*meter.Credit {
		t.Fatalf("wallet accounts %+v (%v), want one with its 5 free credits", accts, err)
	}
	f.close()

	g := newSIWXFixture(t, path) // the same database: the same key, the same claims
	g.now = f.now
	if code, reason := refusal(mustFail(g.s.Authenticate(context.Background(), h, ""))); code != meter.ECodeSignatureReplayed ||
		reason != "invalid_siwx_nonce_used" {
		t.Fatalf("after restart: %s %s, want signature_replayed", code, reason)
	}
	if _, err := g.s.Authenticate(context.Background(), later, ""); err != nil {
		t.Fatalf("a proof signed before the restart, first sent after it: %v", err)
	}
}

func mustFail(_ *meter.Principal, err error) error { return err }

// The times follow Sign-In with Ethereum's rules: issued at most TTL ago,
// at most a minute ahead of this server's clock, before its expiry, not
// before its notBefore. A nonce's times are the server's own.
func TestSIWX_Times(t *testing.T) {
	f := newSIWXFixture(t, "")
	key := newKey(t)
	issued := f.now
	edit := func(e func(p map[string]any)) string {
		p := f.proof(t, key)
		e(p)
		return signProof(t, key, p)
	}
	h := edit(func(map[string]any) {})
	notYet := edit(func(p map[string]any) { p["notBefore"] = issued.Add(2 * time.Minute).Format(time.RFC3339) })
	past := edit(func(p map[string]any) { p["notBefore"] = issued.Add(-time.Minute).Format(time.RFC3339) })
	for _, tc := range []struct {
		name         string
		at           time.Time
		header       string
		code, reason string
	}{
		{"a server clock 59 s behind", issued.Add(-59 * time.Second), h, "", ""},
		{"a server clock 61 s behind", issued.Add(-61 * time.Second), h, meter.ECodeSignatureExpired, "invalid_siwx_issued_at_in_future"},
		{"at its expiry", issued.Add(5 * time.Minute), h, meter.ECodeSignatureExpired, "invalid_siwx_expired"},
		{"past its TTL", issued.Add(5*time.Minute + time.Millisecond), h, meter.ECodeSignatureExpired, "invalid_siwx_issued_at_too_old"},
		{"before its notBefore", issued.Add(time.Minute), notYet, meter.ECodeSignatureExpired, "invalid_siwx_not_yet_valid"},
		{"within a window the wallet narrowed", issued.Add(time.Minute), past, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.now = tc.at
			_, err := f.s.Authenticate(context.Background(), tc.header, "")
			if code, reason := refusal(err); code != tc.code || reason != tc.reason || (tc.code == "" && err != nil) {
				t.Fatalf("err=%v, want %s %s", err, tc.code, tc.reason)
			}
			if tc.code == "" { // accepted, so claimed: the next case needs another
				f.now = issued
				h = edit(func(map[string]any) {})
			}
		})
	}
}

// contractWallet is an EIP-1271 wallet that its owner's signature moves.
type contractWallet struct {
	owner common.Address
	err   error
	asked []int64
}

func (c *contractWallet) IsValidSignature(_ context.Context, chainID int64, _ common.Address, digest [32]byte, sig []byte) (bool, error) {
	c.asked = append(c.asked, chainID)
	if c.err != nil {
		return false, c.err
	}
	signer, err := walletsig.Recover(digest, sig)
	return err == nil && signer == c.owner, nil
}

// A contract wallet signs through its owner, asked on ContractChainID
// when the message names it, and on no other chain; a chain that cannot
// be asked is an error, not a refusal.
func TestSIWX_ContractWallet(t *testing.T) {
	f := newSIWXFixture(t, "")
	owner := newKey(t)
	wallet := common.HexToAddress("0x00000000000000000000000000000000000C0de1")
	proof := func(chain string) string {
		p := f.proof(t, owner)
		p["address"], p["chainId"] = wallet.Hex(), chain
		return signProof(t, owner, p)
	}
	if _, err := f.s.Authenticate(context.Background(), proof("eip155:84532"), ""); meter.ErrorCode(err) != meter.ECodeInvalidSignature {
		t.Fatalf("without contracts: %v, want invalid_signature", err)
	}
	cw := &contractWallet{owner: crypto.PubkeyToAddress(owner.PublicKey)}
	f.s.Contracts, f.s.ContractChainID = cw, 8453
	if p, err := f.s.Authenticate(context.Background(), proof("eip155:8453"), ""); err != nil || p.Label != wallet.Hex() ||
		len(cw.asked) != 1 || cw.asked[0] != 8453 {
		t.Fatalf("contract wallet: %v %v, asked %v (want chain 8453)", p, err, cw.asked)
	}
	// Another accepted chain is not the contract wallets' chain: not asked.
	if _, err := f.s.Authenticate(context.Background(), proof("eip155:84532"), ""); meter.ErrorCode(err) != meter.ECodeInvalidSignature ||
		len(cw.asked) != 1 {
		t.Fatalf("contract wallet on another chain: %v, asked %v, want invalid_signature and no chain asked", err, cw.asked)
	}
	cw.err = errors.New("rpc down")
	var me *meter.Error
	if _, err := f.s.Authenticate(context.Background(), proof("eip155:8453"), ""); err == nil || errors.As(err, &me) {
		t.Fatalf("a chain that cannot be asked: %v, want an error that is not a refusal", err)
	}
}

func TestSIWX_SetOrigin(t *testing.T) {
	s := auth.NewSIWX(nil, []byte("k"))
	for origin, want := range map[string]string{
		"https://API.Example.com:443": "https://api.example.com",
		"http://127.0.0.1:8080/":      "http://127.0.0.1:8080",
		"http://localhost:80":         "http://localhost",
	} {
		if err := s.SetOrigin(origin); err != nil || s.Origin() != want {
			t.Fatalf("%s: origin %q (%v), want %q", origin, s.Origin(), err, want)
		}
	}
	for _, bad := range []string{"", "api.example.com", "ftp://api.example.com", "https://api.example.com/v1",
		"https://u@api.example.com", "https://api.example.com?x=1", "https://api.example.com#f"} {
		if err := s.SetOrigin(bad); err == nil {
			t.Fatalf("%q accepted as an origin", bad)
		}
	}
}

// FuzzSIWX: any header is refused cleanly or accepted; a proof whose
// message is made parses back as Sign-In with Ethereum.
func FuzzSIWX(f *testing.F) {
	f.Add("eyJkb21haW4iOiJhcGkuZXhhbXBsZS5jb20iLCJhZGRyZXNzIjoiMHg4NTdiMDY1MTlFOTFlM0E1NDUzODc5MWJEYmIwRTIyMzczZTM2YjY2IiwidXJpIjoiaHR0cHM6Ly9hcGkuZXhhbXBsZS5jb20vcHJlbWl1bS1kYXRhIiwidmVyc2lvbiI6IjEiLCJjaGFpbklkIjoiZWlwMTU1Ojg0NTMiLCJ0eXBlIjoiZWlwMTkxIiwibm9uY2UiOiJhMWIyYzNkNGU1ZjY3ODkwYTFiMmMzZDRlNWY2Nzg5MCIsImlzc3VlZEF0IjoiMjAyNC0wMS0xNVQxMDozMDowMC4wMDBaIiwiZXhwaXJhdGlvblRpbWUiOiIyMDI0LTAxLTE1VDEwOjM1OjAwLjAwMFoiLCJzdGF0ZW1lbnQiOiJTaWduIGluIHRvIGFjY2VzcyBwcmVtaXVtIGRhdGEiLCJyZXNvdXJjZXMiOlsiaHR0cHM6Ly9hcGkuZXhhbXBsZS5jb20vcHJlbWl1bS1kYXRhIl0sInNpZ25hdHVyZVNjaGVtZSI6ImVpcDE5MSIsInNpZ25hdHVyZSI6IjB4MmQ2YTc1ODhkNmFjY2E1MDVjYmYwZDlhNGEyMjdlMGM1MmM2YzM0MDA4YzhlODk4NmExMjgzMjU5NzY0MTczNjA4YTJjZTY0OTY2NDJlMzc3ZDZkYThkYmJmNTgzNmU5YmQxNTA5MmY5ZWNhYjA1ZGVkM2Q2MjkzYWYxNDhiNTcxYyJ9")
	f.Add(base64.StdEncoding.EncodeToString([]byte(`{"domain":"a","address":"0x857b06519e91e3a54538791bdbb0e22373e36b66","uri":"https://a/","version":"1","chainId":"eip155:1","type":"eip191","nonce":"abcdefgh","issuedAt":"2024-01-15T10:30:00Z","requestId":"x","notBefore":"2024-01-15T10:30:00Z","signature":"0x00"}`)))
	f.Fuzz(func(t *testing.T, h string) {
		p, err := x402.DecodeSIWX(h)
		if err != nil {
			if meter.ErrorCode(err) != meter.ECodeInvalidSIWX {
				t.Fatalf("decode error %v is not invalid_siwx", err)
			}
			return
		}
		msg, err := auth.SIWXMessage(p)
		if err != nil {
			if meter.ErrorCode(err) != meter.ECodeInvalidSIWX {
				t.Fatalf("message error %v is not invalid_siwx", err)
			}
			return
		}
		m, err := auth.ParseSIWE(msg)
		if err != nil || m.Nonce != p.Nonce || m.Domain != p.Domain || m.URI != p.URI {
			t.Fatalf("message %q of %+v reads back as %+v (%v)", msg, p, m, err)
		}
	})
}

// nopStore takes every nonce: BenchmarkSIWXAuthenticate measures the
// check, not the ledger's commit (the same one wallet headers make).
type nopStore struct{}

func (nopStore) AcceptSIWXNonce(context.Context, string, string, time.Time, time.Time, meter.FreeGrant) (*meter.Account, error) {
	return &meter.Account{ID: 1}, nil
}

// BenchmarkSIWXAuthenticate is the CPU of one sign-in-with-x proof: decode,
// message, times, nonce tag, one recovery (compare BenchmarkRecover).
func BenchmarkSIWXAuthenticate(b *testing.B) {
	s := auth.NewSIWX(nopStore{}, make([]byte, 32))
	s.ChainIDs = []int64{84532}
	if err := s.SetOrigin(siwxOrigin); err != nil {
		b.Fatal(err)
	}
	key, _ := crypto.GenerateKey()
	info := s.Challenge("/v1/chat/completions")
	p := &x402.SIWXPayload{Domain: info.Domain, Address: crypto.PubkeyToAddress(key.PublicKey).Hex(), Statement: &info.Statement,
		URI: info.URI, Version: "1", ChainID: "eip155:84532", Type: "eip191", Nonce: info.Nonce, IssuedAt: info.IssuedAt,
		ExpirationTime: &info.ExpirationTime, Resources: info.Resources}
	msg, err := auth.SIWXMessage(p)
	if err != nil {
		b.Fatal(err)
	}
	digest := walletsig.TextHash([]byte(msg))
	sig, _ := crypto.Sign(digest[:], key)
	sig[64] += 27
	p.Signature = "0x" + hex.EncodeToString(sig)
	h := x402.EncodeSIWX(p)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Authenticate(context.Background(), h, ""); err != nil {
			b.Fatal(err)
		}
	}
}
