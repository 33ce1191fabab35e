package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/walletsig"
	"github.com/paymeter/paymeter/internal/x402"
)

// SIWXStore claims sign-in-with-x nonces: once each, durably (also after
// a restart), until `until`, and returns the signer's wallet account,
// creating it the first time the wallet is seen with the initial free
// credits, if their limits allow. A nonce claimed before is
// signature_replayed. issuedAt is the message's Issued At, which the
// nonce's tag binds to it.
type SIWXStore interface {
	AcceptSIWXNonce(ctx context.Context, nonce, address string, issuedAt, until time.Time, free meter.FreeGrant) (*meter.Account, error)
}

// SIWXScopes are what a sign-in-with-x proof may do: spend the wallet's
// balance on the proxy routes and read its account, never manage keys
// (its signature binds no request, docs/security.md).
const SIWXScopes = meter.DefaultKeyScopes

// SIWX authenticates requests that carry a sign-in-with-x proof (the x402
// extension): the wallet signed, with EIP-191 or as an EIP-1271 contract,
// the EIP-4361 message of a challenge that a 402 of this server issued.
// The challenge's nonce is paymeter's own: random bits and a tag (an HMAC
// under Key of those bits and the challenge's times), so that issuing one
// writes nothing and a nonce, or a time, that paymeter did not issue is
// refused before any signature is checked. A nonce is claimed once used.
type SIWX struct {
	Store SIWXStore
	// Key makes and checks the nonces' tags; kept in the database, so that
	// a challenge outlives a restart.
	Key []byte
	// Statement is the human-readable line of the message.
	Statement string
	// ChainIDs are the chains a message may name: the x402 networks'.
	ChainIDs []int64
	// TTL is how long a challenge stays valid after it is issued: its
	// expirationTime, and the oldest Issued At accepted.
	TTL time.Duration
	// FreeCredits are granted to a wallet's account when sign-in creates
	// it, within FreeLimits, as wallet headers grant them.
	FreeCredits meter.Amount
	FreeLimits  meter.FreeLimits
	// Contracts, if set, accepts the signatures of smart-contract wallets
	// (EIP-1271), asked on ContractChainID only, for messages that name it:
	// a wallet's owners are set chain by chain, and its balance here is
	// one, so the operator's chain decides, as for wallet headers and SIWE.
	Contracts       ContractWallets
	ContractChainID int64
	Now             func() time.Time

	// origin ("https://api.example.com") and domain ("api.example.com")
	// are what messages must name (SetOrigin).
	origin, domain string
}

// NewSIWX returns a SIWX with the defaults of docs/design.md §3.
func NewSIWX(store SIWXStore, key []byte) *SIWX {
	return &SIWX{Store: store, Key: key, Statement: "Sign in to paymeter to pay from this wallet's balance.",
		TTL: 5 * time.Minute, FreeCredits: 5 * meter.Credit, FreeLimits: DefaultFreeLimits, Now: time.Now}
}

// SetOrigin sets the public origin that messages must be bound to: its
// host (with a port other than the scheme's) is their domain, and their
// URI must be on it. It comes from configuration, never from a request's
// Host (docs/security.md).
func (s *SIWX) SetOrigin(origin string) error {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("sign-in-with-x origin %q is not an http(s) origin such as https://api.example.com", origin)
	}
	s.domain = originHost(u)
	s.origin = u.Scheme + "://" + s.domain
	return nil
}

// Origin is the origin messages are bound to; "" until SetOrigin.
func (s *SIWX) Origin() string { return s.origin }

// originHost is u's host as a browser's URL.host writes it: lower case,
// without the scheme's default port.
func originHost(u *url.URL) string {
	host := strings.ToLower(u.Host)
	if port := u.Port(); (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		host = strings.TrimSuffix(host, ":"+port)
	}
	return host
}

// siwxTime is how issued times are written: JavaScript's toISOString.
const siwxTime = "2006-01-02T15:04:05.000Z"

// Challenge issues the challenge of a 402 for the resource at path: a new
// nonce, now as issuedAt, and an expiry TTL later.
func (s *SIWX) Challenge(path string) x402.SIWXInfo {
	now := s.Now().UTC()
	issued, expires := now.Format(siwxTime), now.Add(s.TTL).Format(siwxTime)
	var random [8]byte
	rand.Read(random[:])
	uri := s.origin + path
	return x402.SIWXInfo{Domain: s.domain, URI: uri, Version: "1", Nonce: s.nonce(random, issued, expires),
		IssuedAt: issued, ExpirationTime: expires, Statement: s.Statement, Resources: []string{uri}}
}

// nonce is 32 hex digits, as the spec has them: 8 random bytes and 8 of
// their tag, which also binds the challenge's times.
func (s *SIWX) nonce(random [8]byte, issuedAt, expires string) string {
	mac := hmac.New(sha256.New, s.Key)
	mac.Write([]byte("paymeter sign-in-with-x nonce\x00"))
	mac.Write(random[:])
	mac.Write([]byte(issuedAt + "\x00" + expires))
	return hex.EncodeToString(append(random[:], mac.Sum(nil)[:8]...))
}

// issued reports whether paymeter issued nonce with these times.
func (s *SIWX) issued(nonce, issuedAt string, expires *string) bool {
	b, err := hex.DecodeString(nonce)
	if err != nil || len(b) != 16 || nonce != strings.ToLower(nonce) || expires == nil {
		return false
	}
	return hmac.Equal([]byte(s.nonce([8]byte(b[:8]), issuedAt, *expires)), []byte(nonce))
}

// Authenticate checks a SIGN-IN-WITH-X header and returns the principal
// of the wallet that signed it, whose balance pays: the header's form
// (invalid_siwx), its domain, URI, version and chain (invalid_siwx, with
// the reason), its times (signature_expired), its nonce (invalid_nonce),
// the signature over the message the fields make (invalid_signature),
// and only then, durably, that the nonce was not used before
// (signature_replayed). Any other error means the check itself failed.
func (s *SIWX) Authenticate(ctx context.Context, header, clientIP string) (*meter.Principal, error) {
	p, err := x402.DecodeSIWX(header)
	if err != nil {
		return nil, err
	}
	msg, err := SIWXMessage(p)
	if err != nil {
		return nil, err
	}
	chainID, _ := x402.ParseCAIP2(p.ChainID) // SIWXMessage has checked it
	addr := common.HexToAddress(p.Address)
	if err := s.check(p, chainID); err != nil {
		return nil, err
	}
	issuedAt, until, err := s.checkTimes(p)
	if err != nil {
		return nil, err
	}
	if !s.issued(p.Nonce, p.IssuedAt, p.ExpirationTime) {
		return nil, meter.Errorf(meter.ECodeInvalidNonce, "the nonce, with this issuedAt and expirationTime, is not one this server issued; sign the challenge of a new 402").
			WithDetail("reason", "invalid_siwx_nonce")
	}
	if err := s.verify(ctx, p, chainID, addr, msg); err != nil {
		return nil, err
	}
	free := meter.FreeGrant{Amount: s.FreeCredits, Client: clientIP, FreeLimits: s.FreeLimits}
	label := p.Address
	if label == strings.ToLower(label) { // SIWXMessage took it in EIP-55 form or in lower case
		label = addr.Hex()
	}
	acct, err := s.Store.AcceptSIWXNonce(ctx, p.Nonce, label, issuedAt, until, free)
	if err != nil {
		return nil, err
	}
	return &meter.Principal{Kind: meter.PrincipalWallet, AccountID: acct.ID, Scopes: SIWXScopes, Label: label}, nil
}

// check binds the message to this server: its domain and URI to the
// configured origin (as the spec says: the URI's origin, any path), its
// version, its chain to one of the configured networks.
func (s *SIWX) check(p *x402.SIWXPayload, chainID int64) error {
	if p.Domain != s.domain {
		return x402.InvalidSIWX("invalid_siwx_domain_mismatch", "the message is for %q; this server is %q", clip(p.Domain), s.domain)
	}
	u, err := url.Parse(p.URI)
	if err != nil || u.User != nil || u.Opaque != "" || u.Scheme+"://"+originHost(u) != s.origin {
		return x402.InvalidSIWX("invalid_siwx_uri_mismatch", "URI %q is not on %s", clip(p.URI), s.origin)
	}
	if p.Version != "1" {
		return x402.InvalidSIWX("invalid_siwx_version", "version must be \"1\"")
	}
	if !slices.Contains(s.ChainIDs, chainID) {
		return x402.InvalidSIWX("invalid_siwx_chain_id", "chain %s is not accepted here (accepted: %v)", p.ChainID, s.ChainIDs)
	}
	return nil
}

// checkTimes applies Sign-In with Ethereum's rules (signin.go): issued no
// longer than TTL ago and no further than clockSkew ahead, not expired,
// not before its notBefore. It returns the Issued At, and until when the nonce's claim must
// be kept: while the proof could be accepted under this TTL or, after a
// restart, another one (its expirationTime, which the nonce binds).
func (s *SIWX) checkTimes(p *x402.SIWXPayload) (issued, until time.Time, err error) {
	parse := func(name, v string) (time.Time, error) {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return t, siwxPayloadErr("%s %q is not an RFC 3339 time", name, clip(v))
		}
		return t, nil
	}
	issued, err = parse("issuedAt", p.IssuedAt)
	if err != nil {
		return issued, until, err
	}
	expired := func(reason, format string, args ...any) error {
		return meter.Errorf(meter.ECodeSignatureExpired, format, args...).WithDetail("reason", reason)
	}
	now := s.Now()
	until = issued.Add(s.TTL)
	switch {
	case issued.Before(now.Add(-s.TTL)):
		return issued, until, expired("invalid_siwx_issued_at_too_old", "the message was issued more than %s ago", s.TTL)
	case issued.After(now.Add(clockSkew)):
		return issued, until, expired("invalid_siwx_issued_at_in_future", "the message's issuedAt is in the future")
	}
	if p.ExpirationTime != nil {
		t, err := parse("expirationTime", *p.ExpirationTime)
		if err != nil {
			return issued, until, err
		}
		if !now.Before(t) {
			return issued, until, expired("invalid_siwx_expired", "the message expired at %s", t.UTC().Format(time.RFC3339))
		}
		if t.After(until) {
			until = t
		}
	}
	if p.NotBefore != nil {
		t, err := parse("notBefore", *p.NotBefore)
		if err != nil {
			return issued, until, err
		}
		if now.Before(t) {
			return issued, until, expired("invalid_siwx_not_yet_valid", "the message is not valid before %s", t.UTC().Format(time.RFC3339))
		}
	}
	return issued, until, nil
}

// maxSIWXSignature bounds a contract wallet's signature (several owners'
// signatures, say); an EOA's is 65 bytes.
const maxSIWXSignature = 2048

// verify checks the signature of msg through walletsig: recovery, then,
// for a contract wallet, EIP-1271 with the signature as sent, when the
// message names ContractChainID.
func (s *SIWX) verify(ctx context.Context, p *x402.SIWXPayload, chainID int64, addr common.Address, msg string) error {
	bad := func(format string, args ...any) error {
		return meter.Errorf(meter.ECodeInvalidSignature, format, args...).WithDetail("reason", "invalid_siwx_signature")
	}
	h, ok := strings.CutPrefix(p.Signature, "0x")
	sig, err := hex.DecodeString(h)
	if !ok || err != nil || len(sig) < 65 || len(sig) > maxSIWXSignature {
		return bad("signature must be 0x and 65 to %d bytes in hex", maxSIWXSignature)
	}
	if s.Contracts == nil || chainID != s.ContractChainID {
		chainID = 0 // no chain asked: EOA recovery only
	}
	signed, err := (&walletsig.Verifier{Contracts: s.Contracts}).Verify(ctx, chainID, addr, walletsig.TextHash([]byte(msg)), sig)
	if err != nil {
		return err
	}
	if !signed {
		return bad("the signature is not %s's signature of the message", addr.Hex())
	}
	return nil
}
