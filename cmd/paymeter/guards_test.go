package main

import (
	"database/sql"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
)

// getWith sends a GET with the given headers.
func getWith(t *testing.T, url string, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

// Low: /metrics is served on its own loopback listener, not on the main
// one; with metrics.token it is on the main one too, to the bearer of the
// token only; metrics.listen off leaves no listener.
func TestMetrics_OwnListenerOrToken(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	if !strings.HasPrefix(m.MetricsURL(), "http://127.0.0.1:") {
		t.Fatalf("metrics URL %q, want a loopback listener", m.MetricsURL())
	}
	mustError(t, getWith(t, m.URL()+"/metrics", nil), http.StatusNotFound, meter.ECodeNotFound)
	if fams := scrape(t, m); fams["paymeter_ledger_batch_ops"] == nil {
		t.Fatal("the metrics listener serves no paymeter series")
	}

	const token = "metrics-token-for-tests-0123456789"
	cfg := testConfig(t, up.URL())
	cfg.Metrics.Listen, cfg.Metrics.Token = "off", token
	tm := MustRunMain(t, cfg)
	if tm.MetricsURL() != "" {
		t.Fatalf("metrics URL %q with metrics.listen off", tm.MetricsURL())
	}
	mustError(t, getWith(t, tm.URL()+"/metrics", nil), http.StatusUnauthorized, meter.ECodeMissingCredentials)
	mustError(t, getWith(t, tm.URL()+"/metrics", map[string]string{"Authorization": "Bearer " + token + "x"}),
		http.StatusUnauthorized, meter.ECodeInvalidToken)
	resp := getWith(t, tm.URL()+"/metrics", map[string]string{"Authorization": "Bearer " + token})
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "paymeter_ledger_batch_ops") {
		t.Fatalf("/metrics with the token: %d", resp.StatusCode)
	}

	bad := testConfig(t, up.URL())
	bad.Metrics.Listen, bad.Metrics.Token = "nowhere", "short"
	bad.Server.TrustedProxies = []string{"10.0.0.0/33"}
	bad.Server.MaxConnections, bad.Limits.MaxInFlight, bad.RateLimits.FailedAuthPerIP = 0, 0, -1
	bad.Server.WriteTimeout = 0
	err := bad.Validate()
	for _, field := range []string{"metrics.listen:", "metrics.token:", "server.trusted_proxies:", "server.max_connections:",
		"server.write_timeout:", "limits.max_in_flight:", "rate_limits.failed_auth_per_ip:"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("Validate does not name %s: %v", field, err)
		}
	}
}

// topupStatus sends a top-up request (404 without x402, 429 past the IP
// limit) as if from the peer, with the given X-Forwarded-For.
func topupStatus(t *testing.T, m *Main, xff string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, m.URL()+"/api/v1/topup/10", nil)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp := do(t, req)
	readAll(t, resp)
	return resp.StatusCode
}

// Low: X-Forwarded-For names the client only when the peer is one of
// server.trusted_proxies, read from the right so that what the client
// wrote itself is never believed; IPv6 clients share a bucket per /64.
func TestClientIP_TrustedProxiesAndIPv6Prefix(t *testing.T) {
	up := newFixtureUpstream(t)
	cfg := testConfig(t, up.URL())
	cfg.RateLimits.IP = 2
	untrusted := MustRunMain(t, cfg)
	// Not trusted (the default): a fresh X-Forwarded-For per request buys
	// nothing; the peer is the client.
	for i, want := range []int{404, 404, 429} {
		if got := topupStatus(t, untrusted, "198.51.100."+strconv.Itoa(i)); got != want {
			t.Fatalf("untrusted request %d: %d, want %d", i, got, want)
		}
	}

	cfg = testConfig(t, up.URL())
	cfg.RateLimits.IP = 2
	cfg.Server.TrustedProxies = []string{"127.0.0.0/8", "10.0.0.0/8"}
	m := MustRunMain(t, cfg)
	for _, tt := range []struct {
		name  string
		xffs  []string
		codes []int
	}{
		{"each client its bucket", []string{"198.51.100.1", "198.51.100.1", "198.51.100.1", "198.51.100.2"}, []int{404, 404, 429, 404}},
		// The client's own entries (left) are ignored, trusted hops
		// (right) skipped: the client is 198.51.100.3 each time.
		{"spoofed left, proxies right", []string{"1.1.1.1, 198.51.100.3", "2.2.2.2, 198.51.100.3, 10.0.0.7", "198.51.100.3"}, []int{404, 404, 429}},
		{"ipv6 by /64", []string{"2001:db8:0:1::1", "2001:db8:0:1:ffff::2", "2001:db8:0:1::3", "2001:db8:0:2::1"}, []int{404, 404, 429, 404}},
		{"garbage is the proxy's", []string{"not-an-ip", "also, bad", "zzz"}, []int{404, 404, 429}},
	} {
		for i, xff := range tt.xffs {
			if got := topupStatus(t, m, xff); got != tt.codes[i] {
				t.Fatalf("%s: request %d (X-Forwarded-For %q): %d, want %d", tt.name, i, xff, got, tt.codes[i])
			}
		}
	}
}

// Low: failed authentications are limited per IP: past
// rate_limits.failed_auth_per_ip 401s, the address gets 429 before any
// credential is checked, a right one included; another address is not
// affected.
func TestFailedAuth_LimitedPerIP(t *testing.T) {
	up := newFixtureUpstream(t)
	cfg := testConfig(t, up.URL())
	cfg.RateLimits.FailedAuthPerIP = 5
	cfg.Server.TrustedProxies = []string{"127.0.0.1"}
	m := MustRunMain(t, cfg)
	_, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	from := func(ip, key string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, m.URL()+"/v1/chat/completions", strings.NewReader(helloChat))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("X-Forwarded-For", ip)
		return do(t, req)
	}
	// Requests without any credential, and replayed or expired wallet
	// signatures, are not guesses: they count for nothing.
	for range 10 {
		req, _ := http.NewRequest(http.MethodPost, m.URL()+"/v1/chat/completions", strings.NewReader(helloChat))
		req.Header.Set("X-Forwarded-For", "192.0.2.1")
		req.Header.Set("X-Wallet-Address", "0x0000000000000000000000000000000000000001")
		req.Header.Set("X-Timestamp", "1")
		req.Header.Set("X-Wallet-Signature", "0x"+strings.Repeat("11", 65))
		mustError(t, do(t, req), http.StatusUnauthorized, meter.ECodeSignatureExpired)
	}
	// (and none at all)
	for range 10 {
		req, _ := http.NewRequest(http.MethodGet, m.URL()+"/api/v1/account", nil)
		req.Header.Set("X-Forwarded-For", "192.0.2.1")
		mustError(t, do(t, req), http.StatusUnauthorized, meter.ECodeMissingCredentials)
	}
	guess := "pm_live_" + strings.Repeat("a", 40)
	for i := range 5 {
		resp := from("192.0.2.1", guess+strconv.Itoa(i))
		if readAll(t, resp); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i, resp.StatusCode)
		}
	}
	resp := from("192.0.2.1", guess)
	retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	mustError(t, resp, http.StatusTooManyRequests, meter.ECodeRateLimited)
	if retry < 1 || retry > 12 {
		t.Fatalf("Retry-After %d, want the ~12 s one failure takes to refill", retry)
	}
	// Even the right key is not checked from that address now.
	mustError(t, from("192.0.2.1", key), http.StatusTooManyRequests, meter.ECodeRateLimited)
	// Another address is served.
	resp = from("192.0.2.2", key)
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("another address: %d %s", resp.StatusCode, body)
	}
	// Bad wallet signatures count too.
	for range 5 {
		req, _ := http.NewRequest(http.MethodPost, m.URL()+"/v1/chat/completions", strings.NewReader(helloChat))
		req.Header.Set("X-Forwarded-For", "192.0.2.3")
		req.Header.Set("X-Wallet-Address", "0x0000000000000000000000000000000000000001")
		req.Header.Set("X-Timestamp", strconv.FormatInt(time.Now().UnixMilli(), 10))
		req.Header.Set("X-Wallet-Signature", "0x"+strings.Repeat("11", 65))
		mustError(t, do(t, req), http.StatusUnauthorized, meter.ECodeInvalidSignature)
	}
	mustError(t, from("192.0.2.3", key), http.StatusTooManyRequests, meter.ECodeRateLimited)
}

// M7: wallet-signed requests are limited per client IP before their
// signatures are checked: one client signing with a fresh key per request
// creates no more accounts than rate_limits.wallet_per_ip allows.
func TestWallet_FreshKeysLimitedPerIPBeforeWrites(t *testing.T) {
	up := newFixtureUpstream(t)
	cfg := testConfig(t, up.URL())
	cfg.RateLimits.WalletPerIP = 3
	m := MustRunMain(t, cfg)
	statuses := make([]int, 6)
	for i := range statuses {
		key, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		resp := do(t, signedRequest(t, m, key, cfg.Wallet.Realm, "/v1/chat/completions", helloChat))
		readAll(t, resp)
		statuses[i] = resp.StatusCode
	}
	if want := []int{200, 200, 200, 429, 429, 429}; !slices.Equal(statuses, want) {
		t.Fatalf("statuses %v, want %v", statuses, want)
	}
	db, err := sql.Open("sqlite3", "file:"+cfg.Database+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM accounts WHERE kind = 'wallet'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("%d wallet accounts created, want the 3 allowed", n)
	}
}

// Credentials that were real once (expired or revoked session tokens,
// expired JWTs) are not guesses: browsers behind one address retrying
// with their expired tokens do not lock that address out.
func TestFailedAuth_ExpiredTokensAreNotGuesses(t *testing.T) {
	up := newFixtureUpstream(t)
	cfg := testConfig(t, up.URL())
	cfg.RateLimits.FailedAuthPerIP = 3
	m := MustRunMain(t, cfg)
	_, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	var expired []string
	for range 4 {
		expired = append(expired, mintSession(t, m, key, `{"ttlSeconds":1}`).SessionToken)
	}
	time.Sleep(1500 * time.Millisecond)
	for _, tok := range expired {
		mustError(t, post(t, m, "/v1/chat/completions", tok, helloChat), http.StatusUnauthorized, meter.ECodeExpiredToken)
	}
	if resp := post(t, m, "/v1/chat/completions", key, helloChat); resp.StatusCode != http.StatusOK {
		t.Fatalf("a valid key after expired tokens from its address: %d %s", resp.StatusCode, readAll(t, resp))
	}
	// Guesses still count.
	for range 3 {
		mustError(t, post(t, m, "/v1/chat/completions", "pm_sess_"+strings.Repeat("x", 49), helloChat), http.StatusUnauthorized, meter.ECodeInvalidToken)
	}
	mustError(t, post(t, m, "/v1/chat/completions", key, helloChat), http.StatusTooManyRequests, meter.ECodeRateLimited)
}
