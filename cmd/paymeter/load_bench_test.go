package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/demo"
	"github.com/paymeter/paymeter/internal/loadtest"
	"github.com/paymeter/paymeter/internal/meter"
)

// BenchmarkLoad is the load comparison of DESIGN.md §8, in one run on one
// machine: the demo upstream answered directly, through nginx proxy_pass
// (when nginx is installed), through a bare fiber proxy hop, and through
// paymeter with metered API-key requests (auth, hold, forward, capture,
// synchronous=FULL, answer only once the charge is durable). Every figure
// is taken in the same run, so the ratios are what to read.
//
//	go test -run '^$' -bench BenchmarkLoad -benchtime 1x ./cmd/paymeter
//
// PAYMETER_LOAD_SECONDS sets the measured seconds per target (default 5);
// PAYMETER_LOAD_ONLY=name runs one target alone, for profiling.
func BenchmarkLoad(b *testing.B) {
	seconds := 5
	if s := os.Getenv("PAYMETER_LOAD_SECONDS"); s != "" {
		fmt.Sscan(s, &seconds)
	}
	upstreamURL := startDemo(b)

	hop, err := loadtest.NewBareHop(strings.TrimSuffix(upstreamURL, "/v1"))
	if err != nil {
		b.Fatal(err)
	}
	hopLn := listen(b)
	go hop.Listener(hopLn)
	b.Cleanup(func() { hop.Shutdown() })

	cfg := testConfig(b, upstreamURL)
	cfg.Upstream.APIKey = demoKey
	cfg.Models = map[string]ModelConfig{"demo-small": {Input: amt(b, "0.5"), Output: amt(b, "1.5"), MaxOutputTokens: 4096}}
	// Access logs are formatted as in production, then discarded: the
	// terminal is not what is measured.
	m := NewMain(cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err := m.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	a, key := mustApp(b, m, "1000000", meter.DefaultKeyScopes)

	body := []byte(`{"model":"demo-small","max_tokens":16,"messages":[{"role":"user","content":"Say hello."}]}`)
	targets := []struct {
		name   string
		target loadtest.Target
	}{
		{"direct", loadtest.Target{URL: upstreamURL + "/chat/completions", Body: body,
			Header: map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + demoKey}}},
		{"barehop", loadtest.Target{URL: "http://" + hopLn.Addr().String() + "/v1/chat/completions", Body: body,
			Header: map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + demoKey}}},
		{"paymeter", loadtest.Target{URL: m.URL() + "/v1/chat/completions", Body: body,
			Header: map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + key}}},
	}
	if nginxURL := startNginx(b, upstreamURL); nginxURL != "" {
		targets = append(targets, struct {
			name   string
			target loadtest.Target
		}{"nginx", loadtest.Target{URL: nginxURL + "/v1/chat/completions", Body: body,
			Header: map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + demoKey}}})
	}

	only := os.Getenv("PAYMETER_LOAD_ONLY") // e.g. "paymeter", to profile one target
	b.ResetTimer()
	for _, conns := range []int{64, 256} {
		rps := map[string]float64{}
		for _, t := range targets {
			if only != "" && t.name != only {
				continue
			}
			res, err := loadtest.Run(context.Background(), t.target, loadtest.Options{
				Connections: conns, Duration: time.Duration(seconds) * time.Second, Warmup: time.Second,
			})
			if err != nil {
				b.Fatal(err)
			}
			if res.Errors > 0 {
				b.Fatalf("%s: %d errors (statuses %v)", t.name, res.Errors, res.Statuses)
			}
			rps[t.name] = res.RPS
			if t.name == "paymeter" {
				st := m.Ledger.Stats()
				fmt.Fprintf(os.Stdout, "ledger so far: %d batches, %.1f ops/batch, %s busy per batch (%s applying)\n",
					st.Batches, float64(st.Ops)/float64(st.Batches), st.Busy/time.Duration(st.Batches), st.Apply/time.Duration(st.Batches))
			}
			fmt.Fprintf(os.Stdout, "load c=%-3d %-8s %s\n", conns, t.name, res)
			b.ReportMetric(res.RPS, fmt.Sprintf("%s-c%d-req/s", t.name, conns))
			b.ReportMetric(float64(res.P99.Microseconds()), fmt.Sprintf("%s-c%d-p99-µs", t.name, conns))
		}
		fmt.Fprintf(os.Stdout, "load c=%-3d ratios: barehop/direct %.2f  paymeter/barehop %.2f  paymeter/direct %.2f",
			conns, rps["barehop"]/rps["direct"], rps["paymeter"]/rps["barehop"], rps["paymeter"]/rps["direct"])
		if rps["nginx"] > 0 {
			fmt.Fprintf(os.Stdout, "  nginx/direct %.2f", rps["nginx"]/rps["direct"])
		}
		fmt.Fprintln(os.Stdout)
		b.ReportMetric(rps["paymeter"]/rps["barehop"], fmt.Sprintf("paymeter/barehop-c%d", conns))
	}
	b.StopTimer()
	// Every metered request was charged, and the ledger is sound.
	mustVerify(b, m)
	if n := len(usageEntries(b, m, a.ID)); n == 0 {
		b.Fatal("no usage entries: paymeter did not meter")
	}
}

// demoKey is the upstream key the benchmark's demo upstream demands.
const demoKey = "demo-upstream-key"

// startDemo serves the built-in demo upstream on loopback and returns its API root.
func startDemo(b *testing.B) string {
	ln := listen(b)
	srv := &http.Server{Handler: &demo.Server{APIKey: demoKey}}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/v1"
}

func listen(b *testing.B) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	return ln
}

// startNginx runs Debian's nginx as a reference proxy_pass peer, if it is
// installed, and returns its URL; "" when it is not.
func startNginx(b *testing.B, upstreamURL string) string {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		fmt.Fprintln(os.Stdout, "load: nginx not installed; skipping the nginx reference (apt-get install nginx)")
		return ""
	}
	ln := listen(b)
	addr := ln.Addr().String()
	ln.Close()
	dir := b.TempDir()
	upstreamHost := strings.TrimPrefix(strings.TrimSuffix(upstreamURL, "/v1"), "http://")
	conf := fmt.Sprintf(`daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %[1]s;
  proxy_temp_path %[1]s;
  upstream demo { server %[3]s; keepalive 256; }
  server {
    listen %[2]s;
    location / {
      proxy_pass http://demo;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`, dir, addr, upstreamHost)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", path, "-p", dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
	}
	b.Fatal("nginx did not start")
	return ""
}
