package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
)

// jwtFixture is a throwaway identity provider: a P-256 key and a verifier
// that trusts it.
type jwtFixture struct {
	key    *ecdsa.PrivateKey
	pubPEM []byte
	v      *auth.JWTVerifier
	now    time.Time
}

func newJWTFixture(t testing.TB) *jwtFixture {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	f := &jwtFixture{key: key, pubPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	pub, err := auth.ParseES256PublicKey(f.pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	f.v = &auth.JWTVerifier{Issuer: "privy.io", Audience: "app-123", Key: pub, AppID: 7,
		Scopes: meter.DefaultKeyScopes, Now: func() time.Time { return f.now }}
	return f
}

// claims are valid claims for user did:privy:alice, changed by edit.
func (f *jwtFixture) claims(edit func(c jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{"iss": "privy.io", "aud": "app-123", "sub": "did:privy:alice",
		"iat": f.now.Add(-time.Minute).Unix(), "exp": f.now.Add(time.Hour).Unix()}
	if edit != nil {
		edit(c)
	}
	return c
}

func (f *jwtFixture) sign(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodES256, c).SignedString(f.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWT_Valid(t *testing.T) {
	f := newJWTFixture(t)
	f.v.DailyCap = 2 * meter.Credit
	tok := f.sign(t, f.claims(nil))
	if !auth.IsJWTShaped(tok) {
		t.Fatalf("%q is not JWT-shaped", tok)
	}
	p, err := f.v.Authenticate(tok)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != meter.PrincipalUser || p.AccountID != 7 || p.Subject != "user:did:privy:alice" || p.Scopes != meter.DefaultKeyScopes {
		t.Fatalf("principal %+v", p)
	}
	if b := p.Budget; b == nil || b.Cap != 2*meter.Credit || b.Subject != p.Subject || !b.Since.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("budget %+v, want 2 credits since the start of the UTC day", b)
	}
	// A list audience that contains ours, and a token just past exp but within the leeway, pass.
	if _, err := f.v.Authenticate(f.sign(t, f.claims(func(c jwt.MapClaims) { c["aud"] = []string{"other", "app-123"} }))); err != nil {
		t.Fatalf("audience list: %v", err)
	}
	if _, err := f.v.Authenticate(f.sign(t, f.claims(func(c jwt.MapClaims) { c["exp"] = f.now.Add(-5 * time.Second).Unix() }))); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
}

func TestJWT_Refused(t *testing.T) {
	f := newJWTFixture(t)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	valid := f.sign(t, f.claims(nil))
	for _, tt := range []struct {
		name, token, reason string
	}{
		{"expired", f.sign(t, f.claims(func(c jwt.MapClaims) { c["exp"] = f.now.Add(-time.Minute).Unix() })), "expired"},
		{"no exp", f.sign(t, f.claims(func(c jwt.MapClaims) { delete(c, "exp") })), "missing"},
		{"not yet valid", f.sign(t, f.claims(func(c jwt.MapClaims) { c["nbf"] = f.now.Add(time.Minute).Unix() })), "not valid yet"},
		{"issued in the future", f.sign(t, f.claims(func(c jwt.MapClaims) { c["iat"] = f.now.Add(time.Minute).Unix() })), "not valid yet"},
		{"wrong audience", f.sign(t, f.claims(func(c jwt.MapClaims) { c["aud"] = "app-999" })), "audience"},
		{"no audience", f.sign(t, f.claims(func(c jwt.MapClaims) { delete(c, "aud") })), "missing"},
		{"wrong issuer", f.sign(t, f.claims(func(c jwt.MapClaims) { c["iss"] = "evil.example" })), "issuer"},
		{"no subject", f.sign(t, f.claims(func(c jwt.MapClaims) { delete(c, "sub") })), "sub"},
		{"subject with a newline", f.sign(t, f.claims(func(c jwt.MapClaims) { c["sub"] = "a\nb" })), "sub"},
		{"signed by another key", func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodES256, f.claims(nil)).SignedString(other)
			return s
		}(), "signature"},
		// Algorithm confusion: an HS256 token whose HMAC key is the
		// public key's PEM, which a verifier trusting the header's alg
		// would accept.
		{"HS256 keyed with the public key", func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, f.claims(nil)).SignedString(f.pubPEM)
			return s
		}(), "ES256 only"},
		{"alg none", func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, f.claims(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
			return s
		}(), "ES256 only"},
		{"ES384", func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodES384, f.claims(nil)).SignedString(p384)
			return s
		}(), "ES256 only"},
		{"tampered payload", tamperPayload(t, valid), "signature"},
		{"malformed", "eyJhbGciOiJFUzI1NiJ9.not-base64!.x", "malformed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.v.Authenticate(tt.token)
			want := meter.ECodeInvalidToken
			if tt.name == "expired" {
				want = meter.ECodeExpiredToken
			}
			if meter.ErrorCode(err) != want || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("err=%v, want %s mentioning %q", err, want, tt.reason)
			}
			if strings.Contains(err.Error(), tt.token) {
				t.Fatal("the error repeats the token")
			}
		})
	}
}

// tamperPayload swaps the token's payload for one naming another user,
// keeping the original signature.
func tamperPayload(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	payload := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": "privy.io", "aud": "app-123",
		"sub": "did:privy:mallory", "exp": time.Now().Add(time.Hour).Unix()})
	forged, err := payload.SigningString()
	if err != nil {
		t.Fatal(err)
	}
	return forged + "." + parts[2]
}

func TestParseES256PublicKey(t *testing.T) {
	f := newJWTFixture(t)
	if _, err := auth.ParseES256PublicKey(f.pubPEM); err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	for name, in := range map[string][]byte{
		"P-384 key":   pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		"not PEM":     []byte("hello"),
		"private key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte{1}}),
	} {
		if _, err := auth.ParseES256PublicKey(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// BenchmarkJWTVerify is the cost a JWT user adds to each request: parse
// and verify one ES256 token offline.
func BenchmarkJWTVerify(b *testing.B) {
	f := newJWTFixture(b)
	f.now = time.Now()
	c := jwt.MapClaims{"iss": "privy.io", "aud": "app-123", "sub": "did:privy:alice", "iat": f.now.Unix(), "exp": f.now.Add(time.Hour).Unix()}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodES256, c).SignedString(f.key)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.v.Authenticate(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// A verifier configured, against validation, with keys or admin never
// gives them to a user.
func TestJWT_NeverKeysOrAdmin(t *testing.T) {
	f := newJWTFixture(t)
	f.v.Scopes = meter.AllScopes
	p, err := f.v.Authenticate(f.sign(t, f.claims(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if p.Scopes.Has(meter.ScopeKeys) || p.Scopes.Has(meter.ScopeAdmin) || !p.Scopes.Has(meter.ScopeChat) {
		t.Fatalf("scopes %s, want every scope but keys and admin", p.Scopes)
	}
}
