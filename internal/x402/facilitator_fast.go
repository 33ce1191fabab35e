package x402

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// A settlement calls the facilitator on the request path, twice for a
// request's first attempt (/verify, /settle). Through net/http each call
// cost about as much CPU as a signature recovery (a goroutine pair per
// connection, header maps, a context and timer per call); through fasthttp,
// as the upstream's whole requests go, a fraction of it. net/http stays
// for what fasthttp does not do: a proxy named by the environment
// (HTTPS_PROXY and the like), and an http.Client of the caller's.

// fastClient returns the fasthttp client of the facilitator at rawURL,
// or nil when net/http must be used: the URL does not parse as http(s), or
// the environment routes it through a proxy.
func fastClient(rawURL string) *fasthttp.HostClient {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil
	}
	if proxy, err := http.ProxyFromEnvironment(&http.Request{URL: u}); err != nil || proxy != nil {
		return nil
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
	}
	return &fasthttp.HostClient{
		Addr:                     addr,
		IsTLS:                    u.Scheme == "https",
		MaxConns:                 512,
		MaxIdleConnDuration:      90 * time.Second,
		NoDefaultUserAgentHeader: true,
		DisablePathNormalizing:   true,
		// A longer answer is an error, as net/http's cut one would be.
		MaxResponseBodySize: maxFacilitatorBody,
	}
}

// doFast is do through fasthttp. A redirect is not followed: the
// facilitator's URL is the operator's, and its API key is not sent
// anywhere else; the caller takes the 3xx as no answer (unclear).
func (f *Facilitator) doFast(ctx context.Context, method, path string, body []byte, out any) (int, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(strings.TrimSuffix(f.URL, "/") + path)
	req.Header.SetMethod(method)
	for k, vs := range f.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.SetContentType("application/json")
	if body != nil {
		req.SetBodyRaw(body)
	}
	deadline := time.Now().Add(f.timeout())
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := f.fast.DoDeadline(req, resp, deadline); err != nil {
		if errors.Is(err, fasthttp.ErrTimeout) {
			err = context.DeadlineExceeded // as net/http reports it: "timed out"
		}
		return 0, err
	}
	return decodeAnswer(path, resp.StatusCode(), resp.Body(), out)
}

// settlementRequest is the body of /verify and /settle for s:
// {x402Version, paymentPayload, paymentRequirements}, encoded once for
// both. The payload and the requirement are paymeter's own json.Marshal
// encodings (Payment.JSON, Challenge.RequirementJSON, or those stored),
// so they are copied in as they are, which is what json.Marshal of
// facilitatorRequest writes for them; anything that does not look like
// one goes through json.Marshal, which validates, compacts and escapes it.
func settlementRequest(s *Settlement) ([]byte, error) {
	payload, requirement := []byte(s.Payment.JSON), []byte(s.Requirement)
	if !marshaledObject(payload) || !marshaledObject(requirement) {
		b, err := json.Marshal(facilitatorRequest{X402Version: s.Payment.Version, PaymentPayload: s.Payment.JSON,
			PaymentRequirements: s.Requirement})
		if err != nil {
			return nil, fmt.Errorf("facilitator request: %w", err)
		}
		return b, nil
	}
	b := make([]byte, 0, len(payload)+len(requirement)+64)
	b = append(b, `{"x402Version":`...)
	b = strconv.AppendInt(b, int64(s.Payment.Version), 10)
	b = append(append(b, `,"paymentPayload":`...), payload...)
	b = append(append(b, `,"paymentRequirements":`...), requirement...)
	return append(b, '}'), nil
}

// marshaledObject reports whether b looks like an object json.Marshal
// wrote: braces around it, and none of the bytes it always escapes
// (control characters, <, >, &) nor a space or newline after a brace.
func marshaledObject(b []byte) bool {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' || b[1] == ' ' || b[1] == '\n' {
		return false
	}
	for _, c := range b {
		if c < ' ' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
