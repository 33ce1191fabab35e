package main

import (
	"bufio"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/paymeter/paymeter/internal/meter"
)

// rawGet sends one keep-alive GET on conn and returns the status line.
func rawGet(t *testing.T, conn net.Conn, r *bufio.Reader, path string) string {
	t.Helper()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: paymeter\r\n\r\n", path); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Status
}

// M7: server.max_connections caps the connections served at once: idle
// keep-alive connections hold their places, the next one is answered 503
// and closed, and a freed place is taken again.
func TestConnections_CappedAtMaxConnections(t *testing.T) {
	cfg := testConfig(t, newFixtureUpstream(t).URL())
	cfg.Server.MaxConnections = 3
	m := MustRunMain(t, cfg)
	addr := strings.TrimPrefix(m.URL(), "http://")
	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if st := rawGet(t, c, bufio.NewReader(c), "/healthz"); !strings.HasPrefix(st, "200") {
			t.Fatalf("connection %d: %s", len(held), st)
		}
		held = append(held, c)
	}
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	extra.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(extra, "GET /healthz HTTP/1.1\r\nHost: paymeter\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(extra), nil)
	if err != nil {
		t.Fatalf("connection past the cap: %v", err)
	}
	if e := mustError(t, resp, http.StatusServiceUnavailable, meter.ECodeOverloaded); e.Error.Message == "" {
		t.Fatal("connection past the cap: no message")
	}
	held[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		st := rawGet(t, c, bufio.NewReader(c), "/healthz")
		c.Close()
		if strings.HasPrefix(st, "200") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a connection closed: %s, want its place served", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// M7: limits.max_in_flight bounds the requests forwarded upstream at once,
// a stream counting until it ends. Past it a request is refused 503
// overloaded with Retry-After, quickly, before any hold: it reaches
// neither the upstream nor the journal. Once the slots free, requests go
// through again.
func TestInFlight_CappedAtMaxInFlight(t *testing.T) {
	up := newFixtureUpstream(t)
	up.Delay = 200 * time.Millisecond // per event for the stream (2.4 s), before the answer otherwise
	cfg := testConfig(t, up.URL())
	cfg.Limits.MaxInFlight = 2
	m := MustRunMain(t, cfg)
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i, body := range []string{helloChat, streamChat} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := post(t, m, "/v1/chat/completions", key, body)
			readAll(t, resp) // the stream: to its end
			statuses[i] = resp.StatusCode
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(up.seen()) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the two requests never reached the upstream")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The whole request is answered after 200 ms; the stream runs on: it
	// alone keeps one slot, and the other is free again.
	time.Sleep(400 * time.Millisecond)
	resp := post(t, m, "/v1/chat/completions", key, helloChat)
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("with one slot free: %d %s", resp.StatusCode, body)
	}
	// Two in flight again (the stream and one more): a third is refused.
	up.mu.Lock()
	up.Delay = time.Second
	up.mu.Unlock()
	go func() { readAll(t, post(t, m, "/v1/chat/completions", key, helloChat)) }()
	for len(up.seen()) < 4 {
		if time.Now().After(deadline) {
			t.Fatal("the fourth request never reached the upstream")
		}
		time.Sleep(5 * time.Millisecond)
	}
	seen := len(up.seen())
	start := time.Now()
	resp = post(t, m, "/v1/chat/completions", key, helloChat)
	retry := resp.Header.Get("Retry-After")
	mustError(t, resp, http.StatusServiceUnavailable, meter.ECodeOverloaded)
	if took := time.Since(start); took > 500*time.Millisecond || retry != "1" {
		t.Fatalf("refused after %s with Retry-After %q, want at once with 1", took, retry)
	}
	if got := len(up.seen()); got != seen {
		t.Fatalf("the refused request reached the upstream (%d requests, want %d)", got, seen)
	}
	wg.Wait()
	if statuses[0] != 200 || statuses[1] != 200 {
		t.Fatalf("statuses %v, want both served", statuses)
	}
	waitSettled(t, m, a.ID) // the fourth request too
	if n := len(usageEntries(t, m, a.ID)); n != 4 {
		t.Fatalf("usage entries %d, want the 4 served requests only", n)
	}
	up.mu.Lock()
	up.Delay = 0
	up.mu.Unlock()
	resp = post(t, m, "/v1/chat/completions", key, streamChat)
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "[DONE]") {
		t.Fatalf("after the slots freed: %d %s", resp.StatusCode, body)
	}
	mustVerify(t, m)
}

// countingUpstream is an address that only counts the connections made
// to it: what /readyz's upstream check does.
func countingUpstream(t *testing.T) (url string, dials *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	dials = new(atomic.Int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			dials.Add(1)
			c.Close()
		}
	}()
	return "http://" + ln.Addr().String() + "/v1", dials
}

// M7: /readyz's result is kept for a second: a flood of /readyz costs one
// ledger write and one upstream dial per second, not one per request.
func TestReadyz_CachedForASecond(t *testing.T) {
	url, dials := countingUpstream(t)
	m := MustRunMain(t, testConfig(t, url))
	commits := func() float64 { return metricValue(t, scrape(t, m), "paymeter_ledger_batch_ops", nil) }
	before := commits()
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				resp, err := http.Get(m.URL() + "/readyz")
				if err != nil {
					t.Error(err)
					return
				}
				if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
					t.Errorf("/readyz: %d %s", resp.StatusCode, body)
				}
			}
		}()
	}
	wg.Wait()
	// Within one second: one run of the checks; two if the flood
	// straddled the cache's expiry.
	runs := int64(time.Since(start)/time.Second) + 1
	waitDials(dials, 1)
	if got := dials.Load(); got < 1 || got > runs {
		t.Fatalf("40 /readyz made %d upstream dials, want at most %d", got, runs)
	}
	// (One more commit is the ledger's own chores', had one run.)
	if got := commits() - before; got < 1 || got > float64(runs+1) {
		t.Fatalf("40 /readyz made %v ledger commits, want at most %d", got, runs+1)
	}
	// Past the second, the checks run again.
	n := dials.Load()
	time.Sleep(1100 * time.Millisecond)
	resp, err := http.Get(m.URL() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	waitDials(dials, n+1)
	if got := dials.Load(); got != n+1 {
		t.Fatalf("dials %d after the cache expired, want %d", got, n+1)
	}
}

// waitDials waits, up to two seconds, for countingUpstream to have counted
// n dials: its accept loop may count one a moment after the connect it
// answers has returned to the checker.
func waitDials(dials *atomic.Int64, n int64) {
	for deadline := time.Now().Add(2 * time.Second); dials.Load() < n && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
}

// bigEvents is a stream of n events of about 1 KB each, and its usage.
func bigEvents(n int) []string {
	chunk := `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"demo-small","choices":[{"index":0,"delta":{"content":"` +
		strings.Repeat("x", 1000) + `"},"finish_reason":null}]}` + "\n\n"
	events := make([]string, 0, n+2)
	for range n {
		events = append(events, chunk)
	}
	return append(events,
		`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"demo-small","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":8,"total_tokens":18}}`+"\n\n",
		"data: [DONE]\n\n")
}

// M7: a client that stops reading a stream loses its connection within
// server.write_timeout: its request is metered and its hold let go while
// it still holds the socket open, and it never gets the stream's end.
func TestWriteTimeout_SlowReaderCut(t *testing.T) {
	up := newFixtureUpstream(t)
	up.Events = bigEvents(8000) // 8 MB: more than any socket buffers
	cfg := testConfig(t, up.URL())
	cfg.Server.WriteTimeout = Duration(time.Second)
	m := MustRunMain(t, cfg)
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	conn, err := net.Dial("tcp", strings.TrimPrefix(m.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: paymeter\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", key, len(streamChat), streamChat)
	head := make([]byte, 12)
	if _, err := io.ReadFull(conn, head); err != nil || string(head) != "HTTP/1.1 200" {
		t.Fatalf("status line %q: %v", head, err)
	}
	// The client reads no more. Within the write timeout (and the time to
	// fill the buffers) paymeter gives up on it and meters the request.
	start := time.Now()
	deadline := start.Add(15 * time.Second)
	for account(t, m, a.ID).Held != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stream to a client that stopped reading is still held after 15 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(usageEntries(t, m, a.ID)); n != 1 {
		t.Fatalf("usage entries %d, want the cut stream charged", n)
	}
	// What the client finally reads ends without the end of the stream.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	rest, err := io.ReadAll(conn)
	if strings.Contains(string(rest), "[DONE]") {
		t.Fatalf("the slow reader got the whole stream (%d bytes, err %v)", len(rest), err)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the connection was never closed (read %d bytes after %s; tail %q)", len(rest), time.Since(start), rest[max(0, len(rest)-200):])
	}
	mustVerify(t, m)
}

// M7: the write timeout bounds a stalled write, not a response: a stream
// that lasts several times server.write_timeout, read as it comes, runs to
// its end and is charged.
func TestWriteTimeout_LongStreamNotCut(t *testing.T) {
	up := newFixtureUpstream(t)
	up.Delay = 300 * time.Millisecond // per event: about 3 s in all
	cfg := testConfig(t, up.URL())
	cfg.Server.WriteTimeout = Duration(time.Second)
	m := MustRunMain(t, cfg)
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	start := time.Now()
	resp := post(t, m, "/v1/chat/completions", key, streamChat)
	body := readAll(t, resp)
	if took := time.Since(start); took < 2*time.Second {
		t.Fatalf("the stream took %s, want longer than the write timeout", took)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "data: [DONE]") {
		t.Fatalf("stream cut: %d %q", resp.StatusCode, body)
	}
	if cost := resp.Trailer.Get("X-Paymeter-Cost"); cost == "" || cost == "0" {
		t.Fatalf("X-Paymeter-Cost trailer %q", cost)
	}
	waitSettled(t, m, a.ID)
}

// M7: the SIWE nonce route is limited per IP before it writes a nonce:
// a flood, even with a fresh X-Forwarded-For on every request (not
// trusted by default), stores no more nonces than the limit.
func TestSignIn_NonceFloodLimitedBeforeWrite(t *testing.T) {
	cfg := testConfig(t, newFixtureUpstream(t).URL())
	cfg.SIWE.RateLimitPerMinute = 3
	m := MustRunMain(t, cfg)
	refused := 0
	for i := range 20 {
		req, _ := http.NewRequest(http.MethodGet, m.URL()+"/api/auth/siwe/nonce", nil)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
		resp := do(t, req)
		readAll(t, resp)
		if resp.StatusCode == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused != 17 {
		t.Fatalf("%d of 20 nonce requests refused, want 17", refused)
	}
	db, err := sql.Open("sqlite3", "file:"+cfg.Database+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM siwe_nonces").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("%d nonces stored, want the 3 allowed", n)
	}
}

// One client cannot take every place under server.max_connections: each
// address has server.max_connections_per_ip of them, and another address
// is still served; a trusted proxy, whose clients are many, is not capped.
func TestConnections_CappedPerClient(t *testing.T) {
	dialFrom := func(t *testing.T, m *Main, local string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", strings.TrimPrefix(m.URL(), "http://"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	get := func(t *testing.T, c net.Conn) *http.Response {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: paymeter\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	t.Run("per address", func(t *testing.T) {
		cfg := testConfig(t, newFixtureUpstream(t).URL())
		cfg.Server.MaxConnections, cfg.Server.MaxConnectionsPerIP = 100, 2
		m := MustRunMain(t, cfg)
		for i := range 2 {
			if resp := get(t, dialFrom(t, m, "127.0.0.1")); resp.StatusCode != http.StatusOK {
				t.Fatalf("connection %d: %d", i, resp.StatusCode)
			}
		}
		mustError(t, get(t, dialFrom(t, m, "127.0.0.1")), http.StatusServiceUnavailable, meter.ECodeOverloaded)
		if resp := get(t, dialFrom(t, m, "127.0.0.2")); resp.StatusCode != http.StatusOK {
			t.Fatalf("another address: %d, want it served", resp.StatusCode)
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		cfg := testConfig(t, newFixtureUpstream(t).URL())
		cfg.Server.MaxConnections, cfg.Server.MaxConnectionsPerIP = 100, 2
		cfg.Server.TrustedProxies = []string{"127.0.0.1/32"}
		m := MustRunMain(t, cfg)
		for i := range 4 {
			if resp := get(t, dialFrom(t, m, "127.0.0.1")); resp.StatusCode != http.StatusOK {
				t.Fatalf("connection %d from the trusted proxy: %d", i, resp.StatusCode)
			}
		}
	})
}

// No one owner takes every in-flight slot: one API key (streams it left
// included) holds at most limits.max_in_flight_per_owner of them, and
// another key is still served.
func TestInFlight_SharedAmongOwners(t *testing.T) {
	up := newFixtureUpstream(t)
	up.Delay = time.Second // before each whole answer
	cfg := testConfig(t, up.URL())
	cfg.Limits.MaxInFlight, cfg.Limits.MaxInFlightPerOwner = 4, 2
	m := MustRunMain(t, cfg)
	_, hog := mustApp(t, m, "1", meter.DefaultKeyScopes)
	_, other := mustApp(t, m, "1", meter.DefaultKeyScopes)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); readAll(t, post(t, m, "/v1/chat/completions", hog, helloChat)) }()
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(up.seen()) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the hog's requests never reached the upstream")
		}
		time.Sleep(5 * time.Millisecond)
	}
	mustError(t, post(t, m, "/v1/chat/completions", hog, helloChat), http.StatusServiceUnavailable, meter.ECodeOverloaded)
	if resp := post(t, m, "/v1/chat/completions", other, helloChat); resp.StatusCode != http.StatusOK {
		t.Fatalf("another key while the first holds its share: %d %s", resp.StatusCode, readAll(t, resp))
	}
	wg.Wait()
	// Its share is free again once its requests end.
	if resp := post(t, m, "/v1/chat/completions", hog, helloChat); resp.StatusCode != http.StatusOK {
		t.Fatalf("the first key after its requests ended: %d", resp.StatusCode)
	}
}
