package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/golang-jwt/jwt/v5"
	"github.com/paymeter/paymeter/internal/meter"
)

// JWT users (docs/design.md §3): an app's signed-in users, whose identity
// provider (Privy and the like) issues ES256 JWTs. paymeter verifies them
// offline with the provider's public key; the user is a sub-principal of
// the configured app, which pays.

// DefaultJWTLeeway is the clock skew allowed on exp, nbf and iat.
const DefaultJWTLeeway = 10 * time.Second

// maxSubjectLen bounds a JWT's sub, which is written to the journal.
const maxSubjectLen = 256

// JWTVerifier verifies user JWTs and turns them into principals.
type JWTVerifier struct {
	Issuer, Audience string
	// Key is the identity provider's P-256 public key.
	Key *ecdsa.PublicKey
	// AppID is the app account that pays for its users' requests.
	AppID int64
	// Scopes are what every user may do.
	Scopes meter.Scopes
	// DailyCap, when positive, caps what each user spends per UTC day.
	DailyCap meter.Amount
	Leeway   time.Duration
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// ParseES256PublicKey reads a PEM "PUBLIC KEY" (SPKI) block holding a
// P-256 ECDSA key: the only key ES256 tokens verify with.
func ParseES256PublicKey(pemBytes []byte) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("not a PEM \"PUBLIC KEY\" block")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	ec, ok := key.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("public key: ES256 needs a P-256 ECDSA key")
	}
	return ec, nil
}

// IsJWTShaped reports whether s looks like a compact JWS: three base64url
// parts, the first a JSON object ("eyJ").
func IsJWTShaped(s string) bool {
	return strings.HasPrefix(s, "eyJ") && strings.Count(s, ".") == 2
}

// Authenticate verifies a user's JWT: signature by Key with ES256 and no
// other algorithm (so neither "none" nor an HS256 token keyed with the
// public key passes), issuer, audience, a required exp, nbf and iat, each
// within Leeway, and a subject. Any failure is invalid_token.
func (v *JWTVerifier) Authenticate(raw string) (*meter.Principal, error) {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	leeway := v.Leeway
	if leeway == 0 {
		leeway = DefaultJWTLeeway
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
		jwt.WithIssuer(v.Issuer),
		jwt.WithAudience(v.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
	)
	var claims jwt.RegisteredClaims
	_, err := parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		// WithValidMethods has refused every other alg; this is the
		// second lock on the same door.
		if t.Method != jwt.SigningMethodES256 {
			return nil, fmt.Errorf("unexpected alg %v", t.Header["alg"])
		}
		return v.Key, nil
	})
	if err != nil {
		code := meter.ECodeInvalidToken
		if jwtReason(err) == "expired" { // a real token, only old: not a guess
			code = meter.ECodeExpiredToken
		}
		return nil, meter.Errorf(code, "invalid JWT: %s", jwtReason(err))
	}
	sub := claims.Subject
	if sub == "" || len(sub) > maxSubjectLen || strings.IndexFunc(sub, func(r rune) bool { return !unicode.IsPrint(r) || r == ' ' }) >= 0 {
		return nil, meter.Errorf(meter.ECodeInvalidToken, "invalid JWT: sub must be 1 … %d printable characters", maxSubjectLen)
	}
	// A user never manages keys or administers, whatever the verifier was
	// given (configuration refuses it too): sessionForbidden is the same
	// rule for browsers' session tokens.
	p := &meter.Principal{Kind: meter.PrincipalUser, AccountID: v.AppID, Scopes: v.Scopes &^ sessionForbidden, Subject: "user:" + sub,
		Label: "user:" + sub}
	if v.DailyCap > 0 {
		day := now().UTC().Truncate(24 * time.Hour)
		p.Budget = &meter.Budget{Subject: p.Subject, Since: day, Cap: v.DailyCap}
	}
	return p, nil
}

// jwtReason names why a token failed, without echoing the token.
func jwtReason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "signature or algorithm refused (ES256 only)"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "a required claim (exp, iss or aud) is missing"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	}
	return "refused"
}
