package devchain

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
)

// The chain serves JSON-RPC on loopback under its own chain id, seals the
// token's deployment and mints in one block, and seals later transactions
// as they arrive.
func TestChain_RPCDeployAndMint(t *testing.T) {
	deployer, deployerAddr := NewKey()
	_, payer := NewKey()
	c, err := Start(Config{RPC: "127.0.0.1:0", Alloc: types.GenesisAlloc{deployerAddr: {Balance: Ether(10)}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	rpc, err := ethclient.DialContext(ctx, c.RPCURL)
	if err != nil {
		t.Fatal(err)
	}
	defer rpc.Close()
	if id, err := rpc.ChainID(ctx); err != nil || id.Int64() != 84532 {
		t.Fatalf("chain id over %s: %v %v, want 84532", c.RPCURL, id, err)
	}

	start := time.Now()
	u, err := c.DeployUSDC(ctx, deployer, BaseSepoliaUSDC, map[common.Address]int64{payer: 100_000_000})
	if err != nil {
		t.Fatal(err)
	}
	if head, err := rpc.BlockNumber(ctx); err != nil || head != 1 {
		t.Fatalf("deploy and mint took blocks up to %d (%v), want one block", head, err)
	}
	t.Logf("deployed and minted in %v", time.Since(start))
	if b, err := u.Balance(ctx, payer); err != nil || b.Int64() != 100_000_000 {
		t.Fatalf("payer holds %v (%v), want 100 USDC", b, err)
	}

	// A later transaction, sent over HTTP, is sealed without being asked.
	if err := u.Mint(ctx, payer, 1); err != nil {
		t.Fatal(err)
	}
	if b, _ := u.Balance(ctx, payer); b.Cmp(big.NewInt(100_000_001)) != 0 {
		t.Fatalf("payer holds %v after a second mint", b)
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "10.0.0.1:8545", "example.com:1"} {
		if _, _, err := loopbackHostPort(addr); err == nil {
			t.Errorf("%q accepted", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:8545", "localhost:8545"} {
		if _, _, err := loopbackHostPort(addr); err != nil {
			t.Errorf("%q: %v", addr, err)
		}
	}
}
