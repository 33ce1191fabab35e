package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/paymeter/paymeter/internal/meter"
)

// identityProvider is a throwaway Privy-style issuer: a P-256 key whose
// public half paymeter is configured with.
type identityProvider struct {
	key    *ecdsa.PrivateKey
	pubPEM []byte
}

func newIdentityProvider(t *testing.T) *identityProvider {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return &identityProvider{key: key, pubPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})}
}

// token signs a user's token: valid for an hour unless edit says otherwise.
func (p *identityProvider) token(t *testing.T, sub string, edit func(jwt.MapClaims)) string {
	t.Helper()
	c := jwt.MapClaims{"iss": "https://auth.privy.io", "aud": "app-paymeter", "sub": sub,
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
	if edit != nil {
		edit(c)
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodES256, c).SignedString(p.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// jwtConfig is testConfig with JWT users paid for by a new app, created in
// the database before paymeter starts (as `paymeter apps create` would).
func jwtConfig(t *testing.T, upstreamURL string, idp *identityProvider, credits string) (*Config, int64) {
	t.Helper()
	cfg := testConfig(t, upstreamURL)
	db, l, err := openLedger(cfg.Database, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	app := &meter.Account{Kind: meter.AccountApp, Name: "privy app"}
	if err := l.CreateAccount(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Credit(context.Background(), app.ID, meter.EntryGrant, amt(t, credits), ""); err != nil {
		t.Fatal(err)
	}
	l.Close()
	db.Close()
	cfg.Auth.JWT = JWTConfig{Issuer: "https://auth.privy.io", Audience: "app-paymeter", PublicKey: string(idp.pubPEM),
		AppID: app.ID, Scopes: []string{"chat", "models"}, Leeway: Duration(5 * time.Second)}
	return cfg, app.ID
}

// JWT users: the app pays, the user is the subject of every usage entry,
// and a bad token in any of the ways a token can be bad is 401
// invalid_token.
func TestJWTUsers(t *testing.T) {
	up := newFixtureUpstream(t)
	idp := newIdentityProvider(t)
	cfg, appID := jwtConfig(t, up.URL(), idp, "1")
	m := MustRunMain(t, cfg)

	alice := idp.token(t, "did:privy:alice", nil)
	resp := post(t, m, "/v1/chat/completions", alice, helloChat)
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("chat as alice: %d %s", resp.StatusCode, body)
	}
	entries := usageEntries(t, m, appID)
	if len(entries) != 1 || entries[0].Subject != "user:did:privy:alice" || entries[0].Amount != -amt(t, "0.0000335") {
		t.Fatalf("usage entries %+v, want alice's one request on the app", entries)
	}
	// The user's scopes are the configured ones: chat and models.
	mustError(t, post(t, m, "/v1/embeddings", alice, `{"model":"demo-embed","input":"hi"}`), http.StatusForbidden, meter.ECodeInsufficientScope)
	mustError(t, post(t, m, "/api/v1/auth/session-token", alice, ""), http.StatusForbidden, meter.ECodeForbidden)
	mustError(t, post(t, m, "/api/v1/api-keys", alice, `{"name":"x"}`), http.StatusForbidden, meter.ECodeInsufficientScope)

	wrongKey := newIdentityProvider(t)
	for name, tok := range map[string]string{
		"expired":              idp.token(t, "did:privy:alice", func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }),
		"without exp":          idp.token(t, "did:privy:alice", func(c jwt.MapClaims) { delete(c, "exp") }),
		"wrong audience":       idp.token(t, "did:privy:alice", func(c jwt.MapClaims) { c["aud"] = "another-app" }),
		"wrong issuer":         idp.token(t, "did:privy:alice", func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }),
		"another issuer's key": wrongKey.token(t, "did:privy:alice", nil),
		"HS256 keyed with the public key": func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "https://auth.privy.io", "aud": "app-paymeter",
				"sub": "did:privy:mallory", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(idp.pubPEM)
			return s
		}(),
		"alg none": func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iss": "https://auth.privy.io", "aud": "app-paymeter",
				"sub": "did:privy:mallory", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
			return s
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			code := meter.ECodeInvalidToken
			if name == "expired" {
				code = meter.ECodeExpiredToken
			}
			e := mustError(t, post(t, m, "/v1/chat/completions", tok, helloChat), http.StatusUnauthorized, code)
			if strings.Contains(e.Error.Message, tok) {
				t.Fatal("the error repeats the token")
			}
		})
	}
	if n := len(usageEntries(t, m, appID)); n != 1 {
		t.Fatalf("usage entries=%d after refused tokens, want 1", n)
	}
	mustVerify(t, m)
}

// A per-user daily cap stops one user without stopping the others.
func TestJWTUsers_DailyCap(t *testing.T) {
	up := newFixtureUpstream(t)
	idp := newIdentityProvider(t)
	cfg, appID := jwtConfig(t, up.URL(), idp, "1")
	// Each request holds about 0.00008 (max_tokens 20) and costs 0.0000335.
	cfg.Auth.JWT.DailySpendCap = amt(t, "0.0002")
	m := MustRunMain(t, cfg)
	body := strings.Replace(helloChat, `"model"`, `"max_tokens":20,"model"`, 1)

	alice := idp.token(t, "did:privy:alice", nil)
	served := 0
	for ; served < 20; served++ {
		resp := post(t, m, "/v1/chat/completions", alice, body)
		if resp.StatusCode != http.StatusOK {
			e := mustError(t, resp, http.StatusForbidden, meter.ECodeSpendCapExceeded)
			if e.Error.Details["cap"] != "0.0002" {
				t.Fatalf("details %v, want the cap", e.Error.Details)
			}
			break
		}
		readAll(t, resp)
	}
	// The cap is held against worst cases: the fifth request's would pass it.
	if served != 4 {
		t.Fatalf("alice served %d requests, want 4 under a cap of 0.0002", served)
	}
	bob := idp.token(t, "did:privy:bob", nil)
	resp := post(t, m, "/v1/chat/completions", bob, body)
	if raw := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("bob: %d %s", resp.StatusCode, raw)
	}
	var alices meter.Amount
	for _, e := range usageEntries(t, m, appID) {
		if e.Subject == "user:did:privy:alice" {
			alices -= e.Amount
		}
	}
	if alices > amt(t, "0.0002") || alices != 4*amt(t, "0.0000335") {
		t.Fatalf("alice spent %s, want 4 requests' cost within the cap", alices)
	}
	mustVerify(t, m)
}

// The app that pays must exist: paymeter refuses to start otherwise.
func TestJWTUsers_UnknownApp(t *testing.T) {
	idp := newIdentityProvider(t)
	cfg, _ := jwtConfig(t, "http://127.0.0.1:1/v1", idp, "1")
	cfg.Auth.JWT.AppID = 999
	m := NewMain(cfg, discardLogger())
	err := m.Run(context.Background())
	if err == nil {
		m.Close()
		t.Fatal("started with a JWT app that does not exist")
	}
	if !strings.Contains(err.Error(), "auth.jwt.app_id") {
		t.Fatalf("err=%v, want it to name auth.jwt.app_id", err)
	}
}

// JWT users may never manage keys or administer: auth.jwt.scopes naming
// keys or admin is refused by name, and paymeter does not start.
func TestJWTUsers_ScopesNeverKeysOrAdmin(t *testing.T) {
	idp := newIdentityProvider(t)
	for _, scopes := range [][]string{{"chat", "keys"}, {"admin"}, {"chat", " keys "}} {
		cfg, _ := jwtConfig(t, "http://127.0.0.1:1/v1", idp, "1")
		cfg.Auth.JWT.Scopes = scopes
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), "auth.jwt.scopes") {
			t.Fatalf("scopes %q: err=%v, want one naming auth.jwt.scopes", scopes, err)
		}
		m := NewMain(cfg, discardLogger())
		if err := m.Run(context.Background()); err == nil {
			m.Close()
			t.Fatalf("started with JWT users holding %q", scopes)
		}
	}
}
