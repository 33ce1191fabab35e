package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
)

// upstreamKey is what the fixture upstream demands; clients never send it.
const upstreamKey = "sk-upstream-fixture"

// fixtureUpstream replays testdata/upstream/ over real HTTP and records
// what it was sent, so that tests can check what paymeter forwards.
type fixtureUpstream struct {
	*httptest.Server
	// Status, when set, is answered instead of a fixture (with error_500.json).
	Status int
	// Delay is slept before answering (and between streamed events).
	Delay time.Duration
	// Events, when set, is streamed instead of the SSE fixture.
	Events []string
	// Gate, when set, holds every answer until it is closed.
	Gate chan struct{}

	mu       sync.Mutex
	requests []seenRequest
}

type seenRequest struct {
	Path   string
	Header http.Header
	Body   []byte
}

func newFixtureUpstream(tb testing.TB) *fixtureUpstream {
	tb.Helper()
	u := &fixtureUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	tb.Cleanup(u.Server.Close)
	return u
}

// URL returns the upstream's API root.
func (u *fixtureUpstream) URL() string { return u.Server.URL + "/v1" }

func (u *fixtureUpstream) seen() []seenRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]seenRequest(nil), u.requests...)
}

func (u *fixtureUpstream) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.requests = append(u.requests, seenRequest{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	status, delay, events, gate := u.Status, u.Delay, u.Events, u.Gate
	u.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}

	if r.Header.Get("Authorization") != "Bearer "+upstreamKey {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if delay > 0 && events == nil {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if status != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(fixture("error_500.json"))
		return
	}
	switch {
	case r.URL.Path == "/v1/models":
		serveJSON(w, "models.json")
	case r.URL.Path == "/v1/embeddings":
		serveJSON(w, "embeddings.json")
	case r.URL.Path == "/v1/completions":
		serveJSON(w, "completions.json")
	case bytes.Contains(body, []byte(`"stream":true`)):
		if events == nil {
			events = splitEvents(fixture("chat_stream.sse"))
		}
		u.stream(w, r, events, delay)
	default:
		serveJSON(w, "chat.json")
	}
}

func (u *fixtureUpstream) stream(w http.ResponseWriter, r *http.Request, events []string, delay time.Duration) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	for _, ev := range events {
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, ev)
		w.(http.Flusher).Flush()
	}
}

func serveJSON(w http.ResponseWriter, name string) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(fixture(name))
}

func fixture(name string) []byte {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "upstream", name))
	if err != nil {
		panic(err)
	}
	return b
}

// splitEvents cuts an SSE transcript into its events, blank line included.
func splitEvents(b []byte) []string {
	var out []string
	for _, ev := range strings.SplitAfter(string(b), "\n\n") {
		if ev != "" {
			out = append(out, ev)
		}
	}
	return out
}

// testConfig is the embedded defaults with a small, known price table.
func testConfig(tb testing.TB, upstreamURL string) *Config {
	tb.Helper()
	cfg, err := LoadConfig("", nil)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Listen = "127.0.0.1:0"
	cfg.Metrics.Listen = "127.0.0.1:0" // its own listener, on a free port
	cfg.Database = filepath.Join(tb.TempDir(), "paymeter.db")
	cfg.Upstream.URL, cfg.Upstream.APIKey = upstreamURL, upstreamKey
	cfg.Models = map[string]ModelConfig{
		"demo-small": {Input: amt(tb, "0.5"), Output: amt(tb, "1.5"), MaxOutputTokens: 4096},
		"demo-embed": {Input: amt(tb, "0.1")},
	}
	return cfg
}

// MustRunMain starts the whole program on a loopback port with a fresh
// database, and closes it when the test ends.
// MustRunMain runs paymeter on cfg until the test ends; setup, if given,
// adjusts the Main before it runs (such as the chain it dials).
func MustRunMain(tb testing.TB, cfg *Config, setup ...func(*Main)) *Main {
	tb.Helper()
	m := NewMain(cfg, discardLogger())
	for _, f := range setup {
		f(m)
	}
	if err := m.Run(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		// Spare connections the client dialled but never used would hold a
		// graceful shutdown until the server's read timeout.
		http.DefaultClient.CloseIdleConnections()
		if err := m.Close(); err != nil {
			tb.Error(err)
		}
	})
	return m
}

func discardLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func amt(tb testing.TB, s string) meter.Amount {
	tb.Helper()
	a, err := meter.ParseAmount(s)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// mustApp creates an app funded with credits and a key with the scopes.
func mustApp(tb testing.TB, m *Main, credits string, scopes meter.Scopes) (*meter.Account, string) {
	tb.Helper()
	ctx := context.Background()
	a := &meter.Account{Kind: meter.AccountApp, Name: "app"}
	if err := m.Ledger.CreateAccount(ctx, a); err != nil {
		tb.Fatal(err)
	}
	if c := amt(tb, credits); c > 0 {
		if _, err := m.Ledger.Credit(ctx, a.ID, meter.EntryGrant, c, ""); err != nil {
			tb.Fatal(err)
		}
	}
	key, err := auth.IssueKey(ctx, m.Keys, &meter.Key{AccountID: a.ID, Name: "test", Scopes: scopes}, false)
	if err != nil {
		tb.Fatal(err)
	}
	return a, key
}

// post sends a JSON body with the key as a bearer token.
func post(tb testing.TB, m *Main, path, key, body string) *http.Response {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, m.URL()+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	return resp
}

// readAll reads and closes a response body.
func readAll(tb testing.TB, resp *http.Response) []byte {
	tb.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// apiError is the error shape of docs/design.md §6.
type apiError struct {
	Error struct {
		Code      string         `json:"code"`
		Message   string         `json:"message"`
		Type      string         `json:"type"`
		Details   map[string]any `json:"details"`
		RequestID string         `json:"request_id"`
	} `json:"error"`
}

// mustError checks a response is an error of the given status and code
// in the one JSON shape, and returns it.
func mustError(tb testing.TB, resp *http.Response, status int, code string) apiError {
	tb.Helper()
	body := readAll(tb, resp)
	if resp.StatusCode != status {
		tb.Fatalf("status=%d, want %d; body %s", resp.StatusCode, status, body)
	}
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil {
		tb.Fatalf("error body %q is not JSON: %v", body, err)
	}
	if e.Error.Code != code || e.Error.Message == "" || e.Error.Type == "" || e.Error.RequestID == "" {
		tb.Fatalf("error=%+v, want code %q with message, type and request id", e.Error, code)
	}
	if got := resp.Header.Get("X-Request-Id"); got != e.Error.RequestID {
		tb.Fatalf("X-Request-Id=%q, body request_id=%q, want equal", got, e.Error.RequestID)
	}
	return e
}

// account reads an account's balance and held amounts.
func account(tb testing.TB, m *Main, id int64) *meter.Account {
	tb.Helper()
	a, err := m.Ledger.FindAccountByID(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// usageEntries returns the account's usage journal entries, newest first.
func usageEntries(tb testing.TB, m *Main, id int64) []*meter.Entry {
	tb.Helper()
	all, err := m.Ledger.FindEntries(context.Background(), meter.EntryFilter{AccountID: id, Limit: 1000})
	if err != nil {
		tb.Fatal(err)
	}
	var out []*meter.Entry
	for _, e := range all {
		if e.Kind == meter.EntryUsage {
			out = append(out, e)
		}
	}
	return out
}

// mustVerify fails the test on any ledger invariant violation.
func mustVerify(tb testing.TB, m *Main) {
	tb.Helper()
	v, err := m.Ledger.Verify(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	if len(v) > 0 {
		tb.Fatalf("ledger verify: %q", v)
	}
}

// waitSettled waits until the account holds nothing, i.e. every request
// on it has been captured or released.
func waitSettled(tb testing.TB, m *Main, id int64) *meter.Account {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		a := account(tb, m, id)
		if a.Held == 0 {
			return a
		}
		if time.Now().After(deadline) {
			tb.Fatalf("account %d still holds %s", id, a.Held)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readEvents reads n SSE events from r.
func readEvents(tb testing.TB, r *bufio.Reader, n int) []string {
	tb.Helper()
	var out []string
	var cur strings.Builder
	for len(out) < n {
		line, err := r.ReadString('\n')
		if err != nil {
			tb.Fatalf("after %d events: %v", len(out), err)
		}
		cur.WriteString(line)
		if line == "\n" {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	return out
}
