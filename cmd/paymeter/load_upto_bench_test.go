package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/devchain"
	"github.com/paymeter/paymeter/internal/loadtest"
	"github.com/paymeter/paymeter/internal/x402"
	"github.com/prometheus/common/expfmt"
)

// BenchmarkLoadUpto is the load bench of x402 `upto` (docs/design.md §8):
// the API-key path and upto-paid requests through one paymeter, in one
// run, each paid path's extra CPU per request over the API key counted in
// secp256k1 recoveries measured in the same run. Upto needs a chain (the
// payer's funds and Permit2 allowance are read on it, and its settlements
// go there): a devchain in this process, with the test USDC, Permit2 and
// the upto proxy, its JSON-RPC on loopback. The request path is measured
// with the settler paused; then a fresh paymeter on the same ledger
// settles what was served, and its CPU per settled payment is reported
// apart, as the issue asks: settlement is off the request path.
//
//	go test -run '^$' -bench BenchmarkLoadUpto -benchtime 1x ./cmd/paymeter
//
// PMBENCH_SECONDS sets the measured seconds per target (default 5);
// PMBENCH_ONLY=paymeter or upto runs only that target.
func BenchmarkLoadUpto(b *testing.B) {
	seconds := 5
	if s := os.Getenv("PMBENCH_SECONDS"); s != "" {
		fmt.Sscan(s, &seconds)
	}
	ctx := context.Background()
	deployerKey, deployer := devchain.NewKey()
	relayerKey, relayer := devchain.NewKey()
	payerKey, payer := devchain.NewKey()
	_, payTo := devchain.NewKey()
	c, err := devchain.Start(devchain.Config{RPC: "127.0.0.1:0", Alloc: types.GenesisAlloc{
		deployer: {Balance: devchain.Ether(10)},
		relayer:  {Balance: devchain.Ether(1_000_000)},
	}})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	usdc, err := c.DeployUSDCApproved(ctx, deployerKey, devchain.BaseSepoliaUSDC,
		map[common.Address]int64{payer: 1_000_000_000_000}, []*ecdsa.PrivateKey{payerKey})
	if err != nil {
		b.Fatal(err)
	}

	upstreamAddr := startRole(b, "upstream", nil)
	dbPath := filepath.Join(b.TempDir(), "load.db")
	_, key := seedLoadDB(b, dbPath)
	env := append(benchPaymeterEnv(dbPath, "http://"+upstreamAddr+"/v1"),
		fmt.Sprintf("PAYMETER_X402_NETWORKS=[{name: base-sepolia, asset: %q, token_name: USDC, token_version: \"2\", pay_to: %q, settlement: chain, rpc_url: %q}]",
			usdc.Address.Hex(), payTo.Hex(), c.RPCURL),
		"PAYMETER_X402_RELAYER_KEY="+hex.EncodeToString(crypto.FromECDSA(relayerKey)),
		"PAYMETER_X402_UPTO_ENABLED=true",
		// One payer, whose unsettled total the paused settler lets grow:
		// caps too high to reach, as the rate limits are.
		"PAYMETER_X402_UPTO_MAX_UNSETTLED_PER_PAYER=1000000",
		"PAYMETER_X402_UPTO_MAX_UNSETTLED=1000000",
		"PAYMETER_X402_UPTO_MIN_AMOUNT=0.000001",
		"PAYMETER_X402_UPTO_BATCH_INTERVAL=200ms",
		"PAYMETER_X402_UPTO_BATCH_SIZE=256",
	)
	paymeterAddr := startRole(b, "paymeter", append(env, "PMBENCH_UPTO_PAUSED=1"))
	url := "http://" + paymeterAddr + "/v1/chat/completions"
	body := []byte(`{"model":"demo-small","max_tokens":16,"messages":[{"role":"user","content":"Say hello."}]}`)
	ch, req := benchUptoOffer(b, url, body)

	served := 0
	b.ResetTimer()
	for _, conns := range []int{64, 256} {
		var rounds []roundFigures
		for round := range benchRounds() {
			fmt.Fprintf(os.Stdout, "load c=%d, round %d\n", conns, round+1)
			r := roundFigures{rps: map[string]float64{}, cpu: map[string]float64{}, unit: map[string]float64{}}
			for _, name := range []string{"paymeter", "upto"} {
				if only := os.Getenv("PMBENCH_ONLY"); only != "" && !slices.Contains(strings.Split(only, ","), name) {
					continue
				}
				n := benchUptoTarget(b, name, conns, seconds, url, body, key, payerKey, ch, req, &r)
				if name == "upto" {
					served += n
				}
			}
			rounds = append(rounds, r)
		}
		for name, v := range medianRPS(rounds) {
			b.ReportMetric(v, fmt.Sprintf("%s-c%d-req/s", name, conns))
		}
		for name, v := range medianOf(rounds, func(r roundFigures) map[string]float64 { return r.cpu }) {
			b.ReportMetric(v, fmt.Sprintf("%s-c%d-cpu-µs/req", name, conns))
		}
		printExtraCPU(b, conns, rounds)
	}
	b.StopTimer()
	stopRole(b, "paymeter")
	benchUptoSettlement(b, env, min(served, 600))
}

// benchUptoTarget runs one target of BenchmarkLoadUpto, upto between two
// measures of the recovery unit, records it in r and returns how many
// requests it served.
func benchUptoTarget(b *testing.B, name string, conns, seconds int, url string, body []byte, key string,
	payerKey *ecdsa.PrivateKey, ch *x402.PaymentRequired, req x402.Requirement, r *roundFigures) int {
	t := loadtest.Target{URL: url, Body: body, Header: map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + key}}
	opts := loadtest.Options{Connections: conns, Duration: time.Duration(seconds) * time.Second, Warmup: time.Second}
	if name == "upto" {
		t.Header = map[string]string{"Content-Type": "application/json"}
		t.Variants = uptoVariants(b, payerKey, ch, req, (seconds+1)*4_000)
		opts.MaxRequests = int64(len(t.Variants))
	}
	var res loadtest.Result
	var err error
	var cpu time.Duration
	run := func() {
		cpu0 := cpuTime(rolePID["paymeter"])
		res, err = loadtest.Run(context.Background(), t, opts)
		cpu = cpuTime(rolePID["paymeter"]) - cpu0
	}
	unitLine := ""
	if name == "upto" {
		r.unit[name], unitLine = unitAround(b, run)
	} else {
		run()
	}
	if err != nil {
		b.Fatal(err)
	}
	if res.Errors > 0 {
		b.Fatalf("%s: %d errors (statuses %v)", name, res.Errors, res.Statuses)
	}
	n := res.RPS * (opts.Warmup + opts.Duration).Seconds()
	r.rps[name], r.cpu[name] = res.RPS, float64(cpu.Microseconds())/n
	fmt.Fprintf(os.Stdout, "load c=%-3d %-8s %s\n%s           cpu: paymeter %.0f µs/req\n", conns, name, res, unitLine, r.cpu[name])
	return int(n)
}

// benchUptoOffer asks paymeter for the 402 of body, as a client would, and
// returns it with its upto requirement.
func benchUptoOffer(b *testing.B, url string, body []byte) (*x402.PaymentRequired, x402.Requirement) {
	resp, err := http.Post(url, "application/json", strings.NewReader(string(body)))
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	ch, err := x402.ParseChallengeV2(resp.Header.Get("PAYMENT-REQUIRED"))
	if err != nil || resp.StatusCode != http.StatusPaymentRequired {
		b.Fatalf("no 402 quote: %d %v", resp.StatusCode, err)
	}
	for _, r := range ch.Accepts {
		if r.Scheme == x402.SchemeUpto {
			return ch, r
		}
	}
	b.Fatalf("the 402 offers no upto: %+v", ch.Accepts)
	return nil, x402.Requirement{}
}

// uptoNonces numbers the bench's permits: each nonce is single use.
var uptoNonces atomic.Int64

// uptoVariants returns n PAYMENT-SIGNATURE headers, each a fresh Permit2
// permit (its own nonce) of req's maximum, as @x402/evm's client signs it.
func uptoVariants(b *testing.B, key *ecdsa.PrivateKey, ch *x402.PaymentRequired, req x402.Requirement, n int) []map[string]string {
	chainID, err := x402.ParseCAIP2(req.Network)
	if err != nil {
		b.Fatal(err)
	}
	amount, _ := new(big.Int).SetString(req.Amount, 10)
	deadline := big.NewInt(time.Now().Unix() + int64(req.MaxTimeoutSeconds))
	out := make([]map[string]string, n)
	for i := range out {
		a := &x402.Permit2Authorization{
			From: crypto.PubkeyToAddress(key.PublicKey), Token: common.HexToAddress(req.Asset), Amount: amount,
			Spender: x402.UptoProxyAddress, Nonce: big.NewInt(uptoNonces.Add(1)), Deadline: deadline,
			To: common.HexToAddress(req.PayTo), Facilitator: common.HexToAddress(req.Extra.FacilitatorAddress), ValidAfter: big.NewInt(0),
		}
		sig, err := x402.SignUpto(key, chainID, a)
		if err != nil {
			b.Fatal(err)
		}
		out[i] = map[string]string{x402.HeaderPaymentV2: x402.EncodeUpto(req, &ch.Resource, a, sig)}
	}
	return out
}

// benchUptoSettlement starts paymeter again on the ledger the paused run
// left, with its settler, and reports its CPU per payment settled until
// want are (a block holds ~150 settlements, sealed once a second).
func benchUptoSettlement(b *testing.B, env []string, want int) {
	if p := os.Getenv("PMBENCH_CPUPROFILE"); p != "" {
		env = append(env, "PMBENCH_CPUPROFILE="+p+".settle") // the last value wins
	}
	addr := startRole(b, "paymeter", env)
	pid := rolePID["paymeter"]
	cpu0, start := cpuTime(pid), time.Now()
	settled := 0.0
	for deadline := start.Add(3 * time.Minute); settled < float64(want); time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			b.Fatalf("%.0f of %d upto payments settled in 3 minutes", settled, want)
		}
		settled = uptoSettledTotal(b, addr)
	}
	cpu, wall := cpuTime(pid)-cpu0, time.Since(start)
	fmt.Fprintf(os.Stdout, "upto settlement: %.0f payments settled in %.1f s (%.0f/s), paymeter %.0f µs CPU per settled payment\n",
		settled, wall.Seconds(), settled/wall.Seconds(), float64(cpu.Microseconds())/settled)
	b.ReportMetric(float64(cpu.Microseconds())/settled, "upto-settle-cpu-µs/payment")
}

// uptoSettledTotal reads paymeter_upto_settled_total from /metrics.
func uptoSettledTotal(b *testing.B, addr string) float64 {
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
	f := fams["paymeter_upto_settled_total"]
	if f == nil || len(f.Metric) == 0 {
		return 0
	}
	return f.Metric[0].GetCounter().GetValue()
}

// stopRole stops the server process of one role and forgets it.
func stopRole(b *testing.B, role string) {
	for i, cmd := range roles {
		if cmd.Process.Pid != rolePID[role] {
			continue
		}
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			b.Errorf("%s: %v", role, err)
		}
		roles = slices.Delete(roles, i, i+1)
		delete(rolePID, role)
		return
	}
}

// playPausedPaymeter is the paymeter role with its upto settler paused
// (PMBENCH_UPTO_PAUSED): what it serves stays due for the next process.
func playPausedPaymeter(ctx context.Context, addr string) error {
	cfg, err := LoadConfig(os.Getenv("PMBENCH_CONFIG"), os.Environ())
	if err != nil {
		return err
	}
	cfg.Listen = addr
	m := NewMain(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	m.PauseUpto = true
	if err := m.Run(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	return m.Close()
}
