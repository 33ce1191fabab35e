package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/walletsig"
)

// Wallet request headers (docs/design.md §3).
const (
	HeaderWalletAddress   = "X-Wallet-Address"
	HeaderTimestamp       = "X-Timestamp"
	HeaderWalletSignature = "X-Wallet-Signature"
)

// DefaultRealm is the first word of the signed message; "Eliza Cloud"
// makes existing elizaOS clients work unchanged.
const DefaultRealm = "Paymeter"

// WalletScopes are what a wallet signing its own requests may do.
const WalletScopes = meter.DefaultKeyScopes | meter.Scopes(meter.ScopeKeys)

// WalletRequest is what a signed wallet request presents.
type WalletRequest struct {
	Address, Timestamp, Signature string // the three headers, as sent
	Method                        string
	Path                          string // the escaped path, as sent, without the query
	Query                         string // the raw query string
	Body                          []byte
	// NoFreeCredits creates a new wallet's account without the initial
	// free credits: for a top-up, whose wallet is created by the payment.
	NoFreeCredits bool
	// ClientIP is the address the request came from: free credits are
	// limited per client address.
	ClientIP string
}

// WalletStore accepts verified wallet messages: it claims each message,
// by its signer and its hash, until it expires, so that a message is
// accepted once, durably (also after a restart), and returns the wallet's
// account, creating it the first time the wallet is seen with the initial
// free credits, if their limits allow. signedAt is the time the message
// names (X-Timestamp), which its hash covers.
type WalletStore interface {
	AcceptWalletMessage(ctx context.Context, address string, hash [32]byte, signedAt, until time.Time, free meter.FreeGrant) (*meter.Account, error)
}

// ContractWallets checks EIP-1271 signatures: a smart-contract wallet
// signs by saying so when asked isValidSignature(digest, signature) on
// the chain chainID.
type ContractWallets = walletsig.Contracts

// WalletVerifier authenticates requests signed with EIP-191 personal_sign:
//
//	<Realm> Authentication
//	Timestamp: <X-Timestamp>
//	Method: <METHOD>
//	Path: <escaped path>
//	Payload-SHA256: <hex sha256 of canonical query + "\n" + body>   (optional fifth line)
type WalletVerifier struct {
	Store WalletStore
	// Realm starts the signed message.
	Realm string
	// Window is how old a timestamp may be; FutureSkew how far ahead of
	// this server's clock it may be.
	Window, FutureSkew time.Duration
	// RequireBodyHash refuses messages without the Payload-SHA256 line.
	RequireBodyHash bool
	// FreeCredits are granted to a wallet's account when it is created,
	// within FreeLimits.
	FreeCredits meter.Amount
	FreeLimits  meter.FreeLimits
	// Contracts, if set, accepts signatures of smart-contract wallets
	// (EIP-1271) that the signature does not recover to, asked on the one
	// chain ContractChainID (0: none).
	Contracts       ContractWallets
	ContractChainID int64
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// NewWalletVerifier returns a verifier with the defaults of docs/design.md §3.
func NewWalletVerifier(store WalletStore) *WalletVerifier {
	return &WalletVerifier{Store: store, Realm: DefaultRealm, Window: 5 * time.Minute, FutureSkew: 5 * time.Minute,
		FreeCredits: 5 * meter.Credit, FreeLimits: DefaultFreeLimits, Now: time.Now}
}

// DefaultFreeLimits are the default limits of initial free credits: 3 new
// wallets per client address and 100 credits in all per UTC day.
var DefaultFreeLimits = meter.FreeLimits{PerClientPerDay: 3, DailyBudget: 100 * meter.Credit}

// maxTimestampLen bounds X-Timestamp: Unix milliseconds have 13 digits
// until the year 2286.
const maxTimestampLen = 16

// Authenticate verifies a signed wallet request and returns its principal.
// A bad signature, a stale or future timestamp and a replay are
// *meter.Error (invalid_signature, signature_expired, signature_replayed);
// any other error means the check itself failed.
func (v *WalletVerifier) Authenticate(ctx context.Context, r *WalletRequest) (*meter.Principal, error) {
	if !common.IsHexAddress(r.Address) {
		return nil, meter.Errorf(meter.ECodeInvalidSignature, "%s is not an Ethereum address", HeaderWalletAddress)
	}
	claimed := common.HexToAddress(r.Address)
	ts, err := parseTimestamp(r.Timestamp)
	if err != nil {
		return nil, err
	}
	now := v.Now()
	signedAt := time.UnixMilli(ts)
	if signedAt.Before(now.Add(-v.Window)) || signedAt.After(now.Add(v.FutureSkew)) {
		return nil, meter.Errorf(meter.ECodeSignatureExpired,
			"%s is outside the accepted window of %s around the server's time (%d)", HeaderTimestamp, v.Window, now.UnixMilli()).
			WithDetail("server_time", now.UnixMilli())
	}
	sig, err := decodeSignature(r.Signature)
	if err != nil {
		return nil, err
	}
	hash, ok, err := v.match(ctx, r, sig, claimed)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, meter.Errorf(meter.ECodeInvalidSignature, "the signature does not match %s and this request", HeaderWalletAddress)
	}
	// The message, not the signature, is remembered: a signature has a
	// second valid form (s ↦ n−s), the message has one hash.
	free := meter.FreeGrant{Amount: v.FreeCredits, Client: r.ClientIP, FreeLimits: v.FreeLimits}
	if r.NoFreeCredits {
		free.Amount = 0
	}
	acct, err := v.Store.AcceptWalletMessage(ctx, claimed.Hex(), hash, signedAt, signedAt.Add(v.Window), free)
	if err != nil {
		return nil, err
	}
	return &meter.Principal{Kind: meter.PrincipalWallet, AccountID: acct.ID, Scopes: WalletScopes, Label: claimed.Hex()}, nil
}

// WalletMessage is the text a wallet signs for one request: four lines,
// or five when payloadHash (see PayloadHash) is given.
func WalletMessage(realm, timestamp, method, path, payloadHash string) string {
	msg := realm + " Authentication\nTimestamp: " + timestamp + "\nMethod: " + strings.ToUpper(method) + "\nPath: " + path
	if payloadHash != "" {
		msg += "\nPayload-SHA256: " + payloadHash
	}
	return msg
}

// match reports which message hash, of the four-line message and then
// the five-line one, claimed signed. Each is built only when the one
// before did not recover to claimed (most clients sign one form: the
// other costs nothing then). Only once neither recovers to it, with
// Contracts set, may a claimed address that is a contract wallet accept
// either message itself (EIP-1271): the one check that costs a chain
// round trip comes after every one that does not.
func (v *WalletVerifier) match(ctx context.Context, r *WalletRequest, sig []byte, claimed common.Address) ([32]byte, bool, error) {
	var hashes [2][32]byte
	n := 0
	recovered := func(msg string) bool {
		hashes[n] = walletsig.TextHash([]byte(msg))
		n++
		signer, err := walletsig.Recover(hashes[n-1], sig)
		return err == nil && signer == claimed
	}
	if !v.RequireBodyHash && recovered(WalletMessage(v.Realm, r.Timestamp, r.Method, r.Path, "")) {
		return hashes[0], true, nil
	}
	if recovered(WalletMessage(v.Realm, r.Timestamp, r.Method, r.Path, PayloadHash(r.Query, r.Body))) {
		return hashes[n-1], true, nil
	}
	chainID := v.ContractChainID
	if v.Contracts == nil {
		chainID = 0
	}
	i, err := (&walletsig.Verifier{Contracts: v.Contracts}).AskContract(ctx, chainID, claimed, sig, hashes[:n]...)
	if err != nil || i < 0 {
		return [32]byte{}, false, err
	}
	return hashes[i], true, nil
}

// PayloadHash is the hex SHA-256 of the canonical query and the body: the
// query's parameters sorted by name (then value) and percent-encoded as by
// url.Values.Encode, a newline, then the body bytes.
func PayloadHash(rawQuery string, body []byte) string {
	h := sha256.New()
	if rawQuery != "" {
		if q, err := url.ParseQuery(rawQuery); err == nil {
			h.Write([]byte(q.Encode()))
		} else {
			h.Write([]byte(rawQuery)) // unparseable: bound as sent
		}
	}
	h.Write([]byte{'\n'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func parseTimestamp(s string) (int64, error) {
	if s == "" || len(s) > maxTimestampLen {
		return 0, meter.Errorf(meter.ECodeInvalidSignature, "%s must be Unix milliseconds", HeaderTimestamp)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, meter.Errorf(meter.ECodeInvalidSignature, "%s must be Unix milliseconds", HeaderTimestamp)
		}
	}
	ts, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, meter.Errorf(meter.ECodeInvalidSignature, "%s must be Unix milliseconds", HeaderTimestamp)
	}
	return ts, nil
}

// decodeSignature decodes a 65-byte r‖s‖v signature in hex, v 27/28
// (personal_sign) or 0/1, low s (walletsig.ParseHex), so that each
// message has one valid signature.
func decodeSignature(s string) ([]byte, error) {
	sig, err := walletsig.ParseHex(s)
	if err != nil {
		return nil, meter.Errorf(meter.ECodeInvalidSignature, "%s %v", HeaderWalletSignature, err)
	}
	return sig, nil
}
