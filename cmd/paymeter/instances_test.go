package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/pgtest"
	"github.com/paymeter/paymeter/internal/postgres"
)

// instance is one `paymeter serve` process of a multi-instance test.
type instance struct {
	url string
	cmd *exec.Cmd
}

// startInstances starts n `paymeter serve` processes of the built binary
// on the PostgreSQL database dsn, in front of upstreamURL, and waits until
// each answers /readyz. They are killed when the test ends.
func startInstances(t *testing.T, n int, dsn, upstreamURL string, env ...string) []*instance {
	t.Helper()
	bin := paymeterBinary(t)
	var out []*instance
	for range n {
		port := freePort(t)
		cmd := exec.Command(bin, "serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port))
		cmd.Env = append(os.Environ(),
			"PAYMETER_DATABASE="+dsn,
			"PAYMETER_UPSTREAM_URL="+upstreamURL,
			"PAYMETER_UPSTREAM_API_KEY="+upstreamKey,
			"PAYMETER_METRICS_LISTEN=off",
			"PAYMETER_SERVER_MAX_CONNECTIONS_PER_IP=0",
			// The shared buckets' answers are what these tests count: a
			// machine busy with the suite must not make an instance fall
			// back to its own (rate_limits.shared_timeout).
			"PAYMETER_RATE_LIMITS_SHARED_TIMEOUT=5s",
		)
		cmd.Env = append(cmd.Env, env...)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		in := &instance{url: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
		t.Cleanup(func() { in.kill() })
		out = append(out, in)
	}
	for _, in := range out {
		waitReady(t, in.url)
	}
	return out
}

func (in *instance) kill() {
	if in.cmd.Process != nil {
		in.cmd.Process.Signal(syscall.SIGKILL)
		in.cmd.Wait()
	}
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", url)
}

// postTo sends a chat request with an API key to one instance.
func postTo(url, key, body string) (int, http.Header, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// heldPerRequest is what one request of body holds: the "required" of the 402
// an app without credit gets.
func heldPerRequest(t *testing.T, url, key, body string) meter.Amount {
	t.Helper()
	status, _, b, err := postTo(url, key, body)
	if err != nil || status != http.StatusPaymentRequired {
		t.Fatalf("a request without credit: %d %v %s", status, err, b)
	}
	var e struct {
		Error struct {
			Details struct {
				Required string `json:"required"`
			} `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	w, err := meter.ParseAmount(e.Error.Details.Required)
	if err != nil || w <= 0 {
		t.Fatalf("required %q: %v", e.Error.Details.Required, err)
	}
	return w
}

// Four serve processes on one database, 500 concurrent requests spread
// over them against credit for exactly 100 held at once: 100 are served,
// 400 refused insufficient_credits, available never below zero, and
// ledger verify is clean after.
func TestInstances_HoldsNeverOverspendAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs four processes")
	}
	dsn := pgtest.DSN(t)
	up := newFixtureUpstream(t)
	up.Gate = make(chan struct{})
	mustCLI(t, "apps", "create", "--name", "acme", "--db", dsn)
	key := keyPattern.FindString(mustCLI(t, "keys", "create", "--db", dsn, "--app", "1", "--name", "load"))
	ins := startInstances(t, 4, dsn, up.URL(), "PAYMETER_RATE_LIMITS_API_KEY=1000000", "PAYMETER_RATE_LIMITS_IP=1000000")
	w := heldPerRequest(t, ins[0].url, key, helloChat)
	mustCLI(t, "credits", "grant", "--db", dsn, "--account", "1", "--amount", (100 * w).String(), "--ref", "credit-for-100")

	var served, refused, other atomic.Int64
	var wg, answered sync.WaitGroup
	for i := range 500 {
		wg.Add(1)
		answered.Add(1)
		go func() {
			defer wg.Done()
			status, _, b, err := postTo(ins[i%len(ins)].url, key, helloChat)
			switch {
			case err == nil && status == http.StatusOK:
				served.Add(1)
			case err == nil && status == http.StatusPaymentRequired && strings.Contains(string(b), `"insufficient_credits"`):
				refused.Add(1)
				answered.Done()
			default:
				other.Add(1)
				answered.Done()
				t.Errorf("request %d: %d %v %s", i, status, err, b)
			}
		}()
	}
	// The refusals come back while the served requests are held at the
	// upstream: wait for the 400, then let the 100 finish.
	waitFor(t, 60*time.Second, func() bool { return refused.Load()+other.Load() >= 400 })
	close(up.Gate)
	wg.Wait()
	if served.Load() != 100 || refused.Load() != 400 {
		t.Fatalf("served %d, refused %d, other %d; want 100 and 400", served.Load(), refused.Load(), other.Load())
	}
	s, err := postgres.OpenStore(context.Background(), dsn, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, err := s.FindAccountByID(context.Background(), 1)
	if err != nil || a.Available() < 0 || a.Held != 0 {
		t.Fatalf("account after: %+v %v", a, err)
	}
	if v, err := s.Verify(context.Background()); err != nil || len(v) != 0 {
		t.Fatalf("verify: %q %v", v, err)
	}
}

// A key revoked through one instance is refused by all four within a
// second (keys are cached 500 ms); so is a key rotated, whose
// replacement works on all four at once.
func TestInstances_RevocationSeenByAllWithinASecond(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs four processes")
	}
	dsn := pgtest.DSN(t)
	up := newFixtureUpstream(t)
	mustCLI(t, "apps", "create", "--name", "acme", "--db", dsn)
	mustCLI(t, "credits", "grant", "--db", dsn, "--account", "1", "--amount", "10", "--ref", "seed")
	revokedKey := keyPattern.FindString(mustCLI(t, "keys", "create", "--db", dsn, "--app", "1", "--name", "soon-revoked"))
	rotatedKey := keyPattern.FindString(mustCLI(t, "keys", "create", "--db", dsn, "--app", "1", "--name", "soon-rotated"))
	ins := startInstances(t, 4, dsn, up.URL())
	for _, in := range ins { // each has both keys cached now
		for _, key := range []string{revokedKey, rotatedKey} {
			if status, _, b, err := postTo(in.url, key, helloChat); err != nil || status != http.StatusOK {
				t.Fatalf("before: %d %v %s", status, err, b)
			}
		}
	}
	mustCLI(t, "keys", "revoke", "--db", dsn, "1")
	revokedAt := time.Now() // committed: the command has returned
	replacement := keyPattern.FindString(mustCLI(t, "keys", "rotate", "--db", dsn, "2"))
	rotatedAt := time.Now()
	if replacement == "" {
		t.Fatal("keys rotate printed no key")
	}
	for _, k := range []struct {
		key string
		at  time.Time
	}{{revokedKey, revokedAt}, {rotatedKey, rotatedAt}} {
		for _, in := range ins {
			waitFor(t, time.Second-time.Since(k.at), func() bool {
				status, _, b, err := postTo(in.url, k.key, helloChat)
				return err == nil && status == http.StatusUnauthorized && strings.Contains(string(b), `"revoked_api_key"`)
			})
		}
		if took := time.Since(k.at); took > time.Second {
			t.Fatalf("a key took %s to be refused by every instance, want under 1 s", took)
		}
	}
	for _, in := range ins {
		if status, _, b, err := postTo(in.url, replacement, helloChat); err != nil || status != http.StatusOK {
			t.Fatalf("the replacement on %s: %d %v %s", in.url, status, err, b)
		}
	}
}

// fanOut sends n requests at once, the i-th built by newReq(i) (spread
// over the instances by the caller), and counts their answers by
// "status code", the code being the error's ("" for a success).
func fanOut(t *testing.T, n int, newReq func(i int) *http.Request) map[string]int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[string]int{}
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.DefaultClient.Do(newReq(i))
			if err != nil {
				t.Error(err)
				return
			}
			var e apiError
			json.NewDecoder(resp.Body).Decode(&e)
			resp.Body.Close()
			mu.Lock()
			codes[fmt.Sprintf("%d %s", resp.StatusCode, e.Error.Code)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return codes
}

// waitFor polls cond until it holds or d has passed.
func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s", d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// One x402 payment sent 50 times at once, spread over four instances:
// served once, settled once, the 49 others refused payment_already_used.
func TestInstances_PaymentClaimedOnceAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs four processes")
	}
	dsn := pgtest.DSN(t)
	up := newFixtureUpstream(t)
	fac := newFacilitatorStub(t)
	ins := startInstances(t, 4, dsn, up.URL(),
		"PAYMETER_X402_FACILITATOR_URL="+fac.URL,
		fmt.Sprintf("PAYMETER_X402_NETWORKS=[{name: base-sepolia, asset: %q, token_name: USDC, token_version: \"2\", pay_to: %q, settlement: facilitator}]",
			testAsset.Hex(), testPayTo.Hex()))
	resp, err := http.Post(ins[0].url+"/v1/chat/completions", "application/json", strings.NewReader(chatBody))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := crypto.GenerateKey()
	h, v, a := payment(t, key, mustChallenge(t, resp, meter.ECodePaymentRequired), 2)
	codes := fanOut(t, 50, func(i int) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, ins[i%len(ins)].url+"/v1/chat/completions", strings.NewReader(chatBody))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(h, v)
		return req
	})
	if codes["200 "] != 1 || codes["409 "+meter.ECodePaymentUsed] != 49 {
		t.Fatalf("answers %v, want one 200 and 49 × 409 payment_already_used", codes)
	}
	if n := fac.settlements(fmt.Sprintf("0x%x", a.Nonce)); n != 1 {
		t.Fatalf("settled %d times, want once", n)
	}
	if n := len(up.seen()); n != 1 {
		t.Fatalf("the upstream served %d requests, want 1", n)
	}
}

// One signed wallet request sent 50 times at once over four instances:
// served once, the others signature_replayed; the new wallet has one
// account and one grant.
func TestInstances_WalletMessageAcceptedOnceAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs four processes")
	}
	dsn := pgtest.DSN(t)
	up := newFixtureUpstream(t)
	ins := startInstances(t, 4, dsn, up.URL(), "PAYMETER_RATE_LIMITS_WALLET=1000000", "PAYMETER_RATE_LIMITS_IP=1000000",
		"PAYMETER_RATE_LIMITS_WALLET_PER_IP=1000000")
	key, _ := crypto.GenerateKey()
	addr := crypto.PubkeyToAddress(key.PublicKey)
	headers := walletHeaders(t, key, addr)
	codes := fanOut(t, 50, func(i int) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, ins[i%len(ins)].url+"/v1/chat/completions", strings.NewReader(helloChat))
		req.Header.Set("Content-Type", "application/json")
		for j := 0; j+1 < len(headers); j += 2 {
			req.Header.Set(headers[j], headers[j+1])
		}
		return req
	})
	if codes["200 "] != 1 || codes["401 "+meter.ECodeSignatureReplayed] != 49 {
		t.Fatalf("answers %v, want one 200 and 49 × 401 signature_replayed", codes)
	}
	s, err := postgres.OpenStore(context.Background(), dsn, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	accts, err := s.FindAccounts(context.Background(), meter.AccountWallet)
	if err != nil || len(accts) != 1 || accts[0].Address != addr.Hex() {
		t.Fatalf("wallet accounts %v %v, want one for %s", accts, err, addr.Hex())
	}
	entries, err := s.FindEntries(context.Background(), meter.EntryFilter{AccountID: accts[0].ID})
	grants := 0
	for _, e := range entries {
		if e.Kind == meter.EntryGrant {
			grants++
		}
	}
	if err != nil || grants != 1 {
		t.Fatalf("grants %d %v, want one", grants, err)
	}
}

// kill -9 of instances, one after another, under a mixed load spread
// over four of them (API keys, signed wallet requests, x402 payments):
// every charge a client was answered with is in the journal (its
// request's usage entry, of exactly that cost), nothing is booked twice,
// and ledger verify is clean once the holds of the killed instances have
// expired.
func TestInstances_KillNineUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs four processes")
	}
	dsn := pgtest.DSN(t)
	up := newFixtureUpstream(t)
	up.Delay = 20 * time.Millisecond
	mustCLI(t, "apps", "create", "--name", "acme", "--db", dsn)
	mustCLI(t, "credits", "grant", "--db", dsn, "--account", "1", "--amount", "1000", "--ref", "seed")
	key := keyPattern.FindString(mustCLI(t, "keys", "create", "--db", dsn, "--app", "1", "--name", "load"))
	fac := newFacilitatorStub(t)
	env := []string{"PAYMETER_RATE_LIMITS_API_KEY=1000000", "PAYMETER_RATE_LIMITS_IP=1000000",
		"PAYMETER_RATE_LIMITS_WALLET=1000000", "PAYMETER_RATE_LIMITS_WALLET_PER_IP=1000000",
		"PAYMETER_LEDGER_HOLD_TTL=2s", "PAYMETER_UPSTREAM_TIMEOUT=1s", "PAYMETER_LIMITS_MAX_REQUEST_DURATION=1s",
		"PAYMETER_X402_FACILITATOR_URL=" + fac.URL,
		fmt.Sprintf("PAYMETER_X402_NETWORKS=[{name: base-sepolia, asset: %q, token_name: USDC, token_version: \"2\", pay_to: %q, settlement: facilitator}]",
			testAsset.Hex(), testPayTo.Hex())}
	ins := startInstances(t, 4, dsn, up.URL(), env...)
	resp, err := http.Post(ins[0].url+"/v1/chat/completions", "application/json", strings.NewReader(chatBody))
	if err != nil {
		t.Fatal(err)
	}
	challenge := mustChallenge(t, resp, meter.ECodePaymentRequired)
	walletKey, _ := crypto.GenerateKey()
	payerKey, _ := crypto.GenerateKey()
	var signedAt atomic.Int64
	signedAt.Store(time.Now().UnixMilli())
	urls := make([]string, len(ins))
	for i, in := range ins {
		urls[i] = in.url
	}

	type ack struct {
		id   string
		cost meter.Amount
	}
	var (
		mu    sync.Mutex
		acks  []ack
		seq   atomic.Int64
		stop  = make(chan struct{})
		wg    sync.WaitGroup
		fails atomic.Int64
	)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("kill9-%d", seq.Add(1))
				body := helloChat
				if w%8 == 7 {
					body = chatBody
				}
				req, _ := http.NewRequest(http.MethodPost, urls[(w+int(seq.Load()))%len(urls)]+"/v1/chat/completions", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Request-Id", id)
				switch w % 8 {
				case 6: // a wallet's signed request, each message new
					ts := strconv.FormatInt(signedAt.Add(1), 10)
					msg := auth.WalletMessage(auth.DefaultRealm, ts, http.MethodPost, "/v1/chat/completions", "")
					sig, _ := crypto.Sign(accounts.TextHash([]byte(msg)), walletKey)
					sig[64] += 27
					req.Header.Set(auth.HeaderWalletAddress, crypto.PubkeyToAddress(walletKey.PublicKey).Hex())
					req.Header.Set(auth.HeaderTimestamp, ts)
					req.Header.Set(auth.HeaderWalletSignature, "0x"+hex.EncodeToString(sig))
				case 7: // an x402 payment, each authorization new
					h, v, _ := payment(t, payerKey, challenge, 2)
					req.Header.Set(h, v)
				default:
					req.Header.Set("Authorization", "Bearer "+key)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					fails.Add(1) // the instance died under it: no answer, no charge promised
					time.Sleep(5 * time.Millisecond)
					continue
				}
				_, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK && rerr == nil {
					cost, err := meter.ParseAmount(resp.Header.Get("X-Paymeter-Cost"))
					if err != nil {
						t.Errorf("request %s: cost %q: %v", id, resp.Header.Get("X-Paymeter-Cost"), err)
						continue
					}
					mu.Lock()
					acks = append(acks, ack{id, cost})
					mu.Unlock()
				}
			}
		}()
	}
	// Kill one instance every 400 ms and start it again on its port.
	bin := paymeterBinary(t)
	for round := range 8 {
		time.Sleep(400 * time.Millisecond)
		victim := ins[round%len(ins)]
		victim.kill()
		cmd := exec.Command(bin, "serve", "--listen", strings.TrimPrefix(victim.url, "http://"))
		cmd.Env = victim.cmd.Env
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		victim.cmd = cmd
		waitReady(t, victim.url)
	}
	close(stop)
	wg.Wait()
	for _, in := range ins {
		in.kill()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(acks) < 100 {
		t.Fatalf("only %d requests were answered; the load did not run", len(acks))
	}
	kinds := map[string]int{}

	s, err := postgres.OpenStore(context.Background(), dsn, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pool := s.Pool()
	for _, a := range acks {
		var n int
		var amount int64
		if err := pool.QueryRow(context.Background(), `SELECT count(*), COALESCE(-SUM(amount), 0)::bigint FROM entries
			WHERE kind = 'usage' AND request_id = $1`, a.id).Scan(&n, &amount); err != nil {
			t.Fatal(err)
		}
		if n != 1 || meter.Amount(amount) != a.cost {
			t.Fatalf("request %s was answered with cost %s; the journal has %d usage entries of %s", a.id, a.cost, n, meter.Amount(amount))
		}
		var kind string
		if err := pool.QueryRow(context.Background(), `SELECT a.kind || CASE WHEN e.ref LIKE 'x402:%' THEN '/x402' ELSE '' END
			FROM entries e JOIN accounts a ON a.id = e.account_id WHERE e.kind = 'usage' AND e.request_id = $1`, a.id).Scan(&kind); err != nil {
			t.Fatal(err)
		}
		kinds[kind]++
	}
	if kinds["app"] == 0 || kinds["wallet"] == 0 || kinds["wallet/x402"] == 0 {
		t.Fatalf("answered charges by kind %v: the load was not mixed", kinds)
	}
	// The killed instances' holds expire (ttl 2 s) and any instance, or
	// this one, releases them: then the ledger verifies clean.
	time.Sleep(2100 * time.Millisecond)
	if _, err := s.ReleaseExpired(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Verify(context.Background()); err != nil || len(v) != 0 {
		t.Fatalf("verify: %q %v", v, err)
	}
	a, _ := s.FindAccountByID(context.Background(), 1)
	if a.Held != 0 || a.Available() < 0 {
		t.Fatalf("account after: %+v", a)
	}
	t.Logf("%d answered charges checked (%v), %d requests cut by kills", len(acks), kinds, fails.Load())
}

// One Sign-In with Ethereum message, its nonce issued by one instance,
// sent 50 times at once over four: one sign-in, the 49 others refused.
func TestInstances_SIWENonceUsedOnceAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs four processes")
	}
	dsn := pgtest.DSN(t)
	up := newFixtureUpstream(t)
	// One site behind a balancer: every instance takes messages for it.
	ins := startInstances(t, 4, dsn, up.URL(), "PAYMETER_SIWE_DOMAIN=paymeter.example", "PAYMETER_SIWE_URI=https://paymeter.example",
		"PAYMETER_SIWE_RATE_LIMIT_PER_MINUTE=1000", "PAYMETER_RATE_LIMITS_IP=1000000",
		// 49 refusals from one address: more failed sign-ins than the default allows.
		"PAYMETER_RATE_LIMITS_FAILED_AUTH_PER_IP=1000")
	resp, err := http.Get(ins[0].url + "/api/auth/siwe/nonce")
	if err != nil {
		t.Fatal(err)
	}
	var nonce struct {
		Nonce, Domain, URI, Statement string
		ChainID                       int64
	}
	if err := json.Unmarshal(readAll(t, resp), &nonce); err != nil || nonce.Domain != "paymeter.example" {
		t.Fatalf("nonce %+v %v", nonce, err)
	}
	key, _ := crypto.GenerateKey()
	msg := (&auth.SIWEMessage{Domain: nonce.Domain, Address: crypto.PubkeyToAddress(key.PublicKey), Statement: nonce.Statement,
		URI: nonce.URI, Version: "1", ChainID: nonce.ChainID, Nonce: nonce.Nonce, IssuedAt: time.Now().UTC().Truncate(time.Second)}).String()
	sig, err := crypto.Sign(accounts.TextHash([]byte(msg)), key)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	body, _ := json.Marshal(map[string]string{"message": msg, "signature": "0x" + hex.EncodeToString(sig)})
	codes := fanOut(t, 50, func(i int) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, ins[i%len(ins)].url+"/api/auth/siwe/verify", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		return req
	})
	if codes["200 "] != 1 || codes["401 "+meter.ECodeInvalidNonce] != 49 {
		t.Fatalf("answers %v, want one sign-in and 49 × 401 invalid_nonce", codes)
	}
}
