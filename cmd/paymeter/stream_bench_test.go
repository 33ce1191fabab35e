package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// BenchmarkStreamRelay measures what paymeter adds to a streamed answer on
// each API it meters (docs/design.md §8): time to the first event and CPU
// per event, against a bare streaming hop (the standard library's reverse
// proxy, flushing every write) in front of the same demo upstream, and the
// CPU per request of the Responses and Messages streams against chat's.
// Every server runs in a process of its own, as in BenchmarkLoad.
//
//	go test -run '^$' -bench BenchmarkStreamRelay -benchtime 1x ./cmd/paymeter
//
// PMBENCH_SECONDS sets the measured seconds per API and target (default 5),
// PMBENCH_STREAMS the concurrent streams (default 8).
func BenchmarkStreamRelay(b *testing.B) {
	seconds, streams := 5, 8
	if s := os.Getenv("PMBENCH_SECONDS"); s != "" {
		fmt.Sscan(s, &seconds)
	}
	if s := os.Getenv("PMBENCH_STREAMS"); s != "" {
		fmt.Sscan(s, &streams)
	}
	// Events a millisecond apart: each is relayed on its own, as from a
	// real upstream, rather than many in one write.
	upstreamAddr := startRole(b, "upstream", []string{"PMBENCH_CHUNK_DELAY=1ms"})
	upstreamURL := "http://" + upstreamAddr + "/v1"
	hopAddr := startRole(b, "streamhop", []string{"PMBENCH_UPSTREAM=http://" + upstreamAddr})
	dbPath := filepath.Join(b.TempDir(), "stream.db")
	_, key := seedLoadDB(b, dbPath)
	// The demo upstream once more under a name of its own, as an
	// Anthropic upstream, for the Messages route.
	cfgPath := filepath.Join(b.TempDir(), "paymeter.yaml")
	writeFile(b, cfgPath, fmt.Sprintf(`upstreams:
  anthropic: {url: %q, api: anthropic, api_key: %q}
models:
  demo-small: {input: "0.50", output: "1.50", max_output_tokens: 4096}
  demo-claude: {upstream: anthropic, input: "3", output: "15", cache_write: "3.75", max_output_tokens: 4096}
`, upstreamURL, demoKey))
	paymeterAddr := startRole(b, "paymeter", []string{
		"PMBENCH_CONFIG=" + cfgPath,
		"PAYMETER_DATABASE=" + dbPath,
		"PAYMETER_UPSTREAM_URL=" + upstreamURL,
		"PAYMETER_UPSTREAM_API_KEY=" + demoKey,
		"PAYMETER_RATE_LIMITS_API_KEY=1000000",
		"PAYMETER_SERVER_MAX_CONNECTIONS_PER_IP=0",
		"PAYMETER_METRICS_LISTEN=off",
	})

	apis := []struct{ name, path, body string }{
		{"chat", "/v1/chat/completions", `{"model":"demo-small","stream":true,"max_tokens":64,"messages":[{"role":"user","content":"Say hello."}]}`},
		{"responses", "/v1/responses", `{"model":"demo-small","stream":true,"max_output_tokens":64,"input":"Say hello."}`},
		{"messages", "/v1/messages", `{"model":"demo-claude","stream":true,"max_tokens":64,"messages":[{"role":"user","content":"Say hello."}]}`},
	}
	type figures struct {
		res      streamResult
		cpuPerRq float64 // µs of the serving process per request
	}
	got := map[string]figures{}
	b.ResetTimer()
	for _, api := range apis {
		for _, target := range []struct{ name, addr, auth string }{
			{"streamhop", hopAddr, "Bearer " + demoKey},
			{"paymeter", paymeterAddr, "Bearer " + key},
		} {
			header := http.Header{"Content-Type": {"application/json"}, "Authorization": {target.auth}}
			if api.name == "messages" {
				header.Set("anthropic-version", "2023-06-01")
				if target.name == "streamhop" { // the demo upstream takes Anthropic's header
					header.Set("x-api-key", demoKey)
				}
			}
			cpu0 := cpuTime(rolePID[target.name])
			res, err := runStreams(context.Background(), "http://"+target.addr+api.path, header, []byte(api.body),
				streams, time.Duration(seconds)*time.Second)
			if err != nil {
				b.Fatalf("%s %s: %v", api.name, target.name, err)
			}
			cpu := cpuTime(rolePID[target.name]) - cpu0
			f := figures{res: res, cpuPerRq: float64(cpu.Microseconds()) / float64(res.requests)}
			got[api.name+"/"+target.name] = f
			fmt.Fprintf(os.Stdout, "stream %-9s %-9s %s, cpu %.0f µs/req, %.1f µs/event\n", api.name, target.name, res,
				f.cpuPerRq, f.cpuPerRq/res.eventsPerRequest())
			b.ReportMetric(float64(res.ttfbP50.Microseconds()), fmt.Sprintf("%s-%s-ttfb-p50-µs", api.name, target.name))
			b.ReportMetric(f.cpuPerRq, fmt.Sprintf("%s-%s-cpu-µs/req", api.name, target.name))
		}
		hop, pm := got[api.name+"/streamhop"], got[api.name+"/paymeter"]
		fmt.Fprintf(os.Stdout, "stream %-9s added: ttfb p50 %+.0f µs, cpu %+.1f µs/event (paymeter %.1f, hop %.1f)\n", api.name,
			float64((pm.res.ttfbP50 - hop.res.ttfbP50).Microseconds()),
			pm.cpuPerRq/pm.res.eventsPerRequest()-hop.cpuPerRq/hop.res.eventsPerRequest(),
			pm.cpuPerRq/pm.res.eventsPerRequest(), hop.cpuPerRq/hop.res.eventsPerRequest())
	}
	// The APIs frame the same answer in different numbers of events (the
	// Responses API adds five), which the hop pays for too: the figure to
	// compare across APIs is paymeter's CPU per request over the hop's on
	// the same API, relative to chat's.
	overHop := func(api string) float64 { return got[api+"/paymeter"].cpuPerRq / got[api+"/streamhop"].cpuPerRq }
	chat := got["chat/paymeter"].cpuPerRq
	fmt.Fprintf(os.Stdout, "stream cpu per request: paymeter/hop chat %.2f  responses %.2f  messages %.2f;"+
		" relative to chat's: responses %.2f  messages %.2f (raw paymeter responses/chat %.2f  messages/chat %.2f)\n",
		overHop("chat"), overHop("responses"), overHop("messages"), overHop("responses")/overHop("chat"),
		overHop("messages")/overHop("chat"), got["responses/paymeter"].cpuPerRq/chat, got["messages/paymeter"].cpuPerRq/chat)
	for _, api := range []string{"responses", "messages"} {
		b.ReportMetric(overHop(api)/overHop("chat"), api+"/chat-cpu-over-hop")
	}
	b.StopTimer()
	stopRoles(b)
}

// streamResult sums up one runStreams.
type streamResult struct {
	requests, events int64
	ttfbP50, ttfbP99 time.Duration
	totalP50         time.Duration
}

func (r streamResult) eventsPerRequest() float64 {
	return float64(r.events) / float64(max(r.requests, 1))
}

func (r streamResult) String() string {
	return fmt.Sprintf("%6d req, %.0f events/req, ttfb p50 %s p99 %s, whole p50 %s", r.requests, r.eventsPerRequest(),
		r.ttfbP50.Round(time.Microsecond), r.ttfbP99.Round(time.Microsecond), r.totalP50.Round(time.Microsecond))
}

// runStreams sends streamed requests from n clients for d, one after
// another on each, and times each one's first body byte (its first event)
// and its end. Any answer but a 200 event stream fails the run.
func runStreams(ctx context.Context, rawURL string, header http.Header, body []byte, n int, d time.Duration) (streamResult, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, DisableCompression: true}}
	defer client.CloseIdleConnections()
	var (
		mu          sync.Mutex
		ttfb, total []time.Duration
		res         streamResult
		firstErr    error
		wg          sync.WaitGroup
	)
	end := time.Now().Add(d)
	buf := make([][]byte, n)
	for i := range n {
		buf[i] = make([]byte, 32<<10)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				first, whole, events, err := oneStream(ctx, client, rawURL, header, body, buf[i])
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				ttfb, total = append(ttfb, first), append(total, whole)
				res.requests++
				res.events += events
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return res, firstErr
	}
	slices.Sort(ttfb)
	slices.Sort(total)
	res.ttfbP50, res.ttfbP99 = ttfb[len(ttfb)/2], ttfb[len(ttfb)*99/100]
	res.totalP50 = total[len(total)/2]
	return res, nil
}

func oneStream(ctx context.Context, client *http.Client, rawURL string, header http.Header, body, buf []byte) (first, whole time.Duration, events int64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, 0, err
	}
	req.Header = header.Clone()
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return 0, 0, 0, fmt.Errorf("status %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	var prev byte
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 && first == 0 {
			first = time.Since(start)
		}
		for _, c := range buf[:n] {
			if c == '\n' && prev == '\n' {
				events++
			}
			if c != '\r' {
				prev = c
			}
		}
		if rerr == io.EOF {
			return first, time.Since(start), events, nil
		}
		if rerr != nil {
			return first, time.Since(start), events, fmt.Errorf("after %d events (%v, headers %v): %w", events, time.Since(start), resp.Header, rerr)
		}
	}
}

// playStreamHop is the reference for streams: a fiber app that forwards
// the request with net/http and relays the answer as it arrives, one
// chunk per read, and nothing else — the transports paymeter's own relay
// uses, without authentication, pricing or the ledger.
func playStreamHop(ctx context.Context, addr, upstream string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(func(c *fiber.Ctx) error {
		req, err := http.NewRequest(c.Method(), upstream+c.OriginalURL(), bytes.NewReader(c.Body()))
		if err != nil {
			return err
		}
		c.Request().Header.VisitAll(func(k, v []byte) { req.Header.Add(string(k), string(v)) })
		req.Header.Del("Content-Length")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		c.Status(resp.StatusCode)
		c.Set(fiber.HeaderContentType, resp.Header.Get("Content-Type"))
		c.Context().Response.SetBodyStream(resp.Body, -1)
		return nil
	})
	go app.Listener(ln)
	<-ctx.Done()
	return app.Shutdown()
}
