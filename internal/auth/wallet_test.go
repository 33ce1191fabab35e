package auth_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
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
	"github.com/paymeter/paymeter/internal/sqlite"
)

// walletFixture is a verifier on a real ledger, with a movable clock.
type walletFixture struct {
	db     *sqlite.DB
	ledger *sqlite.Ledger
	v      *auth.WalletVerifier
	now    time.Time
}

func newWalletFixture(t *testing.T, path string) *walletFixture {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "wallet.db")
	}
	f := &walletFixture{db: sqlite.NewDB(path), now: time.UnixMilli(1767225600000)}
	if err := f.db.Open(); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.ledger, err = sqlite.NewLedger(f.db, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.close)
	f.v = auth.NewWalletVerifier(f.ledger)
	f.v.Now = func() time.Time { return f.now }
	return f
}

func (f *walletFixture) close() {
	if f.ledger != nil {
		f.ledger.Close()
		f.db.Close()
		f.ledger = nil
	}
}

// sign returns a request signed by key with personal_sign, V as 27/28.
func sign(t testing.TB, key *ecdsa.PrivateKey, realm string, ts int64, method, path, bodyHash string) *auth.WalletRequest {
	msg := auth.WalletMessage(realm, strconv.FormatInt(ts, 10), method, path, bodyHash)
	sig, err := crypto.Sign(accounts.TextHash([]byte(msg)), key)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	return &auth.WalletRequest{Address: crypto.PubkeyToAddress(key.PublicKey).Hex(), Timestamp: strconv.FormatInt(ts, 10),
		Signature: "0x" + hex.EncodeToString(sig), Method: method, Path: path}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The checked-in vector, signed with a published test key under the realm
// "Eliza Cloud", verifies: existing elizaOS clients work unchanged.
func TestWallet_ElizaCloudVector(t *testing.T) {
	var vec struct {
		PrivateKey, Address, Realm, Timestamp, Method, Path, Message, Signature string
	}
	b, err := os.ReadFile("../../testdata/wallet/eliza_cloud.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vec); err != nil {
		t.Fatal(err)
	}
	f := newWalletFixture(t, "")
	f.v.Realm = vec.Realm
	// Any case of the address is accepted.
	p, err := f.v.Authenticate(context.Background(), &auth.WalletRequest{Address: strings.ToLower(vec.Address),
		Timestamp: vec.Timestamp, Signature: vec.Signature, Method: vec.Method, Path: vec.Path})
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != meter.PrincipalWallet || p.Label != vec.Address || p.AccountID == 0 {
		t.Fatalf("principal=%+v, want wallet %s", p, vec.Address)
	}
	a, err := f.ledger.FindAccountByID(context.Background(), p.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != meter.AccountWallet || a.Address != vec.Address || a.Balance != 5*meter.Credit || a.FreeGranted != 5*meter.Credit {
		t.Fatalf("account=%+v, want a wallet account with the 5 free credits", a)
	}
	// The same vector under the default realm is someone else's message.
	f.v.Realm = auth.DefaultRealm
	_, err = f.v.Authenticate(context.Background(), &auth.WalletRequest{Address: vec.Address,
		Timestamp: vec.Timestamp, Signature: vec.Signature, Method: vec.Method, Path: vec.Path})
	if meter.ErrorCode(err) != meter.ECodeInvalidSignature {
		t.Fatalf("other realm err=%v, want invalid_signature", err)
	}
}

func TestWallet_Refusals(t *testing.T) {
	key, other := newKey(t), newKey(t)
	f := newWalletFixture(t, "")
	ts := f.now.UnixMilli()
	good := func() *auth.WalletRequest {
		return sign(t, key, auth.DefaultRealm, ts, "POST", "/v1/chat/completions", "")
	}
	highS := func() *auth.WalletRequest {
		r := good()
		sig, _ := hex.DecodeString(r.Signature[2:])
		n := crypto.S256().Params().N
		s := new(big.Int).Sub(n, new(big.Int).SetBytes(sig[32:64]))
		s.FillBytes(sig[32:64])
		sig[64] ^= 1 // 27 ↔ 28: the same signer, the malleated form
		r.Signature = "0x" + hex.EncodeToString(sig)
		return r
	}
	for _, tt := range []struct {
		name string
		req  func() *auth.WalletRequest
		code string
	}{
		{"bad address", func() *auth.WalletRequest { r := good(); r.Address = "0x1234"; return r }, meter.ECodeInvalidSignature},
		{"other signer", func() *auth.WalletRequest {
			r := sign(t, other, auth.DefaultRealm, ts, "POST", "/v1/chat/completions", "")
			r.Address = good().Address
			return r
		}, meter.ECodeInvalidSignature},
		{"other path", func() *auth.WalletRequest { r := good(); r.Path = "/v1/embeddings"; return r }, meter.ECodeInvalidSignature},
		{"other method", func() *auth.WalletRequest { r := good(); r.Method = "GET"; return r }, meter.ECodeInvalidSignature},
		{"short signature", func() *auth.WalletRequest { r := good(); r.Signature = r.Signature[:100]; return r }, meter.ECodeInvalidSignature},
		{"not hex", func() *auth.WalletRequest { r := good(); r.Signature = "0x" + strings.Repeat("zz", 65); return r }, meter.ECodeInvalidSignature},
		{"bad recovery id", func() *auth.WalletRequest { r := good(); r.Signature = r.Signature[:130] + "05"; return r }, meter.ECodeInvalidSignature},
		{"high s", highS, meter.ECodeInvalidSignature},
		{"timestamp not a number", func() *auth.WalletRequest { r := good(); r.Timestamp = "12e9"; return r }, meter.ECodeInvalidSignature},
		{"too old", func() *auth.WalletRequest {
			return sign(t, key, auth.DefaultRealm, ts-(5*time.Minute+time.Second).Milliseconds(), "POST", "/v1/chat/completions", "")
		}, meter.ECodeSignatureExpired},
		{"too far ahead", func() *auth.WalletRequest {
			return sign(t, key, auth.DefaultRealm, ts+(5*time.Minute+time.Second).Milliseconds(), "POST", "/v1/chat/completions", "")
		}, meter.ECodeSignatureExpired},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.v.Authenticate(context.Background(), tt.req())
			if got := meter.ErrorCode(err); got != tt.code {
				t.Fatalf("err=%v, want %s", err, tt.code)
			}
		})
	}
	// V as 0/1 is accepted as well as 27/28.
	r := good()
	sig, _ := hex.DecodeString(r.Signature[2:])
	sig[64] -= 27
	r.Signature = hex.EncodeToString(sig) // and without the 0x prefix
	if _, err := f.v.Authenticate(context.Background(), r); err != nil {
		t.Fatalf("V as 0/1 refused: %v", err)
	}
}

func TestWallet_BodyHash(t *testing.T) {
	key := newKey(t)
	f := newWalletFixture(t, "")
	ts := f.now.UnixMilli()
	body := []byte(`{"model":"demo-small"}`)
	hash := auth.PayloadHash("b=2&a=1", body)
	signed := func(bodyHash string) *auth.WalletRequest {
		ts++
		r := sign(t, key, auth.DefaultRealm, ts, "POST", "/v1/chat/completions", bodyHash)
		r.Query, r.Body = "a=1&b=2", body // the canonical query ignores parameter order
		return r
	}
	if _, err := f.v.Authenticate(context.Background(), signed(hash)); err != nil {
		t.Fatalf("five-line message refused: %v", err)
	}
	tampered := signed(hash)
	tampered.Body = []byte(`{"model":"demo-large"}`)
	if _, err := f.v.Authenticate(context.Background(), tampered); meter.ErrorCode(err) != meter.ECodeInvalidSignature {
		t.Fatalf("tampered body err=%v, want invalid_signature", err)
	}
	f.v.RequireBodyHash = true
	if _, err := f.v.Authenticate(context.Background(), signed("")); meter.ErrorCode(err) != meter.ECodeInvalidSignature {
		t.Fatalf("four-line message with require_body_hash err=%v, want invalid_signature", err)
	}
	if _, err := f.v.Authenticate(context.Background(), signed(hash)); err != nil {
		t.Fatalf("five-line message with require_body_hash refused: %v", err)
	}
}

// The same signed request sent 50 times at once is accepted once; after a
// restart it is still refused.
func TestWallet_ReplayOnceEvenAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "replay.db")
	f := newWalletFixture(t, path)
	req := sign(t, newKey(t), auth.DefaultRealm, f.now.UnixMilli(), "POST", "/v1/chat/completions", "")

	var accepted, replayed atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.v.Authenticate(context.Background(), req)
			switch meter.ErrorCode(err) {
			case "":
				accepted.Add(1)
			case meter.ECodeSignatureReplayed:
				replayed.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if accepted.Load() != 1 || replayed.Load() != 49 {
		t.Fatalf("accepted=%d replayed=%d, want 1 and 49", accepted.Load(), replayed.Load())
	}
	f.close()

	g := newWalletFixture(t, path)
	if _, err := g.v.Authenticate(context.Background(), req); meter.ErrorCode(err) != meter.ECodeSignatureReplayed {
		t.Fatalf("after restart err=%v, want signature_replayed", err)
	}
}

// 50 first requests of one new wallet, at once, create one account and
// grant the free credits once.
func TestWallet_FreeCreditsOnce(t *testing.T) {
	f := newWalletFixture(t, "")
	key := newKey(t)
	var wg sync.WaitGroup
	ids := make([]int64, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := sign(t, key, auth.DefaultRealm, f.now.UnixMilli()-int64(i), "POST", "/v1/chat/completions", "")
			p, err := f.v.Authenticate(context.Background(), r)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = p.AccountID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("accounts %d and %d for one wallet", ids[0], id)
		}
	}
	entries, err := f.ledger.FindEntries(context.Background(), meter.EntryFilter{AccountID: ids[0]})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Kind != meter.EntryGrant || entries[0].Amount != 5*meter.Credit {
		t.Fatalf("entries=%+v, want one grant of 5", entries)
	}
	if v, err := f.ledger.Verify(context.Background()); err != nil || len(v) > 0 {
		t.Fatalf("verify: %v %q", err, v)
	}
}

// FuzzWalletHeaders: any headers give a principal or a clean error with
// one of the wallet codes; nothing panics.
func FuzzWalletHeaders(f *testing.F) {
	f.Add("0x2c7536E3605D9C16a7a3D7b1898e529396a65c23", "1767225600000",
		"0xbb9c300731aa1470a9d6556412f1a1e882e1dec2c53952f1d03b37c81767d09c7922d1661c766ddc6251894c78c040a9f491f65cc786f2342dbb985f587902a91b")
	f.Add("", "", "")
	f.Add("0x0000000000000000000000000000000000000000", "99999999999999999", "0x"+strings.Repeat("00", 65))
	f.Add("2c7536E3605D9C16a7a3D7b1898e529396a65c23", "-1", "0X"+strings.Repeat("ff", 65))
	v := auth.NewWalletVerifier(acceptAll{})
	v.Now = func() time.Time { return time.UnixMilli(1767225600000) }
	f.Fuzz(func(t *testing.T, addr, ts, sig string) {
		p, err := v.Authenticate(context.Background(), &auth.WalletRequest{Address: addr, Timestamp: ts, Signature: sig, Method: "POST", Path: "/v1/chat/completions"})
		switch code := meter.ErrorCode(err); code {
		case "":
			if p == nil || p.Kind != meter.PrincipalWallet {
				t.Fatalf("no error and principal %+v", p)
			}
		case meter.ECodeInvalidSignature, meter.ECodeSignatureExpired:
		default:
			t.Fatalf("unexpected code %q (%v)", code, err)
		}
	})
}

// acceptAll is a WalletStore that accepts every message: for the fuzzer
// and the benchmark, which measure verification, not the ledger.
type acceptAll struct{}

func (acceptAll) AcceptWalletMessage(context.Context, string, [32]byte, time.Time, time.Time, meter.FreeGrant) (*meter.Account, error) {
	return &meter.Account{ID: 1, Kind: meter.AccountWallet}, nil
}

// BenchmarkWalletVerify is the per-request cost of checking wallet headers:
// parse, EIP-191 hash, secp256k1 recovery, compare (target ≤ 60 µs).
func BenchmarkWalletVerify(b *testing.B) {
	key := newKey(b)
	now := time.UnixMilli(1767225600000)
	req := sign(b, key, auth.DefaultRealm, now.UnixMilli(), "POST", "/v1/chat/completions", "")
	v := auth.NewWalletVerifier(acceptAll{})
	v.Now = func() time.Time { return now }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Authenticate(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// Free credits are counted per client address, an IPv6 address by its
// /64 and an IPv4-mapped one as IPv4; the count starts again the next UTC
// day. A wallet past the limit gets its account without credits.
func TestWallet_FreeCreditsPerClientPrefix(t *testing.T) {
	f := newWalletFixture(t, "")
	f.db.Now = func() time.Time { return f.now }
	first := func(client string) meter.Amount {
		t.Helper()
		r := sign(t, newKey(t), auth.DefaultRealm, f.now.UnixMilli(), "POST", "/v1/chat/completions", "")
		r.ClientIP = client
		p, err := f.v.Authenticate(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		a, err := f.ledger.FindAccountByID(context.Background(), p.AccountID)
		if err != nil {
			t.Fatal(err)
		}
		if a.FreeGranted != a.Balance {
			t.Fatalf("account %+v: balance is not the grant", a)
		}
		return a.FreeGranted
	}
	for i, tt := range []struct {
		client string
		want   meter.Amount
	}{
		{"2001:db8:1:2::1", 5 * meter.Credit},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", 5 * meter.Credit},
		{"2001:db8:1:2:abcd::9%eth0", 5 * meter.Credit},
		{"2001:db8:1:2::2", 0},                // the same /64, a fourth time
		{"2001:db8:1:3::1", 5 * meter.Credit}, // the next /64
		{"192.0.2.7", 5 * meter.Credit},
		{"::ffff:192.0.2.7", 5 * meter.Credit}, // the same IPv4 address
		{"192.0.2.7", 5 * meter.Credit},
		{"::ffff:192.0.2.7", 0},
		{"192.0.2.8", 5 * meter.Credit},
	} {
		if got := first(tt.client); got != tt.want {
			t.Fatalf("wallet %d from %s granted %s, want %s", i, tt.client, got, tt.want)
		}
	}
	f.now = f.now.Add(24 * time.Hour)
	if got := first("2001:db8:1:2::3"); got != 5*meter.Credit {
		t.Fatalf("the next day, granted %s, want 5", got)
	}
	if v, err := f.ledger.Verify(context.Background()); err != nil || len(v) > 0 {
		t.Fatalf("verify: %v %q", err, v)
	}
}
