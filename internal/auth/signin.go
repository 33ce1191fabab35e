package auth

import (
	"context"
	"crypto/rand"
	"net/url"
	"slices"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/walletsig"
)

// NonceStore keeps Sign-In with Ethereum nonces: single use, short-lived.
type NonceStore interface {
	CreateNonce(ctx context.Context, nonce string, expires time.Time) error
	// ConsumeNonce deletes an unexpired nonce atomically; false if there
	// was none.
	ConsumeNonce(ctx context.Context, nonce string, now time.Time) (bool, error)
}

// WalletAccounts finds or creates wallets' accounts, a new one with the
// initial free credits if their limits allow.
type WalletAccounts interface {
	EnsureWallet(ctx context.Context, address string, free meter.FreeGrant) (*meter.Account, bool, error)
}

// SignIn implements Sign-In with Ethereum (EIP-4361): a nonce, a message
// the wallet signs, and in exchange a new API key for the wallet's account.
type SignIn struct {
	Nonces   NonceStore
	Accounts WalletAccounts
	Keys     meter.KeyStore
	// Domain and URI are what messages must name: this site's authority
	// and origin. Binding the message to the site is what stops a signature
	// phished for another site from signing in here, so they come from
	// configuration, never from the request.
	Domain, URI string
	ChainIDs    []int64
	Statement   string
	// NonceTTL is how long a nonce, and a message's Issued At, stay valid.
	NonceTTL time.Duration
	// FreeCredits are granted to a wallet's account when sign-in creates
	// it, within FreeLimits.
	FreeCredits meter.Amount
	FreeLimits  meter.FreeLimits
	// Contracts, if set, accepts signatures of smart-contract wallets
	// (EIP-1271) in messages for the one chain ContractChainID (0: none).
	Contracts       ContractWallets
	ContractChainID int64
	Now             func() time.Time
}

// NewSignIn returns a SignIn with the defaults of docs/design.md §3.
func NewSignIn(nonces NonceStore, accounts WalletAccounts, keys meter.KeyStore) *SignIn {
	return &SignIn{Nonces: nonces, Accounts: accounts, Keys: keys, ChainIDs: []int64{1, 8453, 84532},
		Statement: "Sign in to paymeter to get an API key for this wallet.", NonceTTL: 5 * time.Minute,
		FreeCredits: 5 * meter.Credit, FreeLimits: DefaultFreeLimits, Now: time.Now}
}

// NonceResponse is the body of GET /api/auth/siwe/nonce.
type NonceResponse struct {
	Nonce     string `json:"nonce"`
	Domain    string `json:"domain"`
	URI       string `json:"uri"`
	ChainID   int64  `json:"chainId"`
	Version   string `json:"version"`
	Statement string `json:"statement"`
}

// nonceLen is the length of issued nonces: 24 base62 characters, ~143 bits.
const nonceLen = 24

// NewNonce issues a nonce and says what the message to sign must contain.
func (s *SignIn) NewNonce(ctx context.Context) (*NonceResponse, error) {
	b := make([]byte, nonceLen)
	rand.Read(b)
	for i := range b {
		b[i] = base62Alphabet[int(b[i])%len(base62Alphabet)] // 256 % 62 bias: ~0.3 bits lost of 143
	}
	if err := s.Nonces.CreateNonce(ctx, string(b), s.Now().Add(s.NonceTTL)); err != nil {
		return nil, err
	}
	return &NonceResponse{Nonce: string(b), Domain: s.Domain, URI: s.URI, ChainID: s.ChainIDs[0], Version: "1", Statement: s.Statement}, nil
}

// SignInResult is the body of a successful POST /api/auth/siwe/verify.
type SignInResult struct {
	APIKey       string
	Address      string
	IsNewAccount bool
	Account      *meter.Account
}

// Verify checks a signed message — its form, its domain and URI, version,
// chain, times, signature over the raw bytes received — then consumes its
// nonce (only now, so that a bad signature cannot burn a nonce) and issues
// a new API key for the wallet's account, creating the account (with its
// free credits, counted against clientIP) on first sign-in.
func (s *SignIn) Verify(ctx context.Context, message, signature, clientIP string) (*SignInResult, error) {
	m, err := ParseSIWE(message)
	if err != nil {
		return nil, err
	}
	if err := s.check(m); err != nil {
		return nil, err
	}
	sig, err := decodeSignature(signature)
	if err != nil {
		return nil, meter.Errorf(meter.ECodeInvalidSignature, "the signature must be 65 bytes in hex, low-s")
	}
	// Contract wallets answer only for messages of the one chain asked.
	chainID := int64(0)
	if s.Contracts != nil && s.ContractChainID != 0 && m.ChainID == s.ContractChainID {
		chainID = m.ChainID
	}
	signed, err := (&walletsig.Verifier{Contracts: s.Contracts}).Verify(ctx, chainID, m.Address, walletsig.TextHash([]byte(message)), sig)
	if err != nil {
		return nil, err
	}
	if !signed {
		return nil, meter.Errorf(meter.ECodeInvalidSignature, "the signature is not %s's signature of this message", m.Address.Hex())
	}
	ok, err := s.Nonces.ConsumeNonce(ctx, m.Nonce, s.Now())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, meter.Errorf(meter.ECodeInvalidNonce, "the nonce is unknown, expired or already used; get a new one")
	}
	free := meter.FreeGrant{Amount: s.FreeCredits, Client: clientIP, FreeLimits: s.FreeLimits}
	acct, created, err := s.Accounts.EnsureWallet(ctx, m.Address.Hex(), free)
	if err != nil {
		return nil, err
	}
	key, err := IssueKey(ctx, s.Keys, &meter.Key{AccountID: acct.ID, Name: "siwe", Scopes: WalletScopes}, false)
	if err != nil {
		return nil, err
	}
	return &SignInResult{APIKey: key, Address: m.Address.Hex(), IsNewAccount: created, Account: acct}, nil
}

// clockSkew is how far in the future a message's Issued At may be.
const clockSkew = time.Minute

func (s *SignIn) check(m *SIWEMessage) error {
	domain, uri := s.Domain, s.URI
	if m.Domain != domain {
		return siweErr("the message is for %q; this server is %q", m.Domain, domain)
	}
	want, err := url.Parse(uri)
	if err != nil {
		return err
	}
	if m.Scheme != "" && m.Scheme != want.Scheme {
		return siweErr("the message is for scheme %q; this server uses %q", m.Scheme, want.Scheme)
	}
	got, err := url.Parse(m.URI)
	if err != nil || got.Scheme != want.Scheme || got.Host != want.Host {
		return siweErr("URI %q is not on %s", m.URI, uri)
	}
	if m.Version != "1" {
		return siweErr("Version must be 1")
	}
	if !slices.Contains(s.ChainIDs, m.ChainID) {
		return siweErr("Chain ID %d is not accepted (accepted: %v)", m.ChainID, s.ChainIDs)
	}
	now := s.Now()
	switch {
	case m.IssuedAt.Before(now.Add(-s.NonceTTL)):
		return meter.Errorf(meter.ECodeSignatureExpired, "the message was issued more than %s ago", s.NonceTTL)
	case m.IssuedAt.After(now.Add(clockSkew)):
		return meter.Errorf(meter.ECodeSignatureExpired, "the message's Issued At is in the future")
	case !m.ExpirationTime.IsZero() && !now.Before(m.ExpirationTime):
		return meter.Errorf(meter.ECodeSignatureExpired, "the message expired at %s", m.ExpirationTime.Format(time.RFC3339))
	case !m.NotBefore.IsZero() && now.Before(m.NotBefore):
		return meter.Errorf(meter.ECodeSignatureExpired, "the message is not valid before %s", m.NotBefore.Format(time.RFC3339))
	}
	return nil
}
