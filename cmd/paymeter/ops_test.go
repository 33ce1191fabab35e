package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/sqlite"
)

// scrape fetches /metrics from the metrics listener and parses it with
// the Prometheus text parser.
func scrape(t *testing.T, m *Main) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(m.MetricsURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return fams
}

// metricValue sums the counter, gauge or histogram count of the series of
// family name whose labels include want.
func metricValue(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		return 0
	}
	var sum float64
series:
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue series
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

// /metrics in the Prometheus text format: every series the issue names is
// there, and moves with the traffic.
func TestMetrics_ScrapeParsesAndMoves(t *testing.T) {
	up := newFixtureUpstream(t)
	fac := newFacilitatorStub(t)
	m := MustRunMain(t, x402Config(t, up.URL(), fac.URL))
	_, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	before := scrape(t, m)
	for _, name := range []string{"paymeter_credits_charged_total", "paymeter_ledger_batch_ops",
		"paymeter_ledger_commit_seconds", "paymeter_holds_active", "go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := before[name]; !ok {
			t.Errorf("no %s in the first scrape", name)
		}
	}
	chat := map[string]string{"route": "/v1/chat/completions", "status": "200", "auth": "api_key"}

	resp := post(t, m, "/v1/chat/completions", key, helloChat)
	if readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("chat: %d", resp.StatusCode)
	}
	// An x402-paid request, its replay, and an unpaid one.
	payer, _ := crypto.GenerateKey()
	c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	h, v, _ := payment(t, payer, c, 1)
	for _, want := range []int{http.StatusOK, http.StatusConflict} {
		resp := postWith(t, m, "/v1/chat/completions", chatBody, h, v)
		if readAll(t, resp); resp.StatusCode != want {
			t.Fatalf("paid request: %d, want %d", resp.StatusCode, want)
		}
	}

	// Requests are counted once answered; the scrape after the last answer sees them.
	after := scrape(t, m)
	for _, tt := range []struct {
		name   string
		labels map[string]string
		moved  float64
	}{
		{"paymeter_http_requests_total", chat, 1},
		{"paymeter_http_requests_total", map[string]string{"route": "/v1/chat/completions", "status": "402", "auth": "none"}, 1},
		{"paymeter_http_requests_total", map[string]string{"route": "/v1/chat/completions", "status": "200", "auth": "x402"}, 1},
		{"paymeter_http_requests_total", map[string]string{"route": "/v1/chat/completions", "status": "409", "auth": "none"}, 1},
		{"paymeter_http_request_duration_seconds", map[string]string{"route": "/v1/chat/completions"}, 4},
		{"paymeter_upstream_duration_seconds", map[string]string{"route": "/v1/chat/completions", "outcome": "ok"}, 2},
		{"paymeter_payments_total", map[string]string{"purpose": "request", "result": "settled"}, 1},
		{"paymeter_payments_total", map[string]string{"purpose": "request", "result": "replayed"}, 1},
	} {
		if got := metricValue(t, after, tt.name, tt.labels) - metricValue(t, before, tt.name, tt.labels); got != tt.moved {
			t.Errorf("%s%v moved by %v, want %v", tt.name, tt.labels, got, tt.moved)
		}
	}
	if got := metricValue(t, after, "paymeter_ledger_batch_ops", nil) - metricValue(t, before, "paymeter_ledger_batch_ops", nil); got < 2 {
		t.Errorf("ledger batches moved by %v, want at least the two captures", got)
	}
	if charged := metricValue(t, after, "paymeter_credits_charged_total", nil); charged < 0.0000335*2-1e-12 {
		t.Errorf("credits charged %v, want at least the two requests' cost", charged)
	}

	// A request in flight holds credit: the gauge shows it.
	up.mu.Lock()
	up.Delay = 500 * time.Millisecond
	up.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		readAll(t, post(t, m, "/v1/chat/completions", key, helloChat))
	}()
	deadline := time.Now().Add(2 * time.Second)
	for metricValue(t, scrape(t, m), "paymeter_holds_active", nil) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("paymeter_holds_active never showed the request in flight")
		}
		time.Sleep(20 * time.Millisecond)
	}
	<-done
	if got := metricValue(t, scrape(t, m), "paymeter_holds_active", nil); got != 0 {
		t.Fatalf("holds active %v after the request, want 0", got)
	}
}

// /healthz is the process; /readyz the database and the upstream.
func TestReadyz(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(m.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
	}

	cfg := testConfig(t, closedPortURL(t))
	down := MustRunMain(t, cfg)
	resp, err := http.Get(down.URL() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	e := mustError(t, resp, http.StatusServiceUnavailable, meter.ECodeUnavailable)
	checks, _ := e.Error.Details["checks"].(map[string]any)
	if checks["upstream"] != "failing" || checks["database"] != "ok" {
		t.Fatalf("checks %v, want the upstream failing and the database ok", checks)
	}
	// The healthz of a process whose upstream is down is still fine.
	resp, err = http.Get(down.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	if readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %d", resp.StatusCode)
	}
}

// SIGTERM while a stream is running: paymeter stops accepting, lets the
// stream finish, captures its cost, flushes the ledger and returns
// without error (the process exits 0).
func TestGracefulShutdown_SIGTERMDuringStream(t *testing.T) {
	up := newFixtureUpstream(t)
	up.Delay = 100 * time.Millisecond // between events: the stream lasts about a second
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "paymeter.db")

	// An app and a key, made as the CLI would before serving.
	db, l, err := openLedger(dbPath, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	app := &meter.Account{Kind: meter.AccountApp, Name: "app"}
	if err := l.CreateAccount(t.Context(), app); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Credit(t.Context(), app.ID, meter.EntryGrant, amt(t, "1"), ""); err != nil {
		t.Fatal(err)
	}
	key, err := auth.IssueKey(t.Context(), sqlite.NewKeyStore(db), &meter.Key{AccountID: app.ID, Name: "k", Scopes: meter.DefaultKeyScopes}, false)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	db.Close()
	cfgPath := filepath.Join(dir, "paymeter.yaml")
	cfgYAML := fmt.Sprintf("listen: 127.0.0.1:0\nmetrics: {listen: 127.0.0.1:0}\ndatabase: %q\nupstream: {url: %q, api_key: %q}\n", dbPath, up.URL(), upstreamKey)
	if err := os.WriteFile(cfgPath, []byte(cfgYAML), 0o600); err != nil {
		t.Fatal(err)
	}

	// serve as main runs it: until SIGINT or SIGTERM.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	var logs syncBuffer
	served := make(chan error, 1)
	go func() { served <- run(ctx, []string{"serve", "--config", cfgPath}, &logs, &logs) }()
	addr := waitListening(t, &logs, served)

	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/chat/completions", strings.NewReader(streamChat))
	req.Header.Set("Authorization", "Bearer "+key)
	client := &http.Client{Transport: &http.Transport{}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	first := readEvents(t, r, 1)
	if !strings.Contains(first[0], "chat.completion.chunk") {
		t.Fatalf("first event %q", first[0])
	}

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// No new connection is accepted once the shutdown begins.
	refused := time.Now().Add(2 * time.Second)
	for {
		conn, err := (&http.Client{Transport: &http.Transport{}, Timeout: time.Second}).Get("http://" + addr + "/healthz")
		if err != nil {
			break
		}
		conn.Body.Close()
		if time.Now().After(refused) {
			t.Fatal("still accepting connections 2 s after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The stream in flight runs to its end, with its cost.
	var rest bytes.Buffer
	if _, err := rest.ReadFrom(r); err != nil {
		t.Fatalf("stream cut: %v", err)
	}
	if !strings.Contains(rest.String(), "data: [DONE]") {
		t.Fatalf("stream did not finish: %q", rest.String())
	}
	cost, err := meter.ParseAmount(resp.Trailer.Get("X-Paymeter-Cost"))
	if err != nil || cost <= 0 {
		t.Fatalf("X-Paymeter-Cost trailer %q", resp.Trailer.Get("X-Paymeter-Cost"))
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve returned %v, want nil (exit 0)", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return after SIGTERM")
	}

	// Reopened: the cost is in the journal, no hold is left, the ledger verifies.
	db, l, err = openLedger(dbPath, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	defer l.Close()
	a, err := l.FindAccountByID(t.Context(), app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Balance != amt(t, "1")-cost || a.Held != 0 {
		t.Fatalf("balance %s held %s, want 1 - %s and nothing held", a.Balance, a.Held, cost)
	}
	if v, err := l.Verify(t.Context()); err != nil || len(v) > 0 {
		t.Fatalf("ledger verify: %v %v", v, err)
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Fatalf("logs: %s", logs.String())
	}
}

// waitListening waits for serve's "paymeter listening" log line and
// returns the address.
func waitListening(t *testing.T, logs *syncBuffer, served chan error) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(logs.String(), "\n") {
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "paymeter listening" {
				return rec.Addr
			}
		}
		select {
		case err := <-served:
			t.Fatalf("serve returned %v before listening; logs: %s", err, logs.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("serve not listening after 10 s; logs: %s", logs.String())
	return ""
}
