package main

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
)

// When the upstream cannot serve a request, the client gets 502 or 504
// and pays nothing: the hold is released whole.
func TestUpstreamFaults_ChargeNothing(t *testing.T) {
	for _, tt := range []struct {
		name   string
		setup  func(up *fixtureUpstream, cfg *Config)
		body   string
		status int
		code   string
	}{
		{"connection refused", func(up *fixtureUpstream, cfg *Config) { cfg.Upstream.URL = closedPortURL(t) },
			helloChat, 502, meter.ECodeUpstreamError},
		{"server error", func(up *fixtureUpstream, cfg *Config) { up.Status = 500 },
			helloChat, 502, meter.ECodeUpstreamError},
		{"slow past the timeout", func(up *fixtureUpstream, cfg *Config) {
			up.Delay, cfg.Upstream.Timeout = 2*time.Second, Duration(200*time.Millisecond)
		}, helloChat, 504, meter.ECodeUpstreamTimeout},
		{"stream: connection refused", func(up *fixtureUpstream, cfg *Config) { cfg.Upstream.URL = closedPortURL(t) },
			streamChat, 502, meter.ECodeUpstreamError},
		{"stream: server error", func(up *fixtureUpstream, cfg *Config) { up.Status = 503 },
			streamChat, 502, meter.ECodeUpstreamError},
		{"stream: slow past the timeout", func(up *fixtureUpstream, cfg *Config) {
			up.Delay, cfg.Upstream.Timeout = 2*time.Second, Duration(200*time.Millisecond)
		}, streamChat, 504, meter.ECodeUpstreamTimeout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			up := newFixtureUpstream(t)
			cfg := testConfig(t, up.URL())
			tt.setup(up, cfg)
			m := MustRunMain(t, cfg)
			a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

			start := time.Now()
			e := mustError(t, post(t, m, "/v1/chat/completions", key, tt.body), tt.status, tt.code)
			if took := time.Since(start); took > time.Second {
				t.Fatalf("took %s, want the timeout to cut it short", took)
			}
			if tt.status == 502 && up.Status != 0 && e.Error.Details["upstream_status"] == nil {
				t.Fatalf("details=%v, want upstream_status", e.Error.Details)
			}
			acct := account(t, m, a.ID)
			if acct.Balance != amt(t, "1") || acct.Held != 0 {
				t.Fatalf("balance=%s held=%s, want 1 and 0", acct.Balance, acct.Held)
			}
			if n := len(usageEntries(t, m, a.ID)); n != 0 {
				t.Fatalf("usage entries=%d, want 0", n)
			}
			mustVerify(t, m)
		})
	}
}

// closedPortURL returns a loopback URL nothing listens on.
func closedPortURL(t *testing.T) string {
	// A socket bound but not listening refuses connections and keeps the
	// port from anyone else for the test's life (a port merely closed
	// again can be taken by the next listener: paymeter itself, once).
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d/v1", sa.(*syscall.SockaddrInet4).Port)
}

// 500 concurrent requests on an account funded for about 100: no more are
// served than the balance pays for, the rest are refused with 402, the
// balance never goes below zero and the ledger stays consistent.
func TestConcurrency_NoOverspend(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	// Each request costs exactly 0.0000335 (chat.json's usage); fund 100 of them.
	perRequest := amt(t, "0.0000335")
	a, key := mustApp(t, m, (100 * perRequest).String(), meter.DefaultKeyScopes)
	body := `{"model":"demo-small","max_tokens":16,"messages":[{"role":"user","content":"Say hello."}]}`

	var served, refused, other atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp := post(t, m, "/v1/chat/completions", key, body)
			readAll(t, resp)
			switch resp.StatusCode {
			case http.StatusOK:
				served.Add(1)
			case http.StatusPaymentRequired:
				refused.Add(1)
			default:
				other.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()

	if other.Load() != 0 || served.Load()+refused.Load() != 500 {
		t.Fatalf("served=%d refused=%d other=%d, want only 200s and 402s", served.Load(), refused.Load(), other.Load())
	}
	if served.Load() == 0 || served.Load() > 100 {
		t.Fatalf("served=%d, want between 1 and the 100 the balance pays for", served.Load())
	}
	acct := account(t, m, a.ID)
	if want := 100*perRequest - meter.Amount(served.Load())*perRequest; acct.Balance != want || acct.Held != 0 {
		t.Fatalf("balance=%s held=%s, want %s and 0 after %d charges", acct.Balance, acct.Held, want, served.Load())
	}
	if n := len(usageEntries(t, m, a.ID)); n != int(served.Load()) {
		t.Fatalf("usage entries=%d, want one per served request (%d)", n, served.Load())
	}
	mustVerify(t, m)
}
