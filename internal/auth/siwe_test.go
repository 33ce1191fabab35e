package auth_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/sqlite"
)

func TestParseSIWE_Fixtures(t *testing.T) {
	for _, tt := range []struct {
		file      string
		statement string
		chain     int64
		resources int
		scheme    string
	}{
		{"viem_with_statement.txt", "Sign in to paymeter to get an API key for this wallet.", 84532, 0, ""},
		{"no_statement_viem_layout.txt", "", 1, 2, "https"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("../../testdata/siwe", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			m, err := auth.ParseSIWE(string(b))
			if err != nil {
				t.Fatal(err)
			}
			if m.Statement != tt.statement || m.ChainID != tt.chain || len(m.Resources) != tt.resources || m.Scheme != tt.scheme ||
				m.Address != common.HexToAddress("0x2c7536E3605D9C16a7a3D7b1898e529396a65c23") || m.Version != "1" || m.IssuedAt.IsZero() {
				t.Fatalf("parsed %+v", m)
			}
			// Our own layout parses back to the same message.
			again, err := auth.ParseSIWE(m.String())
			if err != nil || !reflect.DeepEqual(again, m) {
				t.Fatalf("round trip: %v\n%+v\n%+v", err, again, m)
			}
		})
	}
}

func TestParseSIWE_Refusals(t *testing.T) {
	b, err := os.ReadFile("../../testdata/siwe/viem_with_statement.txt")
	if err != nil {
		t.Fatal(err)
	}
	good := string(b)
	for _, tt := range []struct{ name, msg, want string }{
		{"empty", "", "line 1"},
		{"no header", strings.Replace(good, " wants you to sign in", " would like you to sign in", 1), "line 1"},
		{"lowercase address", strings.Replace(good, "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23", "0x2c7536e3605d9c16a7a3d7b1898e529396a65c23", 1), "EIP-55"},
		{"bad address", strings.Replace(good, "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23", "0x2c75", 1), "line 2"},
		{"reordered", strings.Replace(good, "Version: 1\nChain ID: 84532", "Chain ID: 84532\nVersion: 1", 1), "Version"},
		{"missing nonce", strings.Replace(good, "Nonce: abcdefGHIJKL01234567mnop\n", "", 1), "Nonce"},
		{"short nonce", strings.Replace(good, "abcdefGHIJKL01234567mnop", "abc", 1), "Nonce"},
		{"nonce with symbols", strings.Replace(good, "abcdefGHIJKL01234567mnop", "abcdefGH-JKL01234567mnop", 1), "Nonce"},
		{"bad time", strings.Replace(good, "2026-01-01T00:00:00.000Z", "yesterday", 1), "RFC 3339"},
		{"trailing text", good + "\nP.S. hello", "unexpected"},
		{"CRLF", strings.ReplaceAll(good, "\n", "\r\n"), "carriage return"},
		{"chain id zero", strings.Replace(good, "Chain ID: 84532", "Chain ID: 0", 1), "Chain ID"},
		{"huge", good + strings.Repeat("x", 5000), "longer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth.ParseSIWE(tt.msg)
			if meter.ErrorCode(err) != meter.ECodeBadRequest || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err=%v, want bad_request mentioning %q", err, tt.want)
			}
		})
	}
}

// FuzzParseSIWE: no input panics; an error is a bad_request; a message
// that parses writes back to one that parses the same.
func FuzzParseSIWE(f *testing.F) {
	for _, name := range []string{"viem_with_statement.txt", "no_statement_viem_layout.txt"} {
		b, err := os.ReadFile(filepath.Join("../../testdata/siwe", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("a wants you to sign in with your Ethereum account:\n")
	f.Fuzz(func(t *testing.T, msg string) {
		m, err := auth.ParseSIWE(msg)
		if err != nil {
			if meter.ErrorCode(err) != meter.ECodeBadRequest {
				t.Fatalf("error %v is not a bad_request", err)
			}
			return
		}
		again, err := auth.ParseSIWE(m.String())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", m.String(), err)
		}
		if again.String() != m.String() {
			t.Fatalf("round trip changed the message:\n%q\n%q", m.String(), again.String())
		}
	})
}

// signInFixture is SignIn on a real database, with a movable clock.
type signInFixture struct {
	*walletFixture
	s    *auth.SignIn
	keys *sqlite.KeyStore
}

func newSignInFixture(t *testing.T) *signInFixture {
	w := newWalletFixture(t, "")
	f := &signInFixture{walletFixture: w, keys: sqlite.NewKeyStore(w.db)}
	f.s = auth.NewSignIn(sqlite.NewNonceStore(w.db), w.ledger, f.keys)
	f.s.Domain, f.s.URI = "localhost:8080", "http://localhost:8080"
	f.s.Now = func() time.Time { return w.now }
	return f
}

// message returns a message for a fresh nonce, as a client would build it
// from the nonce response.
func (f *signInFixture) message(t *testing.T, key *ecdsa.PrivateKey) *auth.SIWEMessage {
	n, err := f.s.NewNonce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Nonce) < 16 || n.Domain != "localhost:8080" || n.URI != "http://localhost:8080" || n.Version != "1" {
		t.Fatalf("nonce response %+v", n)
	}
	return &auth.SIWEMessage{Domain: n.Domain, Address: crypto.PubkeyToAddress(key.PublicKey), Statement: n.Statement,
		URI: n.URI, Version: n.Version, ChainID: n.ChainID, Nonce: n.Nonce, IssuedAt: f.now.UTC()}
}

func signText(t *testing.T, key *ecdsa.PrivateKey, msg string) string {
	sig, err := crypto.Sign(accounts.TextHash([]byte(msg)), key)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	return "0x" + hex.EncodeToString(sig)
}

func TestSignIn_Flow(t *testing.T) {
	f := newSignInFixture(t)
	ctx := context.Background()
	key := newKey(t)

	msg := f.message(t, key).String()
	r, err := f.s.Verify(ctx, msg, signText(t, key, msg), "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if !r.IsNewAccount || r.Address != crypto.PubkeyToAddress(key.PublicKey).Hex() || r.Account.Balance != 5*meter.Credit {
		t.Fatalf("first sign-in=%+v, want a new account with 5 free credits", r)
	}
	p, err := auth.NewKeyAuthenticator(f.keys).Authenticate(ctx, r.APIKey)
	if err != nil || p.AccountID != r.Account.ID {
		t.Fatalf("issued key: principal=%+v err=%v", p, err)
	}
	// The same message again: its nonce is spent.
	if _, err := f.s.Verify(ctx, msg, signText(t, key, msg), "192.0.2.1"); meter.ErrorCode(err) != meter.ECodeInvalidNonce {
		t.Fatalf("reused nonce err=%v, want invalid_nonce", err)
	}
	// A second sign-in: a new key, the same account, no second grant.
	msg2 := f.message(t, key).String()
	r2, err := f.s.Verify(ctx, msg2, signText(t, key, msg2), "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if r2.IsNewAccount || r2.Account.ID != r.Account.ID || r2.APIKey == r.APIKey || r2.Account.Balance != 5*meter.Credit {
		t.Fatalf("second sign-in=%+v, want the same account, a new key, still 5 credits", r2)
	}
}

func TestSignIn_Refusals(t *testing.T) {
	f := newSignInFixture(t)
	ctx := context.Background()
	key, other := newKey(t), newKey(t)

	// A bad signature does not burn the nonce.
	m := f.message(t, key)
	msg := m.String()
	if _, err := f.s.Verify(ctx, msg, signText(t, other, msg), "192.0.2.1"); meter.ErrorCode(err) != meter.ECodeInvalidSignature {
		t.Fatalf("other signer err=%v, want invalid_signature", err)
	}
	if _, err := f.s.Verify(ctx, msg, "0x1234", "192.0.2.1"); meter.ErrorCode(err) != meter.ECodeInvalidSignature {
		t.Fatalf("short signature err=%v, want invalid_signature", err)
	}
	if _, err := f.s.Verify(ctx, msg, signText(t, key, msg), "192.0.2.1"); err != nil {
		t.Fatalf("good signature after bad ones: %v", err)
	}

	for _, tt := range []struct {
		name   string
		change func(m *auth.SIWEMessage)
		code   string
	}{
		{"other domain", func(m *auth.SIWEMessage) { m.Domain = "evil.example" }, meter.ECodeBadRequest},
		{"other scheme", func(m *auth.SIWEMessage) { m.Scheme = "https" }, meter.ECodeBadRequest},
		{"other uri", func(m *auth.SIWEMessage) { m.URI = "http://evil.example/" }, meter.ECodeBadRequest},
		{"version 2", func(m *auth.SIWEMessage) { m.Version = "2" }, meter.ECodeBadRequest},
		{"chain not accepted", func(m *auth.SIWEMessage) { m.ChainID = 137 }, meter.ECodeBadRequest},
		{"issued too long ago", func(m *auth.SIWEMessage) { m.IssuedAt = f.now.Add(-6 * time.Minute) }, meter.ECodeSignatureExpired},
		{"issued in the future", func(m *auth.SIWEMessage) { m.IssuedAt = f.now.Add(2 * time.Minute) }, meter.ECodeSignatureExpired},
		{"expired", func(m *auth.SIWEMessage) { m.ExpirationTime = f.now.Add(-time.Second) }, meter.ECodeSignatureExpired},
		{"not yet valid", func(m *auth.SIWEMessage) { m.NotBefore = f.now.Add(time.Minute) }, meter.ECodeSignatureExpired},
		{"unknown nonce", func(m *auth.SIWEMessage) { m.Nonce = "UnknownNonce0123456789ab" }, meter.ECodeInvalidNonce},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := f.message(t, key)
			tt.change(m)
			msg := m.String()
			if _, err := f.s.Verify(ctx, msg, signText(t, key, msg), "192.0.2.1"); meter.ErrorCode(err) != tt.code {
				t.Fatalf("err=%v, want %s", err, tt.code)
			}
		})
	}
	// A nonce expires with its TTL.
	m = f.message(t, key)
	f.now = f.now.Add(f.s.NonceTTL)
	m.IssuedAt = f.now
	msg = m.String()
	if _, err := f.s.Verify(ctx, msg, signText(t, key, msg), "192.0.2.1"); meter.ErrorCode(err) != meter.ECodeInvalidNonce {
		t.Fatalf("expired nonce err=%v, want invalid_nonce", err)
	}
}
