package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// The real x402 clients — x402-fetch 1.2.0 (v1) and @x402/fetch with
// @x402/evm 2.x (v2), each signing with a viem private-key account — pay
// paymeter end to end, and paymeter settles their payments on a real EVM
// (go-ethereum's simulated backend): each script checks the receipt header
// and the response, this test the chain.
func TestInterop_X402Clients(t *testing.T) {
	node := needNode(t)
	if _, err := os.Stat(filepath.Join(interopDir, "node_modules", "x402-fetch")); err != nil {
		t.Fatalf("x402 clients not installed (npm ci --prefix testdata/interop): %v", err)
	}
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	m := mustRunChainMain(t, chainConfig(t, up.URL(), c), c)

	for _, tc := range []struct {
		script string
		env    []string
	}{
		{"x402v1.mjs", nil},
		// @x402/fetch pays only canonical USDC unless told of our token.
		{"x402v2.mjs", []string{"ASSET=" + c.tokenAddr.Hex()}},
	} {
		t.Run(tc.script, func(t *testing.T) {
			payerKey, _ := crypto.GenerateKey()
			payer := crypto.PubkeyToAddress(payerKey.PublicKey)
			c.mint(t, payer, 1_000_000)
			before := c.balance(t, c.payTo)

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, tc.script)
			cmd.Dir = interopDir
			cmd.Env = append(os.Environ(), "PAYMETER_URL="+m.URL(), "MODEL=demo-small",
				"PAYER_KEY=0x"+hex.EncodeToString(crypto.FromECDSA(payerKey)))
			cmd.Env = append(cmd.Env, tc.env...)
			out, err := cmd.Output()
			if err != nil {
				var stderr []byte
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = ee.Stderr
				}
				t.Fatalf("node %s: %v\n%s%s", tc.script, err, out, stderr)
			}
			var got struct {
				Status          int `json:"status"`
				PaymentResponse struct {
					Success     bool   `json:"success"`
					Transaction string `json:"transaction"`
					Payer       string `json:"payer"`
				} `json:"paymentResponse"`
				Body struct {
					Object string `json:"object"`
				} `json:"body"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%s printed %s: %v", tc.script, out, err)
			}
			if got.Status != 200 || !got.PaymentResponse.Success || got.PaymentResponse.Payer != payer.Hex() ||
				got.Body.Object != "chat.completion" {
				t.Fatalf("%s: %s", tc.script, out)
			}
			rc, err := c.client.TransactionReceipt(ctx, common.HexToHash(got.PaymentResponse.Transaction))
			if err != nil || rc.Status != types.ReceiptStatusSuccessful {
				t.Fatalf("settlement %s: %v %+v", got.PaymentResponse.Transaction, err, rc)
			}
			paid := c.balance(t, c.payTo) - before
			if paid <= 0 || c.balance(t, payer) != 1_000_000-paid {
				t.Fatalf("payTo received %d; payer holds %d", paid, c.balance(t, payer))
			}
			if w := walletOf(t, m, payer); w == nil || w.Balance <= 0 {
				t.Fatalf("no change on the payer's wallet: %+v", w)
			}
		})
	}
	mustVerify(t, m)
}
