package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/prometheus/common/expfmt"

	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/demo"
	"github.com/paymeter/paymeter/internal/loadtest"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/pgtest"
	"github.com/paymeter/paymeter/internal/x402"
)

// BenchmarkLoad is the load comparison of docs/design.md §8, in one run on one
// machine: the demo upstream answered directly, through nginx proxy_pass
// (when nginx is installed), through a bare fiber proxy hop, through
// paymeter with wallet-signed requests (each signature used once), with
// x402-paid requests (each authorization used once), with sign-in-with-x
// proofs spending a wallet's balance (each nonce, issued by a 402 of the
// server, used once), and through
// paymeter with metered API-key requests (auth, hold, forward, capture,
// synchronous=FULL, answer only once the charge is durable). Every figure
// is taken in the same run, so the ratios are what to read. Each server
// runs in a process of its own, as it would in production (this test
// binary re-executed in a role, see TestMain); the load driver runs here.
//
//	go test -run '^$' -bench BenchmarkLoad -benchtime 1x ./cmd/paymeter
//
// Besides req/s and latency, each target reports the CPU time its server
// process spent per request and how busy the whole machine was (from
// /proc), and paymeter's targets how the ledger grouped its commits. CPU
// per request is the steadier figure on a shared machine; a machine well
// short of fully busy means the target was bound by latency (at 64
// connections, mostly the wait for a durable commit) rather than by CPU.
//
// PMBENCH_SECONDS sets the measured seconds per target (default 5);
// PMBENCH_ONLY=name[,name…] runs only the targets named;
// PMBENCH_CPUPROFILE, PMBENCH_MEMPROFILE and PMBENCH_TRACE=file profile
// or trace one server process (see playRole); PMBENCH_GOMAXPROCS=n sets
// paymeter's GOMAXPROCS.
func BenchmarkLoad(b *testing.B) {
	seconds := 5
	if s := os.Getenv("PMBENCH_SECONDS"); s != "" {
		fmt.Sscan(s, &seconds)
	}
	upstreamAddr := startRole(b, "upstream", nil)
	upstreamURL := "http://" + upstreamAddr + "/v1"
	hopAddr := startRole(b, "barehop", []string{"PMBENCH_UPSTREAM=http://" + upstreamAddr})

	facilitatorAddr := startRole(b, "facilitator", nil)

	// PMBENCH_DATABASE=postgres runs paymeter on a fresh PostgreSQL
	// database (internal/pgtest) instead of a SQLite file.
	dbPath := filepath.Join(b.TempDir(), "load.db")
	if os.Getenv("PMBENCH_DATABASE") == "postgres" {
		dbPath = pgtest.DSN(b)
	}
	accountID, key := seedLoadDB(b, dbPath)
	siwxKey, err := crypto.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	seedWallet(b, dbPath, siwxKey)
	// The wallet-header target's wallet too: its free credits would not
	// pay for every round.
	walletKey, err := crypto.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	seedWallet(b, dbPath, walletKey)
	paymeterAddr := startRole(b, "paymeter", append(benchPaymeterEnv(dbPath, upstreamURL),
		// x402 too, settled by a facilitator stub that answers at once.
		"PAYMETER_X402_FACILITATOR_URL=http://"+facilitatorAddr,
		fmt.Sprintf("PAYMETER_X402_NETWORKS=[{name: base-sepolia, asset: %q, token_name: USDC, token_version: \"2\", pay_to: %q, settlement: facilitator}]",
			benchNetwork.Asset.Hex(), benchNetwork.PayTo.Hex())))

	body := []byte(`{"model":"demo-small","max_tokens":16,"messages":[{"role":"user","content":"Say hello."}]}`)
	upstreamHeader := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + demoKey}
	type target struct {
		name   string
		target loadtest.Target
	}
	targets := []target{
		{"direct", loadtest.Target{URL: upstreamURL + "/chat/completions", Body: body, Header: upstreamHeader}},
		{"barehop", loadtest.Target{URL: "http://" + hopAddr + "/v1/chat/completions", Body: body, Header: upstreamHeader}},
		{"paymeter", loadtest.Target{URL: "http://" + paymeterAddr + "/v1/chat/completions", Body: body,
			Header: map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + key}}},
	}
	targets = append(targets, target{"wallet", loadtest.Target{URL: "http://" + paymeterAddr + "/v1/chat/completions", Body: body,
		Header: map[string]string{"Content-Type": "application/json"}}})
	payerKey, err := crypto.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	quote := benchQuote(b, "http://"+paymeterAddr+"/v1/chat/completions", body)
	targets = append(targets, target{"x402", loadtest.Target{URL: "http://" + paymeterAddr + "/v1/chat/completions", Body: body,
		Header: map[string]string{"Content-Type": "application/json"}}})
	targets = append(targets, target{"siwx", loadtest.Target{URL: "http://" + paymeterAddr + "/v1/chat/completions", Body: body,
		Header: map[string]string{"Content-Type": "application/json"}}})
	if nginxURL := startNginx(b, upstreamURL); nginxURL != "" {
		targets = append(targets, target{"nginx", loadtest.Target{URL: nginxURL + "/v1/chat/completions", Body: body, Header: upstreamHeader}})
	}

	only := os.Getenv("PMBENCH_ONLY")
	b.ResetTimer()
	for _, conns := range []int{64, 256} {
		var rounds []roundFigures
		for round := range benchRounds() {
			rps := map[string]float64{}
			cpuPer := map[string]float64{}
			// The unit of a paid path's extra CPU: one secp256k1 recovery, the
			// least a signed request can cost over an API key, measured in the
			// same run around each paid target (docs/design.md §8).
			units := map[string]float64{}
			fmt.Fprintf(os.Stdout, "load c=%d, round %d\n", conns, round+1)
			for _, t := range targets {
				if only != "" && !slices.Contains(strings.Split(only, ","), t.name) {
					continue
				}
				opts := loadtest.Options{Connections: conns, Duration: time.Duration(seconds) * time.Second, Warmup: time.Second}
				if t.name == "wallet" {
					// Each signed request may be used once: sign enough of them up front.
					t.target.Variants = signedVariants(b, walletKey, (seconds+1)*12_000)
					opts.MaxRequests = int64(len(t.target.Variants))
				}
				if t.name == "siwx" {
					// Each proof signs a nonce of its own, issued by a 402.
					t.target.Variants = siwxVariants(b, siwxKey, t.target.URL, body, (seconds+1)*8_000)
					opts.MaxRequests = int64(len(t.target.Variants))
				}
				if t.name == "x402" {
					// Each payment authorization pays once: sign enough up front.
					t.target.Variants = paymentVariants(b, payerKey, quote, (seconds+1)*6_000)
					opts.MaxRequests = int64(len(t.target.Variants))
				}
				// The CPU time of the process serving the target, and of the
				// upstream, over the run (warmup included).
				server := map[string]string{"direct": "upstream", "barehop": "barehop"}[t.name]
				if server == "" && t.name != "nginx" {
					server = "paymeter"
				}
				cpu0, upCPU0 := cpuTime(rolePID[server]), cpuTime(rolePID["upstream"])
				busy0, total0 := boxTime()
				before := ledgerStats(b, paymeterAddr)
				var res loadtest.Result
				run := func() { res, err = loadtest.Run(context.Background(), t.target, opts) }
				unitLine := ""
				if t.name == "wallet" || t.name == "x402" || t.name == "siwx" {
					units[t.name], unitLine = unitAround(b, run)
				} else {
					run()
				}
				if err != nil {
					b.Fatal(err)
				}
				after := ledgerStats(b, paymeterAddr)
				// Requests over the whole run, at the measured rate.
				served := res.RPS * (opts.Warmup + opts.Duration).Seconds()
				cpu, upCPU := cpuTime(rolePID[server])-cpu0, cpuTime(rolePID["upstream"])-upCPU0
				busy1, total1 := boxTime()
				if res.Errors > 0 {
					b.Fatalf("%s: %d errors (statuses %v)", t.name, res.Errors, res.Statuses)
				}
				rps[t.name] = res.RPS
				fmt.Fprintf(os.Stdout, "load c=%-3d %-8s %s\n%s", conns, t.name, res, unitLine)
				if server != "" && cpu > 0 {
					line := fmt.Sprintf("%s %.0f µs/req", server, float64(cpu.Microseconds())/served)
					if server != "upstream" {
						line += fmt.Sprintf(", upstream %.0f µs/req", float64(upCPU.Microseconds())/served)
					}
					fmt.Fprintf(os.Stdout, "           cpu: %s, machine %.0f%% busy\n", line,
						100*float64(busy1-busy0)/float64(max(total1-total0, 1)))
					cpuPer[t.name] = float64(cpu.Microseconds()) / served
				}
				if d := after.sub(before); d.commits > 0 {
					fmt.Fprintf(os.Stdout, "           ledger: %s\n", d)
				}
				if round == 0 {
					b.ReportMetric(float64(res.P99.Microseconds()), fmt.Sprintf("%s-c%d-p99-µs", t.name, conns))
				}
			}
			rounds = append(rounds, roundFigures{rps: rps, cpu: cpuPer, unit: units})
		}
		rps := medianRPS(rounds)
		for name, v := range rps {
			b.ReportMetric(v, fmt.Sprintf("%s-c%d-req/s", name, conns))
		}
		for name, v := range medianOf(rounds, func(r roundFigures) map[string]float64 { return r.cpu }) {
			b.ReportMetric(v, fmt.Sprintf("%s-c%d-cpu-µs/req", name, conns))
		}
		fmt.Fprintf(os.Stdout, "load c=%-3d ratios (median req/s of %d rounds): barehop/direct %.2f  paymeter/barehop %.2f  paymeter/direct %.2f  wallet/paymeter %.2f  x402/paymeter %.2f  siwx/paymeter %.2f",
			conns, len(rounds), rps["barehop"]/rps["direct"], rps["paymeter"]/rps["barehop"], rps["paymeter"]/rps["direct"], rps["wallet"]/rps["paymeter"],
			rps["x402"]/rps["paymeter"], rps["siwx"]/rps["paymeter"])
		if rps["nginx"] > 0 {
			fmt.Fprintf(os.Stdout, "  nginx/direct %.2f", rps["nginx"]/rps["direct"])
		}
		fmt.Fprintln(os.Stdout)
		printExtraCPU(b, conns, rounds)
		b.ReportMetric(rps["paymeter"]/rps["barehop"], fmt.Sprintf("paymeter/barehop-c%d", conns))
	}
	b.StopTimer()
	stopRoles(b)
	checkLoadDB(b, dbPath, accountID, only == "" || slices.Contains(strings.Split(only, ","), "paymeter"))
}

// benchPaymeterEnv is the environment of a benchmarked paymeter on the
// ledger at dbPath in front of upstreamURL.
func benchPaymeterEnv(dbPath, upstreamURL string) []string {
	return []string{
		"PAYMETER_DATABASE=" + dbPath,
		"PAYMETER_UPSTREAM_URL=" + upstreamURL,
		"PAYMETER_UPSTREAM_API_KEY=" + demoKey,
		// Rate limits on (each request pays for its bucket) but too high
		// for one key, one wallet or one IP to reach.
		"PAYMETER_RATE_LIMITS_API_KEY=1000000",
		"PAYMETER_RATE_LIMITS_WALLET=1000000",
		"PAYMETER_RATE_LIMITS_IP=1000000",
		"PAYMETER_RATE_LIMITS_WALLET_PER_IP=1000000",
		// Every load connection comes from one address.
		"PAYMETER_SERVER_MAX_CONNECTIONS_PER_IP=0",
		// /metrics on the main listener, behind its token (ledgerStats).
		"PAYMETER_METRICS_LISTEN=off",
		"PAYMETER_METRICS_TOKEN=" + benchMetricsToken,
	}
}

// recoveryCPU returns the CPU time, in µs, of one secp256k1 public key
// recovery (go-ethereum's crypto.SigToPub, through cgo), on one goroutine
// of this process while no load runs: the median of three rounds. This
// shared machine's speed drifts by a third within a minute, so each paid
// target is measured against the mean of the unit taken just before and
// just after it (unitAround), not against one taken at the start.
func recoveryCPU(b *testing.B) float64 {
	key, err := crypto.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	digest := crypto.Keccak256([]byte("one recovery"))
	sig, err := crypto.Sign(digest, key)
	if err != nil {
		b.Fatal(err)
	}
	const n = 4_000
	var rounds [3]float64
	for i := range rounds {
		cpu0 := cpuTime(os.Getpid())
		for range n {
			if _, err := crypto.SigToPub(digest, sig); err != nil {
				b.Fatal(err)
			}
		}
		rounds[i] = float64((cpuTime(os.Getpid()) - cpu0).Microseconds()) / n
	}
	slices.Sort(rounds[:])
	return rounds[1]
}

// unitAround runs one target between two measures of the recovery unit
// and returns the mean of both, and a line saying them.
func unitAround(b *testing.B, run func()) (float64, string) {
	before := recoveryCPU(b)
	run()
	after := recoveryCPU(b)
	return (before + after) / 2, fmt.Sprintf("           recovery unit: %.1f µs before, %.1f µs after\n", before, after)
}

// benchRounds is how often each target is run, in turn with the others
// (PMBENCH_ROUNDS, default 3): a paid path's extra CPU is taken against
// the API key's in the same round, and the figures are the rounds'
// medians, so that the machine's drift within a run cancels out.
func benchRounds() int {
	n := 3
	if s := os.Getenv("PMBENCH_ROUNDS"); s != "" {
		fmt.Sscan(s, &n)
	}
	return max(n, 1)
}

// roundFigures are one round's measures, by target: req/s, CPU µs per
// request, and the recovery unit around each paid target.
type roundFigures struct{ rps, cpu, unit map[string]float64 }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// medianRPS is each target's median req/s over the rounds.
func medianRPS(rounds []roundFigures) map[string]float64 {
	return medianOf(rounds, func(r roundFigures) map[string]float64 { return r.rps })
}

// medianOf is each target's median of one measure over the rounds.
func medianOf(rounds []roundFigures, measure func(roundFigures) map[string]float64) map[string]float64 {
	all := map[string][]float64{}
	for _, r := range rounds {
		for name, v := range measure(r) {
			all[name] = append(all[name], v)
		}
	}
	out := map[string]float64{}
	for name, vs := range all {
		out[name] = median(vs)
	}
	return out
}

// printExtraCPU reports each paid path's CPU per request over the API-key
// path ("paymeter") of the same round, in µs and in that round's
// recoveries, and their medians over the rounds, beside the req/s ratio.
func printExtraCPU(b *testing.B, conns int, rounds []roundFigures) {
	for _, name := range []string{"wallet", "x402", "upto", "siwx"} {
		var extras, multiples, ratios []float64
		for _, r := range rounds {
			cpu, ok := r.cpu[name]
			base, okBase := r.cpu["paymeter"]
			if !ok || !okBase || r.unit[name] <= 0 {
				continue
			}
			extras = append(extras, cpu-base)
			multiples = append(multiples, (cpu-base)/r.unit[name])
			ratios = append(ratios, r.rps[name]/r.rps["paymeter"])
		}
		if len(extras) == 0 {
			continue
		}
		each := make([]string, len(multiples))
		for i, m := range multiples {
			each[i] = fmt.Sprintf("%.2f", m)
		}
		fmt.Fprintf(os.Stdout, "load c=%-3d %-8s %+.0f µs over the API key = %.2f recoveries (median of rounds: %s); %.2f of its req/s\n",
			conns, name, median(extras), median(multiples), strings.Join(each, ", "), median(ratios))
		b.ReportMetric(median(multiples), fmt.Sprintf("%s-c%d-extra-recoveries", name, conns))
		b.ReportMetric(median(extras), fmt.Sprintf("%s-c%d-extra-cpu-µs/req", name, conns))
	}
}

// signedVariants returns n distinct wallet-header sets for POST
// /v1/chat/completions, with timestamps a millisecond apart starting two
// minutes ago, all inside the default five-minute window; a later call
// starts after the earlier calls' last timestamp, so that no message is
// signed twice (a second use is signature_replayed).
func signedVariants(b *testing.B, key *ecdsa.PrivateKey, n int) []map[string]string {
	addr := crypto.PubkeyToAddress(key.PublicKey).Hex()
	start := max(time.Now().Add(-2*time.Minute).UnixMilli(), nextSignedAt)
	nextSignedAt = start + int64(n)
	out := make([]map[string]string, n)
	for i := range out {
		ts := strconv.FormatInt(start+int64(i), 10)
		msg := auth.WalletMessage(auth.DefaultRealm, ts, http.MethodPost, "/v1/chat/completions", "")
		sig, err := crypto.Sign(accounts.TextHash([]byte(msg)), key)
		if err != nil {
			b.Fatal(err)
		}
		sig[64] += 27
		out[i] = map[string]string{"X-Wallet-Address": addr, "X-Timestamp": ts, "X-Wallet-Signature": "0x" + hex.EncodeToString(sig)}
	}
	return out
}

// nextSignedAt is the first timestamp signedVariants has not used.
var nextSignedAt int64

// benchNetwork is the x402 network of the load benchmark; its facilitator
// stub settles anything, so the token need not exist.
var benchNetwork = &x402.Network{Name: "base-sepolia", ChainID: 84532, TokenName: "USDC", TokenVersion: "2",
	Asset: common.HexToAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e"),
	PayTo: common.HexToAddress("0x209693Bc6afc0C5328bA36FaF03C514EF312287C")}

// benchQuote asks paymeter what body costs over x402, as a client would.
func benchQuote(b *testing.B, url string, body []byte) int64 {
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var c struct {
		Accepts []x402.RequirementV1 `json:"accepts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || resp.StatusCode != http.StatusPaymentRequired || len(c.Accepts) == 0 {
		b.Fatalf("no 402 quote: %d %v", resp.StatusCode, err)
	}
	q, err := strconv.ParseInt(c.Accepts[0].MaxAmountRequired, 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return q
}

// paymentVariants returns n X-PAYMENT headers, each a fresh authorization
// of quote atomic units.
func paymentVariants(b *testing.B, key *ecdsa.PrivateKey, quote int64, n int) []map[string]string {
	out := make([]map[string]string, n)
	now := time.Now()
	for i := range out {
		a := x402.NewAuthorization(key, benchNetwork, quote, now, 60*time.Second)
		sig, err := x402.Sign(key, benchNetwork, &a)
		if err != nil {
			b.Fatal(err)
		}
		out[i] = map[string]string{x402.HeaderPaymentV1: x402.EncodePaymentV1(benchNetwork, &a, sig)}
	}
	return out
}

// TestMain lets this test binary play the servers of BenchmarkLoad in
// processes of their own: PMBENCH_ROLE=upstream, barehop or
// paymeter, listening on PMBENCH_ADDR until SIGTERM.
func TestMain(m *testing.M) {
	if role := os.Getenv("PMBENCH_ROLE"); role != "" {
		if err := playRole(role, os.Getenv("PMBENCH_ADDR")); err != nil {
			fmt.Fprintln(os.Stderr, role+":", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := pgtest.Main(m) // m.Run, then the PostgreSQL cluster of the tests that used one is stopped
	removeBuiltBinary()
	os.Exit(code)
}

func playRole(role, addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// PMBENCH_CPUPROFILE=file profiles, and PMBENCH_TRACE=file traces, the
	// process of role PMBENCH_PROFILE_ROLE (default paymeter).
	if want := cmp.Or(os.Getenv("PMBENCH_PROFILE_ROLE"), "paymeter"); want == role {
		if path := os.Getenv("PMBENCH_CPUPROFILE"); path != "" {
			f, err := os.Create(path)
			if err != nil {
				return err
			}
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
		if path := os.Getenv("PMBENCH_MEMPROFILE"); path != "" {
			// Written at exit: its alloc_* samples cover the whole run.
			defer func() {
				if f, err := os.Create(path); err == nil {
					pprof.Lookup("allocs").WriteTo(f, 0)
					f.Close()
				}
			}()
		}
		if path := os.Getenv("PMBENCH_TRACE"); path != "" {
			f, err := os.Create(path)
			if err != nil {
				return err
			}
			trace.Start(f)
			defer trace.Stop()
		}
	}
	switch role {
	case "paymeter":
		if n, err := strconv.Atoi(os.Getenv("PMBENCH_GOMAXPROCS")); err == nil {
			runtime.GOMAXPROCS(n)
		}
		if os.Getenv("PMBENCH_UPTO_PAUSED") != "" {
			return playPausedPaymeter(ctx, addr) // BenchmarkLoadUpto
		}
		// The real command, configured through the environment (and
		// PMBENCH_CONFIG, a config file, for what the environment cannot
		// set, such as named upstreams).
		args := []string{"serve", "--listen", addr}
		if path := os.Getenv("PMBENCH_CONFIG"); path != "" {
			args = append(args, "--config", path)
		}
		return run(ctx, args, io.Discard, io.Discard)
	case "upstream":
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		up := &demo.Server{APIKey: demoKey}
		// PMBENCH_CHUNK_DELAY spaces a stream's events, as a real
		// upstream's are, so that a relay writes each on its own.
		if d, err := time.ParseDuration(os.Getenv("PMBENCH_CHUNK_DELAY")); err == nil {
			up.ChunkDelay = d
		}
		srv := &http.Server{Handler: up}
		go srv.Serve(ln)
		<-ctx.Done()
		return srv.Close()
	case "facilitator":
		// An x402 facilitator that verifies and settles everything at once.
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if r.URL.Path == "/verify" {
				io.WriteString(w, `{"isValid":true}`)
				return
			}
			io.WriteString(w, `{"success":true,"transaction":"0x`+strings.Repeat("ab", 32)+`","network":"base-sepolia"}`)
		})}
		go srv.Serve(ln)
		<-ctx.Done()
		return srv.Close()
	case "streamhop":
		return playStreamHop(ctx, addr, os.Getenv("PMBENCH_UPSTREAM"))
	case "barehop":
		hop, err := loadtest.NewBareHop(os.Getenv("PMBENCH_UPSTREAM"))
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		go hop.Listener(ln)
		<-ctx.Done()
		return hop.Shutdown()
	}
	return fmt.Errorf("unknown role %q", role)
}

var (
	roles   []*exec.Cmd
	rolePID = map[string]int{}
)

// cpuTime is the CPU time (user and system) process pid has used so far,
// from /proc; 0 where there is no /proc.
func cpuTime(pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces: utime and stime are the 12th and 13th, in clock ticks
	// (USER_HZ, 100 on Linux).
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// boxTime returns the machine's busy and total CPU time so far, in clock
// ticks summed over all CPUs, from the first line of /proc/stat.
func boxTime() (busy, total int64) {
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	// cpu user nice system idle iowait irq softirq steal guest guest_nice:
	// the guest times are already counted in user and nice, so they stop
	// the sum.
	fields := strings.Fields(string(line))
	if len(fields) < 9 {
		return 0, 0
	}
	for i, f := range fields[1:9] {
		n, _ := strconv.ParseInt(f, 10, 64)
		total += n
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return busy, total
}

// startRole starts this binary in a role on a free loopback port and
// waits until it accepts connections.
func startRole(b *testing.B, role string, env []string) string {
	ln := listen(b)
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), "PMBENCH_ROLE="+role, "PMBENCH_ADDR="+addr), env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	roles = append(roles, cmd)
	rolePID[role] = cmd.Process.Pid
	b.Cleanup(func() { stopRoles(b) })
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
	}
	b.Fatalf("%s did not start", role)
	return ""
}

// stopRoles stops the role processes gracefully and waits for them.
func stopRoles(b *testing.B) {
	for _, cmd := range roles {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			b.Errorf("%s: %v", strings.Join(cmd.Env[len(cmd.Env)-1:], " "), err)
		}
	}
	roles = nil
}

// seedLoadDB creates the database the paymeter process will serve: one
// app with plenty of credit and a key.
func seedLoadDB(b *testing.B, path string) (int64, string) {
	l, err := openStore(path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	a := &meter.Account{Kind: meter.AccountApp, Name: "load"}
	if err := l.CreateAccount(ctx, a); err != nil {
		b.Fatal(err)
	}
	if _, err := l.Credit(ctx, a.ID, meter.EntryGrant, amt(b, "1000000"), "load"); err != nil {
		b.Fatal(err)
	}
	key, err := auth.IssueKey(ctx, l, &meter.Key{AccountID: a.ID, Name: "load", Scopes: meter.DefaultKeyScopes}, false)
	if err != nil {
		b.Fatal(err)
	}
	return a.ID, key
}

// checkLoadDB proves the ledger is sound and, when the API-key target ran
// (keyed), that its requests were charged.
func checkLoadDB(b *testing.B, path string, accountID int64, keyed bool) {
	l, err := openStore(path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	if v, err := l.Verify(context.Background()); err != nil || len(v) > 0 {
		b.Fatalf("ledger verify: %v %q", err, v)
	}
	if !keyed {
		return
	}
	entries, err := l.FindEntries(context.Background(), meter.EntryFilter{AccountID: accountID, Limit: 10})
	if err != nil || len(entries) < 2 || entries[0].Kind != meter.EntryUsage {
		b.Fatalf("no usage booked: %v %+v", err, entries)
	}
}

// demoKey is the upstream key the benchmark's demo upstream demands.
const demoKey = "demo-upstream-key"

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
	b.Cleanup(func() {
		// SIGTERM: the master stops its worker (a killed master would
		// leave the worker running), then exits.
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
	}
	b.Fatal("nginx did not start")
	return ""
}

// ledgerCounters are paymeter's cumulative group-commit figures, read from
// its /metrics.
type ledgerCounters struct {
	commits, ops float64
	seconds      float64
}

func (a ledgerCounters) sub(b ledgerCounters) ledgerCounters {
	return ledgerCounters{a.commits - b.commits, a.ops - b.ops, a.seconds - b.seconds}
}

func (d ledgerCounters) String() string {
	return fmt.Sprintf("%.0f commits, %.1f ops and %.2f ms per commit", d.commits, d.ops/d.commits, 1000*d.seconds/d.commits)
}

// benchMetricsToken guards the bench paymeter's /metrics.
const benchMetricsToken = "bench-metrics-token-0123456789"

func ledgerStats(b *testing.B, addr string) ledgerCounters {
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+benchMetricsToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	var c ledgerCounters
	if f := fams["paymeter_ledger_batch_ops"]; f != nil && len(f.Metric) > 0 {
		c.commits = float64(f.Metric[0].Histogram.GetSampleCount())
		c.ops = f.Metric[0].Histogram.GetSampleSum()
	}
	if f := fams["paymeter_ledger_commit_seconds"]; f != nil && len(f.Metric) > 0 {
		c.seconds = f.Metric[0].Histogram.GetSampleSum()
	}
	return c
}
