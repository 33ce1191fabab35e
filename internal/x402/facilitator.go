package x402

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Facilitator settles through an x402 facilitator's HTTP API: POST /verify,
// then POST /settle, each with {x402Version, paymentPayload,
// paymentRequirements}. Anything short of a clear answer — a timeout, a
// connection error, a 5xx, a 202 — is Pending: the payment is retried
// later with the same authorization, which the token executes at most once.
type Facilitator struct {
	URL     string // base URL, e.g. https://x402.org/facilitator
	Timeout time.Duration
	// Header, if set, adds headers (an API key) to every call.
	Header http.Header
	// Client, if set, is the net/http client every call goes through.
	// Unset, calls go through fasthttp (facilitator_fast.go), or, when the
	// environment names a proxy for the facilitator, through a net/http
	// client that keeps enough connections open for a proxy's concurrency
	// (http.DefaultClient keeps two per host, and would open a connection
	// per settlement under load).
	Client *http.Client

	once sync.Once
	fast *fasthttp.HostClient
}

func (f *Facilitator) client() *http.Client {
	f.once.Do(func() {
		if f.Client != nil {
			return
		}
		if f.fast = fastClient(f.URL); f.fast == nil {
			t := http.DefaultTransport.(*http.Transport).Clone()
			t.MaxIdleConns, t.MaxIdleConnsPerHost = 512, 512
			f.Client = &http.Client{Transport: t}
		}
	})
	return f.Client
}

// maxFacilitatorBody caps a facilitator's answer.
const maxFacilitatorBody = 64 << 10

type facilitatorRequest struct {
	X402Version         int             `json:"x402Version"`
	PaymentPayload      json.RawMessage `json:"paymentPayload"`
	PaymentRequirements json.RawMessage `json:"paymentRequirements"`
}

type verifyResponse struct {
	IsValid       bool   `json:"isValid"`
	InvalidReason string `json:"invalidReason"`
	Payer         string `json:"payer"`
}

// SupportedKind is one entry of GET /supported.
type SupportedKind struct {
	X402Version int    `json:"x402Version"`
	Scheme      string `json:"scheme"`
	Network     string `json:"network"`
}

// Settle verifies and settles s with the facilitator.
func (f *Facilitator) Settle(ctx context.Context, s *Settlement) (Result, error) {
	req, err := settlementRequest(s)
	if err != nil {
		return Result{}, err
	}
	if !s.Retry && s.TxHash == "" { // a retry skips /verify: its earlier /settle may have spent the nonce, answer lost
		var v verifyResponse
		status, err := f.do(ctx, http.MethodPost, "/verify", req, &v)
		if err != nil || unclear(status) {
			return Result{Outcome: Pending, Reason: describe("verify", status, err)}, nil
		}
		if !v.IsValid {
			return Result{Outcome: Failed, Reason: reasonOr(v.InvalidReason, ReasonUnexpectedVerify)}, nil
		}
	}
	var r SettleResponse
	status, err := f.do(ctx, http.MethodPost, "/settle", req, &r)
	switch {
	case err != nil || unclear(status):
		return Result{Outcome: Pending, TxHash: r.Transaction, Reason: describe("settle", status, err)}, nil
	case r.Success:
		return Result{Outcome: Settled, TxHash: r.Transaction}, nil
	case isPendingReason(r.ErrorReason):
		return Result{Outcome: Pending, TxHash: r.Transaction, Reason: r.ErrorReason}, nil
	}
	return Result{Outcome: Failed, TxHash: r.Transaction, Reason: reasonOr(r.ErrorReason, ReasonUnexpectedSettle)}, nil
}

// Supported lists the (version, scheme, network) kinds the facilitator settles.
func (f *Facilitator) Supported(ctx context.Context) ([]SupportedKind, error) {
	var out struct {
		Kinds []SupportedKind `json:"kinds"`
	}
	status, err := f.do(ctx, http.MethodGet, "/supported", nil, &out)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("facilitator /supported: HTTP %d", status)
	}
	return out.Kinds, nil
}

// post sends body as JSON to path and decodes the answer into out.
func (f *Facilitator) post(ctx context.Context, path string, body any, out any) (int, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	return f.do(ctx, http.MethodPost, path, b, out)
}

// unclear reports whether an answer's status says nothing final: a
// server error, 202 (still working), or a redirect not followed.
func unclear(status int) bool {
	return status >= 500 || status == http.StatusAccepted || status/100 == 3
}

func (f *Facilitator) timeout() time.Duration {
	if f.Timeout <= 0 {
		return 30 * time.Second
	}
	return f.Timeout
}

func (f *Facilitator) do(ctx context.Context, method, path string, body []byte, out any) (int, error) {
	if f.client(); f.fast != nil {
		return f.doFast(ctx, method, path, body, out)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout())
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(f.URL, "/")+path, rd)
	if err != nil {
		return 0, err
	}
	for k, vs := range f.Header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client().Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxFacilitatorBody))
	if err != nil {
		return resp.StatusCode, err
	}
	return decodeAnswer(path, resp.StatusCode, raw, out)
}

// decodeAnswer reads a facilitator's answer into out: x402 facilitators
// answer refusals with 400 and the same JSON shape; an empty answer or a
// server error leaves out alone.
func decodeAnswer(path string, status int, raw []byte, out any) (int, error) {
	if status >= 500 || len(bytes.TrimSpace(raw)) == 0 {
		return status, nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return status, fmt.Errorf("facilitator %s: HTTP %d, undecodable answer", path, status)
	}
	return status, nil
}

// isPendingReason recognises a facilitator saying the transaction is sent
// but not final.
func isPendingReason(r string) bool {
	r = strings.ToLower(r)
	return strings.Contains(r, "pending") || strings.Contains(r, "timeout") || strings.Contains(r, "timed_out")
}

// reasonOr is a facilitator's reason, or fallback when it sent none or
// one that is not shaped like an x402 reason (ValidReason): it is stored,
// logged, counted in /metrics and sent on to clients.
func reasonOr(r, fallback string) string {
	if !ValidReason(r) {
		return fallback
	}
	return r
}

func describe(call string, status int, err error) string {
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return "facilitator " + call + ": timed out"
		}
		return "facilitator " + call + ": " + Redact(err)
	}
	return fmt.Sprintf("facilitator %s: HTTP %d", call, status)
}
