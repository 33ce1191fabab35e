package devchain

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
)

// interopDir holds the third-party JavaScript clients (npm ci there).
const interopDir = "../../testdata/interop"

// viem, the client of x402's JavaScript facilitators and wallets, works
// against the chain over HTTP: blocks, state, a simulated revert's reason,
// fees, a contract write and a transfer waited for, logs by topic.
func TestRPC_Viem(t *testing.T) {
	node, err := exec.LookPath("node")
	if _, statErr := os.Stat(filepath.Join(interopDir, "node_modules", "viem")); err != nil || statErr != nil {
		t.Skip("node or testdata/interop/node_modules missing (npm ci in testdata/interop)")
	}
	c := startRPCChain(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	from := addrOf(c.deployer)
	cmd := exec.CommandContext(ctx, node, "devchain.mjs", c.RPCURL, strconv.FormatInt(c.ChainID, 10),
		"0x"+hex.EncodeToString(crypto.FromECDSA(c.deployer)), c.usdc.Address.Hex(), c.payer.Hex())
	cmd.Dir = interopDir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node devchain.mjs: %v\n%s%s", err, out, stderr.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := map[string]any{
		"chainId": 1337.0, "head": 1.0, "code": true, "fees": true,
		"block1":        map[string]any{"txs": 2.0, "from": strings.ToLower(from.Hex()), "withdrawals": 0.0},
		"balanceBefore": "100000000",
		"revert":        "ERC20: transfer amount exceeds balance",
		"mint":          map[string]any{"status": "success", "from": strings.ToLower(from.Hex()), "to": strings.ToLower(c.usdc.Address.Hex()), "logs": 1.0, "contractAddress": nil},
		"transfer":      "success", "sender": strings.ToLower(from.Hex()), "nonce": 4.0, "ether": "3",
		"balanceAfter": "100000005",
		"logs":         []any{"100000000", "5"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("viem saw\n%v\nwant\n%v", got, want)
	}
}
