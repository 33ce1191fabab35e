package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/devchain"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// demoPayerUnits is what the demo's payer wallet holds: 100 test USDC.
const demoPayerUnits = 100_000_000

// demoChain is the demo's own chain: a local EVM with the test USDC under
// Base Sepolia USDC's EIP-712 domain, a payer wallet holding 100 of it
// (and having approved Permit2 for it), a relayer that settles payments on
// it, and the address paid; Permit2 and the x402 upto proxy are there from
// genesis.
type demoChain struct {
	*devchain.Chain
	usdc       *devchain.USDC
	relayerKey *ecdsa.PrivateKey
	payerKey   *ecdsa.PrivateKey
	payer      common.Address
	payTo      common.Address
}

// startDemoChain starts the chain with JSON-RPC on rpcAddr (loopback) and
// deploys and funds everything on it, in its first block.
func startDemoChain(ctx context.Context, rpcAddr string) (*demoChain, error) {
	deployerKey, deployer := devchain.NewKey()
	relayerKey, relayer := devchain.NewKey()
	payerKey, payer := devchain.NewKey()
	_, payTo := devchain.NewKey()
	c, err := devchain.Start(devchain.Config{RPC: rpcAddr, Alloc: types.GenesisAlloc{
		deployer: {Balance: devchain.Ether(10)},
		relayer:  {Balance: devchain.Ether(1000)}, // gas for the settlements
	}})
	if err != nil {
		return nil, err
	}
	// The payer approves Permit2 in the same block, for x402 upto (its
	// default chain id, 84532, is also Permit2's domain's).
	usdc, err := c.DeployUSDCApproved(ctx, deployerKey, devchain.BaseSepoliaUSDC,
		map[common.Address]int64{payer: demoPayerUnits}, []*ecdsa.PrivateKey{payerKey})
	if err != nil {
		c.Close()
		return nil, err
	}
	return &demoChain{Chain: c, usdc: usdc, relayerKey: relayerKey, payerKey: payerKey, payer: payer, payTo: payTo}, nil
}

// network is the x402 network the demo takes payments on: base-sepolia by
// name (v1) and by chain id (v2), settled by paymeter's own relayer on the
// local chain.
func (d *demoChain) network() NetworkConfig {
	return NetworkConfig{Name: "base-sepolia", ChainID: d.usdc.Domain.ChainID, Asset: d.usdc.Address.Hex(),
		TokenName: d.usdc.Domain.Name, TokenVersion: d.usdc.Domain.Version, PayTo: d.payTo.Hex(),
		Settlement: "chain", RPCURL: d.RPCURL}
}

// configure turns x402 on, on the demo chain, with top-ups for sale even
// where the environment emptied topup_amounts: the demo shows one.
func (d *demoChain) configure(cfg *Config) {
	cfg.X402.Networks = []NetworkConfig{d.network()}
	cfg.X402.RelayerKey = hex.EncodeToString(crypto.FromECDSA(d.relayerKey))
	cfg.X402.Upto.Enabled = true // the chain has Permit2 and the upto proxy; the payer approved Permit2
	// Gas costs nothing on the demo chain: one unit the least settled, so that the metered cost shows.
	cfg.X402.Upto.MinAmount = meter.USDC(1).Amount()
	if len(cfg.X402.TopupAmounts) == 0 {
		cfg.X402.TopupAmounts = []meter.Amount{10 * meter.Credit}
	}
}

// caip2 is the demo network's x402 v2 name.
func (d *demoChain) caip2() string {
	return (&x402.Network{ChainID: d.usdc.Domain.ChainID}).CAIP2()
}

// writeFiles writes, in dir, the payer's key (for `paymeter pay
// --key-file`, so that it never has to be typed into a shell) and the
// settings the ledger commands need to find the database and the chain
// (`paymeter ledger reconcile --config`). It returns their paths.
func (d *demoChain) writeFiles(dir, db string) (keyFile, configFile string, err error) {
	keyFile = filepath.Join(dir, "payer.key")
	key := "0x" + hex.EncodeToString(crypto.FromECDSA(d.payerKey)) + "\n"
	if err := os.WriteFile(keyFile, []byte(key), 0o600); err != nil {
		return "", "", err
	}
	n := d.network()
	configFile = filepath.Join(dir, "paymeter.yaml")
	yaml := fmt.Sprintf(`# Written by paymeter demo: what the operator commands need to find the
# demo's database and its chain, e.g. paymeter ledger reconcile --config FILE
database: %q
x402:
  networks:
    - {name: %s, chain_id: %d, asset: %q, token_name: %s, token_version: %q, pay_to: %q, settlement: chain, rpc_url: %q}
`, db, n.Name, n.ChainID, n.Asset, n.TokenName, n.TokenVersion, n.PayTo, n.RPCURL)
	if err := os.WriteFile(configFile, []byte(yaml), 0o600); err != nil {
		return "", "", err
	}
	return keyFile, configFile, nil
}
