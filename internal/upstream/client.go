package upstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/valyala/fasthttp"
)

// Client sends requests to the upstream inference API.
//
// It has two transports on purpose. Whole (non-streaming) requests, the
// hot path, go through fasthttp, which costs a fraction of net/http per
// request. Streams go through net/http: a stream needs a timeout for the
// response headers, another between events, and cancellation when the
// client leaves, and fasthttp's streamed bodies keep a single connection
// deadline for the whole response, which cannot express that.
type Client struct {
	// Dialect is the API family the upstream speaks; the zero value is
	// OpenAI's. A route is served only for models whose upstream speaks
	// its API (Speaks).
	Dialect Dialect
	// Timeout bounds the wait for the response headers of every request,
	// and the whole response of a non-streaming one.
	Timeout time.Duration
	// IdleTimeout bounds the wait for the next event of a stream.
	IdleTimeout time.Duration

	base   *url.URL
	apiKey string
	auth   string // "Bearer " + apiKey, built once
	fast   *fasthttp.HostClient
	std    *http.Client
}

// Dialect is an upstream's API family.
type Dialect uint8

// The dialects an upstream may speak.
const (
	DialectOpenAI    Dialect = iota // chat, completions, embeddings, responses, images
	DialectAnthropic                // messages
)

// ParseDialect reads a dialect's configuration name.
func ParseDialect(name string) (Dialect, bool) {
	switch name {
	case "openai", "":
		return DialectOpenAI, true
	case "anthropic":
		return DialectAnthropic, true
	}
	return 0, false
}

// String is the dialect's configuration name.
func (d Dialect) String() string {
	if d == DialectAnthropic {
		return "anthropic"
	}
	return "openai"
}

// Speaks reports whether an upstream of dialect d serves api.
func (d Dialect) Speaks(api API) bool {
	if d == DialectAnthropic {
		return api == APIMessages
	}
	return api != APIMessages
}

// maxResponseBytes caps a non-streaming response body.
const maxResponseBytes = 32 << 20

// NewClient returns a client for the OpenAI-compatible API at baseURL,
// which names the API root as OpenAI clients expect it
// ("https://api.openai.com/v1"); a URL with no path means "/v1". apiKey,
// when set, is sent as the upstream's bearer token.
func NewClient(baseURL, apiKey string) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("upstream url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("upstream url %q: want http(s)://host[:port][/path]", baseURL)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1"
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
	}
	c := &Client{
		Timeout:     60 * time.Second,
		IdleTimeout: 60 * time.Second,
		base:        u,
		apiKey:      apiKey,
		auth:        "Bearer " + apiKey,
	}
	c.fast = &fasthttp.HostClient{
		Addr:                          addr,
		IsTLS:                         u.Scheme == "https",
		MaxConns:                      4096,
		MaxIdleConnDuration:           30 * time.Second,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: false,
		DisablePathNormalizing:        true,
		MaxResponseBodySize:           maxResponseBytes,
	}
	c.std = &http.Client{Transport: &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     30 * time.Second,
		// Compressed streams would hide usage from the meter; ask for none.
		DisableCompression: true,
	}}
	return c, nil
}

// Close releases idle connections.
func (c *Client) Close() {
	c.fast.CloseIdleConnections()
	c.std.CloseIdleConnections()
}

// target maps a proxy path ("/v1/chat/completions") onto the upstream's
// root ("https://host/openai/v1" → "https://host/openai/v1/chat/completions").
// The query is the upstream URL's own (such as Azure's api-version), never
// the client's: a client's query could change what the upstream serves or
// bills, unpriced.
func (c *Client) target(path string) string {
	u := *c.base
	u.Path = c.path(path)
	return u.String()
}

func (c *Client) path(proxyPath string) string {
	return c.base.Path + strings.TrimPrefix(proxyPath, "/v1")
}

// setHeaders passes on the forwarded headers of r and the upstream's key.
func (c *Client) setHeaders(r *Request, set func(name, value string)) {
	for _, h := range forwardedHeaders {
		if v := r.Header.Get(h); v != "" {
			set(h, v)
		}
	}
	if c.Dialect == DialectAnthropic {
		// Anthropic's own header for the key, and the version it requires
		// of every request.
		if c.apiKey != "" {
			set("x-api-key", c.apiKey)
		}
		if r.Header.Get("anthropic-version") == "" {
			set("anthropic-version", defaultAnthropicVersion)
		}
		return
	}
	if c.apiKey != "" {
		set("Authorization", c.auth)
	}
}

// defaultAnthropicVersion is sent to an Anthropic upstream for a client
// that names no anthropic-version: the API's stable version.
const defaultAnthropicVersion = "2023-06-01"

// forwardedHeaders are the request headers passed on to the upstream.
// Everything else, and above all the client's credentials (Authorization,
// X-API-Key, wallet and payment headers, cookies), stays behind.
var forwardedHeaders = []string{"Content-Type", "Accept", "User-Agent", "OpenAI-Beta", "X-Request-Id",
	"anthropic-version", "anthropic-beta"}

// Header reads a request header by name; "" when absent.
type Header interface {
	Get(name string) string
}

// Request is one request to forward.
type Request struct {
	Method string
	Path   string // the proxy path, starting with /v1
	Header Header // the client's request headers
	Body   []byte
	// Deadline, when set, ends a whole request (Do) then at the latest,
	// with upstream_timeout: the request's own time limit.
	Deadline time.Time
}

// Do forwards a non-streaming request and fills resp with the upstream's
// whole response; resp may be the server's own response to the client, so
// that the body is read once and never copied. Failures to get a response are *meter.Error
// upstream_timeout or upstream_error, with the cause attached.
func (c *Client) Do(r *Request, resp *fasthttp.Response) error {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	// Set the URI by parts: no URL to format and parse again per request.
	uri := req.URI()
	uri.SetScheme(c.base.Scheme)
	uri.SetHost(c.base.Host)
	uri.SetPath(c.path(r.Path))
	uri.SetQueryString(c.base.RawQuery)
	req.Header.SetMethod(r.Method)
	c.setHeaders(r, req.Header.Set)
	req.SetBodyRaw(r.Body)
	timeout := c.Timeout
	if !r.Deadline.IsZero() {
		if timeout = min(timeout, time.Until(r.Deadline)); timeout <= 0 {
			return classify(errTimeout)
		}
	}
	if err := c.fast.DoTimeout(req, resp, timeout); err != nil {
		return classify(err)
	}
	return nil
}

// Stream forwards a streaming request and returns the upstream's response
// once its headers arrived; the caller reads and closes the body. The
// headers must come within Timeout, and each further read of the body
// within IdleTimeout; a body read that stalls fails with upstream_timeout.
// Leaving ctx ends the request.
func (c *Client) Stream(ctx context.Context, r *Request) (*http.Response, error) {
	rctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(rctx, r.Method, c.target(r.Path), bytes.NewReader(r.Body))
	if err != nil {
		cancel()
		return nil, fmt.Errorf("build upstream request: %w", err)
	}
	c.setHeaders(r, req.Header.Set)
	body := &idleBody{cancel: cancel, idle: c.IdleTimeout}
	// One timer serves both limits: Timeout until the headers, then
	// IdleTimeout between reads of the body.
	body.timer = time.AfterFunc(c.Timeout, body.expire)
	resp, err := c.std.Do(req)
	if err != nil {
		body.Close()
		if body.expired.Load() {
			return nil, classify(errTimeout)
		}
		return nil, classify(err)
	}
	body.rc = resp.Body
	body.timer.Reset(c.IdleTimeout)
	resp.Body = body
	return resp, nil
}

// idleBody is a response body whose reads must each complete within idle.
type idleBody struct {
	rc      io.ReadCloser
	timer   *time.Timer
	idle    time.Duration
	cancel  context.CancelFunc
	expired atomic.Bool
}

func (b *idleBody) expire() {
	b.expired.Store(true)
	b.cancel()
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && b.expired.Load() {
		return n, classify(errTimeout)
	}
	b.timer.Reset(b.idle)
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	b.cancel()
	if b.rc != nil {
		return b.rc.Close()
	}
	return nil
}

var errTimeout = errors.New("upstream did not answer within the timeout")

// classify maps a transport failure to the client-facing error: timeouts
// become 504 upstream_timeout, everything else 502 upstream_error.
func classify(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, errTimeout),
		errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &meter.Error{Code: meter.ECodeUpstreamTimeout, Message: "the upstream did not answer in time", Err: err}
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return &meter.Error{Code: meter.ECodeUpstreamError, Message: "the upstream's response is too large", Err: err}
	}
	return &meter.Error{Code: meter.ECodeUpstreamError, Message: "the upstream could not be reached", Err: err}
}

// Ping checks that the upstream accepts connections: a TCP connect to its
// host, nothing sent, so that readiness probes cost the upstream nothing.
func (c *Client) Ping(ctx context.Context) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.fast.Addr)
	if err != nil {
		return fmt.Errorf("upstream %s unreachable: %w", c.fast.Addr, err)
	}
	return conn.Close()
}
