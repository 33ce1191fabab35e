package main

import (
	"bufio"
	"context"
	"database/sql"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
)

// The tests here are about requests that outlive their holds (ledger.hold_ttl),
// the x402 apply window, limits.max_request_duration or shutdown_timeout:
// whatever ends them, they are charged for what they delivered, and the charge
// counts against the caller's budget.

// longStream asks for a long answer; with bigEvents the client gets megabytes.
const longStream = `{"model":"demo-small","stream":true,"max_tokens":1000,"messages":[{"role":"user","content":"Tell me a long story."}]}`

// wideEvents is a stream of n events of size bytes of text each, with no usage.
func wideEvents(n, size int) []string {
	word := strings.Repeat("x", size)
	var out []string
	for range n {
		out = append(out, `data: {"choices":[{"index":0,"delta":{"content":"`+word+`"}}]}`+"\n\n")
	}
	return append(out, "data: [DONE]\n\n")
}

// shortHolds makes holds and unapplied x402 payments expire within two
// seconds and the sweeps run ten times a second; requests are cut after a
// second (though a client that reads nothing can keep one open longer).
func shortHolds(cfg *Config) *Config {
	cfg.Ledger.HoldTTL = Duration(2 * time.Second)
	cfg.Ledger.ExpiryInterval = Duration(100 * time.Millisecond)
	cfg.Upstream.Timeout = Duration(time.Second)
	cfg.X402.SweepInterval = Duration(100 * time.Millisecond)
	cfg.Limits.MaxRequestDuration = Duration(time.Second)
	return cfg
}

// worstCase is what paymeter holds for body: the "required" of the 402 an
// account without credit gets for it.
func worstCase(t *testing.T, m *Main, body string) meter.Amount {
	t.Helper()
	_, broke := mustApp(t, m, "0", meter.DefaultKeyScopes)
	e := mustError(t, post(t, m, "/v1/chat/completions", broke, body), http.StatusPaymentRequired, meter.ECodeInsufficientCredit)
	required, _ := e.Error.Details["required"].(string)
	return amt(t, required)
}

// slowClient sent a request and reads nothing of the answer until finish:
// with a tiny receive buffer, paymeter's writes to it block.
type slowClient struct {
	conn net.Conn
	req  *http.Request
}

func startSlowClient(t *testing.T, m *Main, body string, header ...string) *slowClient {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	conn, err := d.Dial("tcp", m.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	req, _ := http.NewRequest(http.MethodPost, m.URL()+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	return &slowClient{conn: conn, req: req}
}

// finish reads the whole answer: its status, body and cost trailer.
func (c *slowClient) finish(t *testing.T) (status int, body, cost string) {
	t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c.conn), c.req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	return resp.StatusCode, string(b), resp.Trailer.Get("X-Paymeter-Cost")
}

// tail is the end of a long body, for messages.
func tail(s string) string { return s[max(0, len(s)-200):] }

// A client that reads nothing keeps its stream open past ledger.hold_ttl.
// The hold stays while the request runs, so its credit cannot be held a
// second time (today the expiry sweep releases it: a second stream spends
// the same credit and the first one's late capture finds nothing left), and
// the stream is charged what it delivered: here its whole hold.
func TestHolds_SlowReaderPastHoldTTLIsCharged(t *testing.T) {
	up := newFixtureUpstream(t)
	up.Events = wideEvents(64, 128<<10) // 8 MB: more than the socket buffers take
	m := MustRunMain(t, shortHolds(testConfig(t, up.URL())))
	worst := worstCase(t, m, longStream)
	a, key := mustApp(t, m, worst.String(), meter.DefaultKeyScopes)

	slow := startSlowClient(t, m, longStream, "Authorization", "Bearer "+key)
	time.Sleep(2*time.Second + 500*time.Millisecond) // past hold_ttl, and a few expiry sweeps
	if got := account(t, m, a.ID).Held; got != worst {
		t.Fatalf("held %s after hold_ttl while the stream runs, want its hold %s", got, worst)
	}
	// The credit is still held: a second request for it is refused.
	mustError(t, post(t, m, "/v1/chat/completions", key, longStream), http.StatusPaymentRequired, meter.ECodeInsufficientCredit)

	status, body, cost := slow.finish(t)
	if status != http.StatusOK || !strings.Contains(body, `"code":"upstream_timeout"`) || strings.Contains(body, "[DONE]") {
		t.Fatalf("status %d, stream ends %q; want it cut by max_request_duration with an error event", status, tail(body))
	}
	if cost != worst.String() {
		t.Fatalf("X-Paymeter-Cost %q, want the hold %s (megabytes were delivered)", cost, worst)
	}
	acct := waitSettled(t, m, a.ID)
	entries := usageEntries(t, m, a.ID)
	if len(entries) != 1 || entries[0].Amount != -worst || acct.Balance != 0 {
		t.Fatalf("entries %+v balance %s; want one charge of %s, nothing left", entries, acct.Balance, worst)
	}
	mustVerify(t, m)
}

// A paid x402 stream that outlives the apply window (x402 payments not
// applied within ledger.hold_ttl become change) is charged; today the
// sweep credits the whole payment back as change and the stream is free.
func TestHolds_X402StreamPastApplyWindowIsCharged(t *testing.T) {
	up := newFixtureUpstream(t)
	up.Events = wideEvents(64, 128<<10)
	m := MustRunMain(t, shortHolds(x402Config(t, up.URL(), newFacilitatorStub(t).URL)))
	key, _ := crypto.GenerateKey()
	payer := crypto.PubkeyToAddress(key.PublicKey)

	c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", longStream), meter.ECodePaymentRequired)
	h, v, a := payment(t, key, c, 1)
	paid := meter.USDC(a.Value.Int64()).Amount()
	slow := startSlowClient(t, m, longStream, h, v)
	time.Sleep(2*time.Second + 500*time.Millisecond)
	status, body, cost := slow.finish(t)
	if status != http.StatusOK || !strings.Contains(body, "xxxx") {
		t.Fatalf("status %d body %q", status, tail(body))
	}
	charged, err := meter.ParseAmount(cost)
	if err != nil || charged <= 0 || charged > paid {
		t.Fatalf("X-Paymeter-Cost %q, want a charge within the payment %s", cost, paid)
	}
	w := walletOf(t, m, payer)
	if w == nil || w.Balance != paid-charged {
		t.Fatalf("wallet %+v, want the payment %s less the charge %s", w, paid, charged)
	}
	entries := usageEntries(t, m, w.ID)
	if len(entries) != 1 || entries[0].Amount != -charged {
		t.Fatalf("usage %+v, want one charge of %s", entries, charged)
	}
	mustVerify(t, m)
}

// A session's spend cap counts a stream that outlived its hold: today its
// hold is released under it, the late capture is booked but not counted
// against the cap, and the session spends past it.
func TestHolds_SessionCapCountsStreamPastHoldTTL(t *testing.T) {
	up := newFixtureUpstream(t)
	up.Events = wideEvents(64, 128<<10)
	m := MustRunMain(t, shortHolds(testConfig(t, up.URL())))
	worst := worstCase(t, m, longStream)
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	s := mintSession(t, m, key, `{"spendCap":"`+worst.String()+`"}`)

	slow := startSlowClient(t, m, longStream, "Authorization", "Bearer "+s.SessionToken)
	time.Sleep(2*time.Second + 500*time.Millisecond)
	if _, _, cost := slow.finish(t); cost != worst.String() {
		t.Fatalf("X-Paymeter-Cost %q, want the whole cap %s", cost, worst)
	}
	waitSettled(t, m, a.ID)
	// Without that stream's charge, the cap would fit this request again.
	e := mustError(t, post(t, m, "/v1/chat/completions", s.SessionToken, longStream), http.StatusForbidden, meter.ECodeSpendCapExceeded)
	if got := e.Error.Details["spent"]; got != worst.String() {
		t.Fatalf("spent %v, want %s", got, worst)
	}
	mustVerify(t, m)
}

// A capture whose hold is gone (released under it by whatever means) is
// still charged, and counted against the subject's budget.
func TestHolds_LateCaptureCountsAgainstCap(t *testing.T) {
	up := newFixtureUpstream(t)
	up.Events, up.Delay = slowEvents(80), 50*time.Millisecond // four seconds
	m := MustRunMain(t, testConfig(t, up.URL()))
	worst := worstCase(t, m, longStream)
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	s := mintSession(t, m, key, `{"spendCap":"`+worst.String()+`"}`)

	resp := post(t, m, "/v1/chat/completions", s.SessionToken, longStream)
	readEvents(t, bufio.NewReader(resp.Body), 1)
	id := storedHold(t, m)
	if err := m.Ledger.Release(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	body := string(readAll(t, resp))
	if !strings.Contains(body, "[DONE]") {
		t.Fatalf("stream ends %q", tail(body))
	}
	waitSettled(t, m, a.ID)
	entries := usageEntries(t, m, a.ID)
	if len(entries) != 1 || entries[0].Amount >= 0 {
		t.Fatalf("usage %+v, want one charge", entries)
	}
	charged := -entries[0].Amount
	e := mustError(t, post(t, m, "/v1/chat/completions", s.SessionToken, longStream), http.StatusForbidden, meter.ECodeSpendCapExceeded)
	if got := e.Error.Details["spent"]; got != charged.String() {
		t.Fatalf("spent %v, want the late charge %s", got, charged)
	}
	mustVerify(t, m)
}

// storedHold waits until exactly one hold is stored and returns its id.
func storedHold(t *testing.T, m *Main) string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+m.Config.Database+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var id string
		err := db.QueryRow(`SELECT id FROM holds`).Scan(&id)
		if err == nil {
			return id
		}
		if time.Now().After(deadline) {
			t.Fatalf("no stored hold: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// limits.max_request_duration ends a stream with an error event, charged
// for what it delivered; a whole request past it is a 504, charged nothing.
func TestHolds_MaxRequestDuration(t *testing.T) {
	t.Run("stream", func(t *testing.T) {
		up := newFixtureUpstream(t)
		up.Events, up.Delay = slowEvents(100), 50*time.Millisecond // five seconds
		cfg := testConfig(t, up.URL())
		cfg.Limits.MaxRequestDuration = Duration(time.Second)
		m := MustRunMain(t, cfg)
		worst := worstCase(t, m, longStream)
		a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
		start := time.Now()
		resp := post(t, m, "/v1/chat/completions", key, longStream)
		body := string(readAll(t, resp))
		if took := time.Since(start); took > 3*time.Second {
			t.Fatalf("stream ran %s, want it cut after about a second", took)
		}
		if !strings.Contains(body, "word005") || !strings.Contains(body, `"code":"upstream_timeout"`) || strings.Contains(body, "[DONE]") {
			t.Fatalf("stream %q, want words then an upstream_timeout error event", tail(body))
		}
		cost, err := meter.ParseAmount(resp.Trailer.Get("X-Paymeter-Cost"))
		if err != nil || cost <= 0 || cost >= worst {
			t.Fatalf("X-Paymeter-Cost %q, want what was delivered: above 0, below the hold %s", resp.Trailer.Get("X-Paymeter-Cost"), worst)
		}
		acct := waitSettled(t, m, a.ID)
		if entries := usageEntries(t, m, a.ID); len(entries) != 1 || !entries[0].Estimated || acct.Balance != amt(t, "1")-cost {
			t.Fatalf("entries %+v balance %s, want one estimated charge of %s", entries, acct.Balance, cost)
		}
		mustVerify(t, m)
	})
	t.Run("whole", func(t *testing.T) {
		up := newFixtureUpstream(t)
		up.Delay = 3 * time.Second
		cfg := testConfig(t, up.URL())
		cfg.Limits.MaxRequestDuration = Duration(500 * time.Millisecond)
		m := MustRunMain(t, cfg)
		a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
		start := time.Now()
		mustError(t, post(t, m, "/v1/chat/completions", key, helloChat), http.StatusGatewayTimeout, meter.ECodeUpstreamTimeout)
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("answered after %s, want about half a second", took)
		}
		if acct := waitSettled(t, m, a.ID); acct.Balance != amt(t, "1") || len(usageEntries(t, m, a.ID)) != 0 {
			t.Fatalf("balance %s, want nothing charged", acct.Balance)
		}
		mustVerify(t, m)
	})
}

// A stream still running when shutdown_timeout runs out is charged what
// it delivered before the ledger closes, whether its client reads on or
// reads nothing (paymeter's write to it blocked); today its hold is
// released and it goes free.
func TestHolds_StreamPastShutdownTimeoutIsCharged(t *testing.T) {
	t.Run("reading", func(t *testing.T) {
		up := newFixtureUpstream(t)
		up.Events, up.Delay = slowEvents(100), 50*time.Millisecond // five seconds
		m, cfg := runUnmanaged(t, up)
		a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
		client := &http.Client{Transport: &http.Transport{}}
		req, _ := http.NewRequest(http.MethodPost, m.URL()+"/v1/chat/completions", strings.NewReader(longStream))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		r := bufio.NewReader(resp.Body)
		readEvents(t, r, 3)
		rest := make(chan string, 1)
		go func() { b, _ := io.ReadAll(r); rest <- string(b) }() // the client reads on
		mustClose(t, m)
		if got := <-rest; !strings.Contains(got, `"code":"unavailable"`) || strings.Contains(got, "[DONE]") {
			t.Fatalf("stream ends %q, want an unavailable error event", tail(got))
		}
		charge := mustChargedAfterClose(t, cfg, a.ID)
		if charge <= 0 || charge >= worstOf(t, longStream) {
			t.Fatalf("charged %s, want what a few words cost", charge)
		}
	})
	t.Run("not reading", func(t *testing.T) {
		up := newFixtureUpstream(t)
		up.Events = wideEvents(64, 128<<10)
		m, cfg := runUnmanaged(t, up)
		a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
		startSlowClient(t, m, longStream, "Authorization", "Bearer "+key)
		time.Sleep(300 * time.Millisecond) // paymeter's writes block
		mustClose(t, m)
		if charge := mustChargedAfterClose(t, cfg, a.ID); charge != worstOf(t, longStream) {
			t.Fatalf("charged %s, want the hold (megabytes were delivered)", charge)
		}
	})
}

// runUnmanaged runs paymeter with a shutdown_timeout of a second; the
// test closes it.
func runUnmanaged(t *testing.T, up *fixtureUpstream) (*Main, *Config) {
	t.Helper()
	cfg := testConfig(t, up.URL())
	cfg.ShutdownTimeout = Duration(time.Second)
	m := NewMain(cfg, discardLogger())
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m, cfg
}

func mustClose(t *testing.T, m *Main) {
	t.Helper()
	closed := make(chan struct{})
	go func() { m.Close(); close(closed) }() // its error: the deadline passed
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
}

// worstOf is the hold of body at testConfig's prices.
func worstOf(t *testing.T, body string) meter.Amount {
	t.Helper()
	m := MustRunMain(t, testConfig(t, "http://127.0.0.1:1/v1"))
	return worstCase(t, m, body)
}

// mustChargedAfterClose reopens the closed program's database and returns
// what the account's one usage entry charged, checking that nothing is
// held and the ledger verifies.
func mustChargedAfterClose(t *testing.T, cfg *Config, accountID int64) meter.Amount {
	t.Helper()
	db, l, err := openLedger(cfg.Database, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	defer l.Close()
	acct, err := l.FindAccountByID(t.Context(), accountID)
	if err != nil {
		t.Fatal(err)
	}
	all, err := l.FindEntries(t.Context(), meter.EntryFilter{AccountID: accountID})
	if err != nil {
		t.Fatal(err)
	}
	var entries []*meter.Entry
	for _, e := range all {
		if e.Kind == meter.EntryUsage {
			entries = append(entries, e)
		}
	}
	if len(entries) != 1 || entries[0].Amount >= 0 || acct.Held != 0 || acct.Balance != amt(t, "1")+entries[0].Amount {
		t.Fatalf("account %+v usage %+v, want the stream charged for what it delivered and nothing held", acct, entries)
	}
	if v, err := l.Verify(t.Context()); err != nil || len(v) > 0 {
		t.Fatalf("ledger verify: %v %v", v, err)
	}
	return -entries[0].Amount
}
