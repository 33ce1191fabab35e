package loadtest

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// startServer serves h on a fresh 127.0.0.1 port and returns its base URL.
func startServer(tb testing.TB, h fasthttp.RequestHandler) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: h}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	tb.Cleanup(func() { srv.Shutdown() })
	return "http://" + ln.Addr().String()
}

func okHandler(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"ok":true}`)
}

func checkOrdered(t *testing.T, res Result) {
	t.Helper()
	if !(0 < res.P50 && res.P50 <= res.P99 && res.P99 <= res.Max) {
		t.Fatalf("p50=%s p99=%s max=%s, want 0 < p50 <= p99 <= max", res.P50, res.P99, res.Max)
	}
}

func TestRun(t *testing.T) {
	var got atomic.Int64
	var method, body, auth atomic.Value
	url := startServer(t, func(ctx *fasthttp.RequestCtx) {
		got.Add(1)
		method.Store(string(ctx.Method()))
		body.Store(string(ctx.PostBody()))
		auth.Store(string(ctx.Request.Header.Peek("Authorization")))
		okHandler(ctx)
	})
	target := Target{
		URL:    url + "/v1/chat/completions",
		Header: map[string]string{"Authorization": "Bearer k", "Content-Type": "application/json"},
		Body:   []byte(`{"model":"m"}`),
	}
	opts := Options{Connections: 4, Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond}
	start := time.Now()
	res, err := Run(context.Background(), target, opts)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("run took %s, want about 350ms", took)
	}
	t.Log(res)
	if res.Requests <= 0 || res.Errors != 0 {
		t.Fatalf("requests=%d errors=%d, want >0 and 0", res.Requests, res.Errors)
	}
	if got, want := res.Statuses[200], res.Requests; got != want || len(res.Statuses) != 1 {
		t.Fatalf("statuses=%v, want only 200:%d", res.Statuses, want)
	}
	if got.Load() <= res.Requests {
		t.Errorf("server saw %d requests, want more than the %d measured (warmup)", got.Load(), res.Requests)
	}
	if got, want := res.Elapsed, opts.Duration; got != want {
		t.Errorf("elapsed=%s, want %s", got, want)
	}
	if got, want := res.RPS, float64(res.Requests)/opts.Duration.Seconds(); got != want {
		t.Errorf("rps=%f, want %f", got, want)
	}
	checkOrdered(t, res)
	if m, b, a := method.Load(), body.Load(), auth.Load(); m != "POST" || b != `{"model":"m"}` || a != "Bearer k" {
		t.Errorf("server saw method=%v body=%v auth=%v, want POST, the body and the header", m, b, a)
	}
}

func TestRunMaxRequests(t *testing.T) {
	var got atomic.Int64
	url := startServer(t, func(ctx *fasthttp.RequestCtx) { got.Add(1); okHandler(ctx) })
	opts := Options{Connections: 8, Duration: 10 * time.Second, MaxRequests: 100}
	start := time.Now()
	res, err := Run(context.Background(), Target{URL: url, Method: "GET"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("run took %s, want it to stop after 100 requests", took)
	}
	if got, want := got.Load(), int64(100); got != want {
		t.Fatalf("server saw %d requests, want %d", got, want)
	}
	if got, want := res.Requests, int64(100); got != want {
		t.Fatalf("requests=%d, want %d", got, want)
	}
	if res.Elapsed <= 0 || res.Elapsed >= opts.Duration {
		t.Fatalf("elapsed=%s, want between 0 and %s", res.Elapsed, opts.Duration)
	}
	checkOrdered(t, res)
}

func TestRunStatuses(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		expect     []int
		wantErrors bool
	}{
		{"500 is an error", 500, nil, true},
		{"201 not expected", 201, nil, true},
		{"201 expected", 201, []int{200, 201}, false},
		{"402 expected", 402, []int{402}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := startServer(t, func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(tt.status) })
			opts := Options{Connections: 2, Duration: 100 * time.Millisecond}
			res, err := Run(context.Background(), Target{URL: url}, opts, tt.expect...)
			if err != nil {
				t.Fatal(err)
			}
			total := res.Requests + res.Errors
			if got, want := res.Statuses[tt.status], total; got != want || total == 0 {
				t.Fatalf("statuses=%v, want %d:%d (>0)", res.Statuses, tt.status, want)
			}
			if got := res.Errors > 0; got != tt.wantErrors {
				t.Fatalf("requests=%d errors=%d, want errors: %v", res.Requests, res.Errors, tt.wantErrors)
			}
		})
	}
}

func TestRunRefusesNonLoopback(t *testing.T) {
	for _, u := range []string{
		"http://10.0.0.1:80/v1/chat/completions",
		"http://192.0.2.1/",
		"http://example.com:8080/",
		"http://0.0.0.0:8080/",
	} {
		t.Run(u, func(t *testing.T) {
			_, err := Run(context.Background(), Target{URL: u}, Options{Duration: time.Second})
			if !errors.Is(err, ErrNotLoopback) {
				t.Fatalf("err=%v, want ErrNotLoopback", err)
			}
		})
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	url := startServer(t, okHandler)
	tests := []struct {
		name   string
		target Target
		opts   Options
		expect []int
	}{
		{"no duration", Target{URL: url}, Options{}, nil},
		{"negative warmup", Target{URL: url}, Options{Duration: time.Second, Warmup: -1}, nil},
		{"negative connections", Target{URL: url}, Options{Duration: time.Second, Connections: -1}, nil},
		{"https", Target{URL: "https://127.0.0.1:1/"}, Options{Duration: time.Second}, nil},
		{"bad status", Target{URL: url}, Options{Duration: time.Second}, []int{2000}},
		{"closed port", Target{URL: closedPortURL(t)}, Options{Duration: time.Second}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Run(context.Background(), tt.target, tt.opts, tt.expect...); err == nil {
				t.Fatal("err=nil, want an error")
			}
		})
	}
}

func closedPortURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String()
}

// TestRunStopsWhenServerHangs checks that the run ends by itself, near its
// deadline, even when the server stops answering mid-run.
func TestRunStopsWhenServerHangs(t *testing.T) {
	release := make(chan struct{})
	var n atomic.Int64
	url := startServer(t, func(ctx *fasthttp.RequestCtx) {
		if n.Add(1) > 50 {
			<-release
		}
	})
	defer close(release) // registered after startServer: runs before Shutdown
	start := time.Now()
	res, err := Run(context.Background(), Target{URL: url}, Options{Connections: 4, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 200*time.Millisecond+stopGrace+time.Second {
		t.Fatalf("run took %s, want it bounded", took)
	}
	if res.Requests <= 0 || res.Errors != 0 {
		t.Fatalf("requests=%d errors=%d, want the answered ones and no errors", res.Requests, res.Errors)
	}
}

func TestRunContextCancel(t *testing.T) {
	url := startServer(t, okHandler)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, Target{URL: url}, Options{Connections: 2, Duration: 10 * time.Second})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err=%v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("run took %s after cancel", took)
	}
	if res.Requests <= 0 || res.Errors != 0 || res.Elapsed <= 0 || res.Elapsed > time.Second {
		t.Fatalf("partial result %+v, want requests, no errors, elapsed about 150ms", res)
	}
}

// TestRunReconnects checks that a server closing connections is followed by
// redials rather than errors.
func TestRunReconnects(t *testing.T) {
	url := startServer(t, func(ctx *fasthttp.RequestCtx) {
		ctx.SetConnectionClose()
		okHandler(ctx)
	})
	res, err := Run(context.Background(), Target{URL: url}, Options{Connections: 2, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests < 2 || res.Errors != 0 {
		t.Fatalf("requests=%d errors=%d, want several and 0", res.Requests, res.Errors)
	}
}

func TestResultString(t *testing.T) {
	r := Result{RPS: 12345.4, P50: 1200 * time.Microsecond, P99: 3400 * time.Microsecond}
	if got, want := r.String(), "12345 req/s  p50 1.20ms  p99 3.40ms  errors 0"; got != want {
		t.Fatalf("String()=%q, want %q", got, want)
	}
}

// Each request carries the next variant's headers, in turn.
func TestRunVariants(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	url := startServer(t, func(ctx *fasthttp.RequestCtx) {
		mu.Lock()
		seen[string(ctx.Request.Header.Peek("X-Variant"))]++
		mu.Unlock()
		okHandler(ctx)
	})
	variants := []map[string]string{{"X-Variant": "a"}, {"X-Variant": "b"}, {"X-Variant": "c"}}
	_, err := Run(context.Background(), Target{URL: url, Method: "GET", Variants: variants},
		Options{Connections: 4, Duration: 10 * time.Second, MaxRequests: 30})
	if err != nil {
		t.Fatal(err)
	}
	if seen["a"] != 10 || seen["b"] != 10 || seen["c"] != 10 {
		t.Fatalf("variants seen %v, want 10 of each", seen)
	}
}
