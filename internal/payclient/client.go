// Package payclient is the payer's side of paymeter: it pays a request's
// 402 with x402 (v2, else v1; upto when offered, else exact), signs
// requests with wallet headers or sign-in-with-x, tops a wallet up, and
// signs in with Ethereum. It is what `paymeter pay` runs
// (docs/design.md §5). The server it talks to may be hostile: everything
// read from it is bounded, a 402 is checked strictly before anything is
// signed, a price above Max is refused, and a command signs one payment
// at most.
package payclient

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// DefaultMax is the most a client pays for one request unless told.
const DefaultMax = meter.Credit

// MaxRequestBody bounds a request body buffered for replay.
const MaxRequestBody = 64 << 20

// Client pays for requests. Its zero value sends unpaid requests only.
type Client struct {
	// Key is the payer's key; nil refuses to pay.
	Key *ecdsa.PrivateKey
	// HTTP sends the requests; nil uses NewHTTPClient's.
	HTTP *http.Client
	// Max is the most one payment may cost (0: DefaultMax).
	Max meter.Amount
	// Realm starts wallet messages (empty: auth.DefaultRealm).
	Realm string
	// Version forces an x402 version, 1 or 2; 0 prefers v2.
	Version int
	// Scheme forces an x402 scheme, SchemeExact or SchemeUpto; "" or
	// SchemeAuto pays upto when a v2 402 offers it, else exact.
	Scheme string
	// Assets are tokens, besides each network's canonical USDC, that upto
	// may be paid in; their atomic units are counted as USDC's against Max.
	Assets []common.Address
	// Rand draws upto's Permit2 nonces; nil is crypto/rand.
	Rand io.Reader
	// InsecureHTTP signs over plain http to any host; without it, plain
	// http is signed for on loopback only (ErrCleartext).
	InsecureHTTP bool
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	mu     sync.Mutex
	lastTS int64 // the last wallet timestamp used: each message is new
}

// ErrNoKey is a 402 answered to a client without a payer key.
var ErrNoKey = errors.New("the server asks for a payment, but no payer key was given; nothing was signed")

// NewHTTPClient returns the client's default HTTP client: redirects are
// not followed (a payment header is never sent where the server points),
// and response headers are bounded.
func NewHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxResponseHeaderBytes = 64 << 10
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (c *Client) http() *http.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.HTTP == nil {
		c.HTTP = NewHTTPClient()
	}
	return c.HTTP
}

func (c *Client) max() meter.Amount {
	if c.Max <= 0 {
		return DefaultMax
	}
	return c.Max
}

func (c *Client) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func (c *Client) realm() string {
	if c.Realm == "" {
		return auth.DefaultRealm
	}
	return c.Realm
}

// Result is a request's final answer and what was paid for it.
type Result struct {
	// Response is the final answer; its body is the caller's to read
	// and close.
	Response *http.Response
	// Paid is the requirement paid; nil when the request was not paid.
	Paid *Requirement
	// Receipt is the decoded x402 receipt, nil without one; ReceiptErr
	// says why a receipt header could not be decoded.
	Receipt    *x402.SettleResponse
	ReceiptErr error
	// Charged is what an upto receipt says is settled, in USDC units;
	// HasCharged is false when it says nothing (a stream's: see Cost).
	Charged    meter.USDC
	HasCharged bool
	// SignedIn is the sign-in-with-x proof sent (DoSIWX), nil otherwise.
	SignedIn *SignedIn
}

// Cost is X-Paymeter-Cost: a header, or on a stream a trailer, known
// only once the body has been read to its end.
func (r *Result) Cost() (meter.Amount, bool) {
	v := r.Response.Header.Get("X-Paymeter-Cost")
	if v == "" && r.Response.Trailer != nil {
		v = r.Response.Trailer.Get("X-Paymeter-Cost")
	}
	if v == "" || len(v) > 32 {
		return 0, false
	}
	a, err := meter.ParseAmount(v)
	return a, err == nil
}

// Do sends req; on a 402 it pays one requirement of it (within Max) and
// sends req once more with the payment. Any other first answer is
// returned unpaid. Errors: *MalformedError (the 402 cannot be paid),
// *OverMaxError, *RejectedError (the server refused the payment); none
// of them leaves anything signed twice.
func (c *Client) Do(ctx context.Context, req *http.Request) (*Result, error) {
	body, err := bufferBody(req)
	if err != nil {
		return nil, err
	}
	return c.do(ctx, req, body, nil)
}

// DoWallet signs req with wallet headers and sends it: the wallet's
// balance pays. It never pays with x402.
func (c *Client) DoWallet(ctx context.Context, req *http.Request) (*Result, error) {
	body, err := bufferBody(req)
	if err != nil {
		return nil, err
	}
	if err := c.SignWallet(req, body); err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, req, body)
	if err != nil {
		return nil, err
	}
	return &Result{Response: resp}, nil
}

// do sends req (signing each attempt with sign, if set) and pays its 402.
func (c *Client) do(ctx context.Context, req *http.Request, body []byte, sign func(*http.Request) error) (*Result, error) {
	if sign != nil {
		if err := sign(req); err != nil {
			return nil, err
		}
	}
	resp, err := c.send(ctx, req, body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusPaymentRequired {
		return &Result{Response: resp}, nil
	}
	errBody, err := readBounded(resp.Body, maxErrorBody)
	resp.Body.Close()
	if err != nil {
		return nil, &MalformedError{Reason: err.Error()}
	}
	r, err := c.pick(parseOffer(resp.Header, errBody))
	if err != nil {
		return nil, err
	}
	if err := c.checkTransport(req.URL); err != nil {
		return nil, err
	}
	name, value, err := c.payment(r)
	if err != nil {
		return nil, err
	}
	retry := req.Clone(ctx)
	retry.Header.Del(x402.HeaderPaymentV1)
	retry.Header.Del(x402.HeaderPaymentV2)
	retry.Header.Set(name, value)
	if sign != nil {
		if err := sign(retry); err != nil {
			return nil, err
		}
	}
	resp, err = c.send(ctx, retry, body)
	if err != nil {
		return nil, fmt.Errorf("the paid request (signed, and perhaps settled) failed: %w", err)
	}
	return c.answer(resp, r)
}

// answer reads the answer to a paid request: a 402 or 409 is the payment
// refused, as is an upto cap's 429 or 503; anything else is returned with
// its receipt.
func (c *Client) answer(resp *http.Response, r *Requirement) (*Result, error) {
	if rej := refusal(resp); rej != nil {
		rej.Requirement = r
		return nil, rej
	}
	res := &Result{Response: resp, Paid: r}
	h := resp.Header.Get(x402.ReceiptHeader(r.Version))
	switch {
	case h == "":
	case len(h) > x402.MaxHeaderBytes:
		res.ReceiptErr = errors.New("the receipt header is too long")
	default:
		rc, err := x402.DecodeReceipt(h)
		if err != nil {
			res.ReceiptErr = errors.New("the receipt header is not base64 JSON")
		} else {
			rc.Transaction, rc.Network, rc.Payer = printable(rc.Transaction, 80), printable(rc.Network, 64), printable(rc.Payer, 64)
			rc.ErrorReason = printable(rc.ErrorReason, 80)
			res.Receipt = rc
		}
		if r.Scheme == SchemeUpto {
			res.Charged, res.HasCharged = uptoCharged(h)
		}
	}
	return res, nil
}

// payment signs r once and returns the header that carries it.
func (c *Client) payment(r *Requirement) (name, value string, err error) {
	if c.Key == nil {
		return "", "", ErrNoKey
	}
	if r.Scheme == SchemeUpto {
		v, err := c.uptoPayment(r)
		return x402.HeaderPaymentV2, v, err
	}
	n := r.network()
	// Valid for what the server allows, at most 10 minutes: a hostile
	// server asking for a day gets no long-lived authorization.
	validFor := time.Duration(min(r.MaxTimeoutSeconds, 600)) * time.Second
	a := x402.NewAuthorization(c.Key, n, int64(r.Units), c.now(), validFor)
	sig, err := x402.Sign(c.Key, n, &a)
	if err != nil {
		return "", "", fmt.Errorf("sign the payment: %w", err)
	}
	if r.Version == 1 {
		return x402.HeaderPaymentV1, x402.EncodePaymentV1(n, &a, sig), nil
	}
	// v2 echoes the requirement it accepts and the resource, as received.
	return x402.HeaderPaymentV2, x402.EncodePaymentV2(*r.v2, r.resource, &a, sig), nil
}

// send sends req with body replayed.
func (c *Client) send(ctx context.Context, req *http.Request, body []byte) (*http.Response, error) {
	req = req.WithContext(ctx)
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.ContentLength = int64(len(body))
	}
	return c.http().Do(req)
}

// bufferBody reads req's body so that it can be sent twice and hashed.
func bufferBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	b, err := readBounded(req.Body, MaxRequestBody)
	if err != nil {
		return nil, fmt.Errorf("request body: %w", err)
	}
	return b, nil
}
