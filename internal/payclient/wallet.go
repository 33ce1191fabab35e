package payclient

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
)

// Address is the payer's address.
func (c *Client) Address() common.Address { return crypto.PubkeyToAddress(c.Key.PublicKey) }

// personalSign signs msg with EIP-191 personal_sign, v as 27/28.
func (c *Client) personalSign(msg string) (string, error) {
	sig, err := crypto.Sign(accounts.TextHash([]byte(msg)), c.Key)
	if err != nil {
		return "", err
	}
	sig[64] += 27
	return "0x" + hex.EncodeToString(sig), nil
}

// SignWallet sets the wallet headers on req for body (docs/design.md §3):
// the five-line message, with Payload-SHA256 over the query and body.
// Every call signs a new message (a later timestamp): the server accepts
// each one once.
func (c *Client) SignWallet(req *http.Request, body []byte) error {
	if c.Key == nil {
		return errors.New("signing wallet headers needs the payer key")
	}
	if err := c.checkTransport(req.URL); err != nil {
		return err
	}
	c.mu.Lock()
	ts := max(c.now().UnixMilli(), c.lastTS+1)
	c.lastTS = ts
	c.mu.Unlock()
	stamp := strconv.FormatInt(ts, 10)
	msg := auth.WalletMessage(c.realm(), stamp, req.Method, req.URL.EscapedPath(), auth.PayloadHash(req.URL.RawQuery, body))
	sig, err := c.personalSign(msg)
	if err != nil {
		return fmt.Errorf("sign the wallet message: %w", err)
	}
	req.Header.Set(auth.HeaderWalletAddress, c.Address().Hex())
	req.Header.Set(auth.HeaderTimestamp, stamp)
	req.Header.Set(auth.HeaderWalletSignature, sig)
	return nil
}

// Account is an account as GET /api/v1/account shows it.
type Account struct {
	ID        int64        `json:"id"`
	Kind      string       `json:"kind"`
	Address   string       `json:"address"`
	Balance   meter.Amount `json:"balance"`
	Available meter.Amount `json:"available"`
	Held      meter.Amount `json:"held"`
}

// TopUpResult is a top-up paid and the wallet's balance after it.
type TopUpResult struct {
	Paid        *Requirement
	Transaction string // the settlement's transaction, from the answer
	Account     *Account
}

// maxAPIBody bounds an answer of paymeter's own API.
const maxAPIBody = 64 << 10

// TopUp buys amount credits for the payer's wallet: POST
// /api/v1/topup/{amount}, signed with wallet headers so that the signer
// is credited, its 402 paid (Max applies), then the wallet's account.
// Each attempt is signed anew, as a wallet message is accepted once.
func (c *Client) TopUp(ctx context.Context, base string, amount meter.Amount) (*TopUpResult, error) {
	u, err := endpoint(base, "/api/v1/topup/"+amount.String())
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return nil, err
	}
	res, err := c.do(ctx, req, nil, func(r *http.Request) error { return c.SignWallet(r, nil) })
	if err != nil {
		return nil, err
	}
	if res.Paid == nil {
		res.Response.Body.Close()
		return nil, errors.New("the top-up was answered without asking for a payment")
	}
	var out struct {
		Success     bool   `json:"success"`
		Transaction string `json:"transaction"`
	}
	if err := decodeAPI(res.Response, &out); err != nil {
		return nil, err
	}
	acct, err := c.Balance(ctx, base)
	if err != nil {
		return nil, fmt.Errorf("topped up (transaction %s), but the balance could not be read: %w", printable(out.Transaction, 80), err)
	}
	return &TopUpResult{Paid: res.Paid, Transaction: printable(out.Transaction, 80), Account: acct}, nil
}

// Balance reads the payer's wallet account: a wallet-signed GET
// /api/v1/account.
func (c *Client) Balance(ctx context.Context, base string) (*Account, error) {
	u, err := endpoint(base, "/api/v1/account")
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if err := c.SignWallet(req, nil); err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, req, nil)
	if err != nil {
		return nil, err
	}
	var a Account
	if err := decodeAPI(resp, &a); err != nil {
		return nil, err
	}
	a.Kind, a.Address = printable(a.Kind, 32), printable(a.Address, 64)
	return &a, nil
}

// SignInResult is what Sign-In with Ethereum gives: an API key for the
// wallet's account.
type SignInResult struct {
	APIKey       string  `json:"apiKey"`
	Address      string  `json:"address"`
	IsNewAccount bool    `json:"isNewAccount"`
	Account      Account `json:"account"`
}

// SignIn signs in with Ethereum (EIP-4361): it fetches a nonce, signs the
// message the server describes and exchanges it for an API key. The
// message must name base's own host: a server asking to sign for another
// site (a phished sign-in) is refused before anything is signed.
func (c *Client) SignIn(ctx context.Context, base string) (*SignInResult, error) {
	if c.Key == nil {
		return nil, errors.New("signing in needs the payer key")
	}
	u, err := endpoint(base, "/api/auth/siwe/nonce")
	if err != nil {
		return nil, err
	}
	if b, _ := url.Parse(u); c.checkTransport(b) != nil {
		return nil, c.checkTransport(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, req, nil)
	if err != nil {
		return nil, err
	}
	var n auth.NonceResponse
	if err := decodeAPI(resp, &n); err != nil {
		return nil, err
	}
	msg, err := c.siweMessage(base, &n)
	if err != nil {
		return nil, err
	}
	sig, err := c.personalSign(msg)
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(map[string]string{"message": msg, "signature": sig})
	u, _ = endpoint(base, "/api/auth/siwe/verify")
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if resp, err = c.send(ctx, req, body); err != nil {
		return nil, err
	}
	var out SignInResult
	if err := decodeAPI(resp, &out); err != nil {
		return nil, err
	}
	if out.APIKey == "" || len(out.APIKey) > 200 {
		return nil, errors.New("the sign-in answer carries no API key")
	}
	out.APIKey, out.Address = printable(out.APIKey, 200), printable(out.Address, 64)
	return &out, nil
}

// siweMessage builds the EIP-4361 message a nonce answer describes,
// checked: it must parse back to the same fields (no line smuggled in by
// the server) and name base's host.
func (c *Client) siweMessage(base string, n *auth.NonceResponse) (string, error) {
	b, _ := url.Parse(base)
	uri, err := url.Parse(n.URI)
	if err != nil || n.Domain != b.Host || uri.Host != b.Host || uri.Scheme != b.Scheme {
		return "", fmt.Errorf("the server asks to sign in to %q (%q), not to %s; nothing was signed",
			printable(n.Domain, 100), printable(n.URI, 200), b.Host)
	}
	m := &auth.SIWEMessage{Domain: n.Domain, Address: c.Address(), Statement: n.Statement, URI: n.URI,
		Version: n.Version, ChainID: n.ChainID, Nonce: n.Nonce, IssuedAt: c.now().UTC().Truncate(time.Second)}
	msg := m.String()
	parsed, err := auth.ParseSIWE(msg)
	if err != nil {
		return "", fmt.Errorf("the server's sign-in parameters do not make a valid message: %s", printable(err.Error(), 200))
	}
	if parsed.String() != msg || parsed.Statement != n.Statement || parsed.Nonce != n.Nonce || parsed.Version != "1" {
		return "", errors.New("the server's sign-in parameters do not make a valid message; nothing was signed")
	}
	return msg, nil
}

// endpoint joins base (scheme://host[:port]) and path.
func endpoint(base, path string) (string, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--url %q is not an http(s) base URL", base)
	}
	return u.String() + path, nil
}

// decodeAPI decodes a 2xx JSON answer into v; any other is an *HTTPError.
func decodeAPI(resp *http.Response, v any) error {
	defer resp.Body.Close()
	b, err := readBounded(resp.Body, maxAPIBody)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		code, msg := ErrorFields(b)
		return &HTTPError{Status: resp.StatusCode, Code: code, Message: msg}
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("the answer is not the JSON expected: %s", printable(err.Error(), 200))
	}
	return nil
}
