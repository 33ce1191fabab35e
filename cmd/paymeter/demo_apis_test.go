package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paymeter/paymeter/internal/devchain"
)

// lockedBuffer is a bytes.Buffer written by one goroutine and read by another.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// `paymeter demo`, run in process, prints one ready-to-paste example per
// API and per way to pay: each is run as printed, with the shell, curl and
// the built paymeter binary, against the running demo, in the order
// printed, and answers as its description says.
func TestDemo_PrintedLinesWork(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("curl is not installed")
		}
		t.Skip("curl is not installed")
	}
	bin := paymeterBinary(t)
	demoCommand = func() string { return bin }
	t.Cleanup(func() { demoCommand = selfCommand })
	t.Setenv("PAYMETER_METRICS_LISTEN", "127.0.0.1:0")
	// --info replaces whatever was planted at its path: a symlink to a
	// file others can read gets nothing.
	dir := t.TempDir()
	planted, infoPath := filepath.Join(dir, "planted.json"), filepath.Join(dir, "info.json")
	if err := os.WriteFile(planted, []byte("planted"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(planted, infoPath); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- runDemo(ctx, []string{"--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "demo.db"), "--info", infoPath}, &out, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Error(err)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "Press Ctrl-C"); {
		if time.Now().After(deadline) {
			t.Fatalf("the demo printed no examples:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if b, _ := os.ReadFile(planted); string(b) != "planted" {
		t.Fatalf("--info wrote through a planted symlink: %q", b)
	}
	if st, err := os.Lstat(infoPath); err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
		t.Fatalf("--info file: %v %v, want a regular file of mode 0600", st.Mode(), err)
	}
	// What each example's answer must hold, by the start of its description.
	want := map[string][]string{
		"A chat completion":         {"HTTP/1.1 200", "X-Paymeter-Cost:", "X-Paymeter-Balance:", `"object":"chat.completion"`, `"paymeter_cost":"`},
		"The same, streamed (the":   {"data: [DONE]", "X-Paymeter-Cost:"},
		"The Responses API":         {`"paymeter_cost":"`},
		"The same, streamed (event": {"response.completed", `"paymeter_cost":"`},
		"The Anthropic Messages":    {`"type":"message"`, `"paymeter_cost":"`},
		"Two images":                {`"b64_json":"`, `"input_tokens":4,`, `"paymeter_cost":"0.34002"`},
		"Embeddings":                {`"object":"embedding"`, `"prompt_tokens":6`, `"paymeter_cost":"`},
		"Prompt caching":            {`"prompt_tokens":302`, `"cached_tokens":256`, `"paymeter_cost":"0.000111"`},
		"A reasoning model":         {`"reasoning_tokens":8`, `"paymeter_cost":"`},
		"An app that has run out":   {"HTTP/1.1 402", "insufficient_credits", "payment-required: "},
		"A session token":           {"HTTP/1.1 200", "x-paymeter-cost:", `"object":"chat.completion"`},
		"No credentials at all":     {"HTTP/1.1 402", "payment_required", "payment-required: ", `"x402version":1`},
		"x402, per request":         {"via x402 v2 exact", "receipt: 0x", "cost: ", `"object":"chat.completion"`},
		"The same with x402 v1":     {"via x402 v1 exact", "receipt: 0x", "on base-sepolia", "cost: "},
		"A top-up":                  {"paid: 10000000 usdc units", "balance: "},
		"Spend that balance":        {`"object":"chat.completion"`, "cost: "},
		"x402 upto":                 {"via x402 v2 upto", "receipt: accepted", "charged: ", `"object":"chat.completion"`},
		"Or with sign-in-with-x":    {"sign-in-with-x: 0x", "nothing was paid", "cost: ", "balance: ", `"object":"chat.completion"`},
		"Sign in with Ethereum":     {"signed in: ", "pm_"},
		"The payer's balances":      {"balance: ", "token: "},
		"The ledger, and every":     {"ledger ok", "3 credited payments checked on chain, 0 without their transfer"},
	}
	ran := 0
	for block := range strings.SplitSeq(out.String(), "\n\n") {
		if !strings.Contains(block, "curl ") && !strings.Contains(block, bin+" ") {
			continue
		}
		desc, script, _ := strings.Cut(block, "\n  ")
		var checks []string
		var prefix string
		for p, c := range want {
			if strings.HasPrefix(desc, p) {
				prefix, checks = p, c
			}
		}
		if checks == nil {
			t.Errorf("example %q has no expectation", desc)
			continue
		}
		ran++
		cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
		got, err := exec.CommandContext(cctx, "sh", "-c", script).CombinedOutput()
		ccancel()
		if err != nil {
			t.Errorf("%s: %v\n%s", desc, err, got)
			continue
		}
		for _, c := range checks {
			if !strings.Contains(strings.ToLower(string(got)), strings.ToLower(c)) {
				t.Errorf("%s\n%s\nanswered without %q:\n%s", desc, script, c, got)
			}
		}
		refused := prefix == "An app that has run out" || prefix == "No credentials at all"
		if !refused && strings.Contains(string(got), `"error":{`) {
			t.Errorf("%s answered an error:\n%s", desc, got)
		}
	}
	if ran != len(want) {
		t.Errorf("%d examples printed, want %d:\n%s", ran, len(want), out.String())
	}
}

// The demo sells a top-up, and prints its line, even when the environment
// empties x402.topup_amounts.
func TestDemo_TopupWithoutConfiguredAmounts(t *testing.T) {
	cfg, err := LoadConfig("", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.X402.TopupAmounts = nil
	key, _ := devchain.NewKey()
	d := &demoChain{Chain: &devchain.Chain{ChainID: 84532}, relayerKey: key, usdc: &devchain.USDC{Domain: devchain.BaseSepoliaUSDC}}
	d.configure(cfg)
	if len(cfg.X402.TopupAmounts) != 1 || cfg.X402.TopupAmounts[0] != amt(t, "10") {
		t.Fatalf("topup amounts %v, want [10]", cfg.X402.TopupAmounts)
	}
	info := &demoInfo{TopupAmounts: []string{cfg.X402.TopupAmounts[0].String()}}
	if lines := demoPayLines(info); !strings.Contains(lines, " topup") || !strings.Contains(lines, "A top-up: 10 credits") {
		t.Fatalf("no top-up line:\n%s", lines)
	}
}
