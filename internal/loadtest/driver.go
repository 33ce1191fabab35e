package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// DefaultConnections is the number of connections used when
// Options.Connections is zero.
const DefaultConnections = 64

const (
	// stopGrace is how long in-flight requests may finish after the measured
	// phase before their connections are closed under them; they are never
	// measured, the grace only spares the server a storm of resets.
	stopGrace = time.Second
	// redialPause keeps a worker whose target refuses connections from
	// spinning a core that the server under test needs.
	redialPause = 10 * time.Millisecond
	dialTimeout = 2 * time.Second
	readBufSize = 16 << 10
	statusSlots = 1000
)

// ErrNotLoopback is returned by Run and NewBareHop for a URL whose host is not
// a loopback address: this environment allows no other traffic.
var ErrNotLoopback = errors.New("host is not a loopback address")

// Target is what the driver sends: one request shape, repeated.
type Target struct {
	URL    string            // full URL, e.g. http://127.0.0.1:1234/v1/chat/completions
	Method string            // default POST
	Header map[string]string // e.g. Authorization, Content-Type (not defaulted)
	Body   []byte
	// Variants, if set, are extra headers per request: request i carries
	// Variants[i % len(Variants)], for requests that must each differ
	// (signed ones). They are serialised before the run starts.
	Variants []map[string]string
}

// Options control one run.
type Options struct {
	// Connections is the number of concurrent keep-alive connections, one
	// worker goroutine each, every one with at most one request in flight.
	// Zero means DefaultConnections.
	Connections int
	// Duration is the measured phase; it must be positive.
	Duration time.Duration
	// Warmup is an unmeasured phase before it.
	Warmup time.Duration
	// MaxRequests, if positive, bounds the requests sent over the whole run,
	// warmup included; the run ends early once it is reached.
	MaxRequests int64
}

// Result is one run's outcome.
type Result struct {
	// Requests counts those started and answered within the measured phase
	// with an expected status; requests straddling either edge are not counted.
	Requests int64
	Errors   int64 // transport errors, failed redials or unexpected statuses in the measured phase
	Statuses map[int]int64
	Elapsed  time.Duration // measured phase actually run
	RPS      float64       // Requests / Elapsed.Seconds()
	P50, P99 time.Duration // of every measured request, errors included
	Max      time.Duration
}

// String formats r as one line: "12345 req/s  p50 1.20ms  p99 3.40ms  errors 0".
func (r Result) String() string {
	return fmt.Sprintf("%.0f req/s  p50 %s  p99 %s  errors %d", r.RPS, ms(r.P50), ms(r.P99), r.Errors)
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

// Run drives t with opts until the measured phase ends, ctx ends or
// opts.MaxRequests have been sent, whichever comes first, and reports the
// measured phase. expect lists the acceptable statuses (default 200); any
// other status counts as an error. Every connection is opened before the clock
// starts, so a target that cannot be reached fails Run at once. If ctx ends
// first, Run returns what was measured so far together with ctx's error.
func Run(ctx context.Context, t Target, opts Options, expect ...int) (Result, error) {
	r, err := newRun(t, opts, expect)
	if err != nil {
		return Result{}, err
	}
	workers, err := r.dialAll(ctx, opts.Connections)
	if err != nil {
		return Result{}, err
	}
	r.base = time.Now()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop()
		}()
	}
	done, stopperDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopperDone)
		r.stopper(ctx, done, workers)
	}()
	wg.Wait()
	finished := time.Since(r.base)
	close(done)
	<-stopperDone

	res := r.result(workers, finished)
	if finished < r.end && ctx.Err() != nil {
		return res, fmt.Errorf("load run cut short: %w", ctx.Err())
	}
	return res, nil
}

// run is the state shared, read-only after start, by the workers of one Run.
type run struct {
	addr   string
	raws   [][]byte // the requests on the wire, serialised before the run
	next   atomic.Int64
	head   bool
	expect [statusSlots]bool
	max    int64

	base      time.Time
	from, end time.Duration // measured phase, relative to base

	sent    atomic.Int64
	stopped atomic.Bool
	stop    chan struct{}
}

func newRun(t Target, opts Options, expect []int) (*run, error) {
	switch {
	case opts.Connections < 0:
		return nil, fmt.Errorf("connections %d: must not be negative", opts.Connections)
	case opts.Duration <= 0:
		return nil, fmt.Errorf("duration %s: must be positive", opts.Duration)
	case opts.Warmup < 0:
		return nil, fmt.Errorf("warmup %s: must not be negative", opts.Warmup)
	case opts.MaxRequests < 0:
		return nil, fmt.Errorf("max requests %d: must not be negative", opts.MaxRequests)
	}
	addr, err := loopbackAddr(t.URL)
	if err != nil {
		return nil, err
	}
	r := &run{addr: addr, max: opts.MaxRequests, from: opts.Warmup,
		end: opts.Warmup + opts.Duration, stop: make(chan struct{})}
	if len(expect) == 0 {
		expect = []int{fasthttp.StatusOK}
	}
	for _, s := range expect {
		if s < 100 || s >= statusSlots {
			return nil, fmt.Errorf("expected status %d: out of range", s)
		}
		r.expect[s] = true
	}
	variants := t.Variants
	if len(variants) == 0 {
		variants = []map[string]string{nil}
	}
	for _, v := range variants {
		raw, head, err := t.wire(v)
		if err != nil {
			return nil, err
		}
		r.raws, r.head = append(r.raws, raw), head
	}
	return r, nil
}

// raw returns the next request's bytes.
func (r *run) raw() []byte {
	if len(r.raws) == 1 {
		return r.raws[0]
	}
	return r.raws[(r.next.Add(1)-1)%int64(len(r.raws))]
}

// wire serialises t, with the extra headers, once.
func (t Target) wire(extra map[string]string) ([]byte, bool, error) {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	req.SetRequestURI(t.URL)
	method := t.Method
	if method == "" {
		method = fasthttp.MethodPost
	}
	req.Header.SetMethod(method)
	for _, h := range []map[string]string{t.Header, extra} {
		for k, v := range h {
			req.Header.Set(k, v)
			if strings.EqualFold(k, "Host") {
				req.UseHostHeader = true
			}
		}
	}
	req.SetBody(t.Body)
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	if err := req.Write(bw); err != nil {
		return nil, false, fmt.Errorf("encode request: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, false, fmt.Errorf("encode request: %w", err)
	}
	return buf.Bytes(), req.Header.IsHead(), nil
}

// loopbackAddr returns host:port of an http URL whose host is a loopback IP
// or "localhost" (whose resolution is checked again once dialled).
func loopbackAddr(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("parse URL: %w", err)
	}
	if u.Scheme != "http" {
		return "", fmt.Errorf("URL %q: scheme must be http", rawURL)
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	if !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("URL %q: %w", rawURL, ErrNotLoopback)
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(host, port), nil
}

func (r *run) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", r.addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", r.addr, err)
	}
	if a, ok := conn.RemoteAddr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
		conn.Close()
		return nil, fmt.Errorf("dial %s: remote %s: %w", r.addr, conn.RemoteAddr(), ErrNotLoopback)
	}
	return conn, nil
}

func (r *run) dialAll(ctx context.Context, n int) ([]*worker, error) {
	if n == 0 {
		n = DefaultConnections
	}
	workers := make([]*worker, n)
	for i := range workers {
		conn, err := r.dial(ctx)
		if err != nil {
			for _, w := range workers[:i] {
				w.conn.Close()
			}
			return nil, err
		}
		workers[i] = &worker{r: r, conn: conn, br: bufio.NewReaderSize(conn, readBufSize)}
	}
	return workers, nil
}

// stopper ends the run at the end of the measured phase (after stopGrace for
// requests still in flight) or at once when ctx ends, by closing every
// connection so that no worker stays blocked on a server that stopped
// answering. It returns early if every worker finished on its own.
func (r *run) stopper(ctx context.Context, done <-chan struct{}, workers []*worker) {
	timer := time.NewTimer(time.Until(r.base.Add(r.end + stopGrace)))
	defer timer.Stop()
	select {
	case <-done:
		return
	case <-ctx.Done():
	case <-timer.C:
	}
	r.stopped.Store(true)
	close(r.stop)
	for _, w := range workers {
		w.abort()
	}
}

func (r *run) result(workers []*worker, finished time.Duration) Result {
	var h histogram
	var statuses [statusSlots]int64
	res := Result{Statuses: map[int]int64{}}
	for _, w := range workers {
		h.merge(&w.hist)
		for s, n := range w.statuses {
			statuses[s] += n
		}
		for s, n := range w.other {
			res.Statuses[s] += n
		}
		res.Requests += w.requests
		res.Errors += w.errors
	}
	for s, n := range statuses {
		if n > 0 {
			res.Statuses[s] = n
		}
	}
	res.Elapsed = max(min(finished, r.end)-r.from, 0)
	if res.Elapsed > 0 {
		res.RPS = float64(res.Requests) / res.Elapsed.Seconds()
	}
	res.P50, res.P99, res.Max = h.percentile(0.50), h.percentile(0.99), h.max
	return res
}
