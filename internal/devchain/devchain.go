// Package devchain runs a local EVM chain inside the process, for the demo
// and the tests: go-ethereum's node and simulated beacon (what its simulated
// backend and `geth --dev` run), with JSON-RPC on loopback, a block sealed
// as soon as a transaction waits, and the test USDC of package contracts.
//
// Nothing on it is worth anything: its keys are generated per run and its
// state lives in memory only.
package devchain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
)

// Config says what chain to start.
type Config struct {
	// ChainID is the chain's id (EIP-155), which transactions are signed
	// for; 0 means 84532, Base Sepolia's, so that clients that know only
	// public networks sign for this one.
	ChainID int64
	// RPC is the loopback address JSON-RPC listens on over HTTP
	// ("127.0.0.1:0" picks a port); empty serves it in process only.
	RPC string
	// Alloc is the genesis state: balances, and contracts with their code
	// and storage at fixed addresses.
	Alloc types.GenesisAlloc
}

// Chain is a running local chain.
type Chain struct {
	// ChainID is the chain's id.
	ChainID int64
	// RPCURL is the HTTP JSON-RPC endpoint, empty when not served.
	RPCURL string

	node   *node.Node
	beacon *catalyst.SimulatedBeacon
	client *ethclient.Client

	sealMu sync.Mutex // one seal at a time: the beacon is not safe for concurrent use
	stop   context.CancelFunc
	done   chan struct{}
}

// Start starts a chain and its sealer. Close stops it.
func Start(cfg Config) (*Chain, error) {
	if cfg.ChainID == 0 {
		cfg.ChainID = 84532
	}
	nodeConf := node.DefaultConfig
	nodeConf.DataDir = "" // in memory
	nodeConf.P2P = p2p.Config{NoDiscovery: true, MaxPeers: 0}
	nodeConf.HTTPHost, nodeConf.HTTPPort = "", 0
	if cfg.RPC != "" {
		host, port, err := loopbackHostPort(cfg.RPC)
		if err != nil {
			return nil, err
		}
		nodeConf.HTTPHost, nodeConf.HTTPPort = host, port
		nodeConf.HTTPModules = []string{"eth", "net", "web3"}
	}
	stack, err := node.New(&nodeConf)
	if err != nil {
		return nil, fmt.Errorf("devchain: %w", err)
	}

	// Every fork active from genesis, as on the dev chain, under our id.
	chainConf := *params.AllDevChainProtocolChanges
	chainConf.ChainID = big.NewInt(cfg.ChainID)
	alloc := core.SystemContractAllocs()
	for addr, acct := range cfg.Alloc {
		alloc[addr] = acct
	}
	ethConf := ethconfig.Defaults
	ethConf.NetworkId = uint64(cfg.ChainID)
	ethConf.Genesis = &core.Genesis{Config: &chainConf, GasLimit: ethconfig.Defaults.Miner.GasCeil, Alloc: alloc}
	ethConf.SyncMode = ethconfig.FullSync
	ethConf.TxPool.NoLocals = true

	backend, err := eth.New(stack, &ethConf)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("devchain: %w", err)
	}
	stack.RegisterAPIs([]rpc.API{{Namespace: "eth", Service: filters.NewFilterAPI(filters.NewFilterSystem(backend.APIBackend, filters.Config{}))}})
	if err := stack.Start(); err != nil {
		stack.Close()
		return nil, fmt.Errorf("devchain: start: %w", err)
	}
	// Period 0: the beacon seals only when asked (Commit); the sealer
	// below asks whenever a transaction waits.
	beacon, err := catalyst.NewSimulatedBeacon(0, common.Address{}, backend)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("devchain: beacon: %w", err)
	}
	c := &Chain{ChainID: cfg.ChainID, node: stack, beacon: beacon, client: ethclient.NewClient(stack.Attach()), done: make(chan struct{})}
	if cfg.RPC != "" {
		c.RPCURL = stack.HTTPEndpoint()
	}
	ctx, stop := context.WithCancel(context.Background())
	c.stop = stop
	go c.seal(ctx)
	return c, nil
}

// Client is an in-process client of the chain.
func (c *Chain) Client() *ethclient.Client { return c.client }

// Close stops the sealer and the node.
func (c *Chain) Close() error {
	c.stop()
	<-c.done
	c.client.Close()
	return c.node.Close()
}

// seal seals a block whenever a transaction waits, but at most one per
// wall-clock second: the beacon stamps a block with the current second, or
// its parent's plus one, so sealing faster would run the chain's clock
// ahead of the real one, and with it ahead of the validity windows of the
// authorizations that clients sign by the real one.
func (c *Chain) seal(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
		pending, err := c.client.PendingTransactionCount(ctx)
		if err != nil || pending == 0 {
			continue
		}
		if head, err := c.client.HeaderByNumber(ctx, nil); err == nil && int64(head.Time) < time.Now().Unix() {
			c.commit()
		}
	}
}

// commit seals a block if a transaction still waits.
func (c *Chain) commit() {
	c.sealMu.Lock()
	defer c.sealMu.Unlock()
	if n, err := c.client.PendingTransactionCount(context.Background()); err == nil && n > 0 {
		c.beacon.Commit()
	}
}

// Wait returns tx's receipt once it is mined, or an error if it failed.
func (c *Chain) Wait(ctx context.Context, tx *types.Transaction) (*types.Receipt, error) {
	for {
		r, err := c.client.TransactionReceipt(ctx, tx.Hash())
		if err == nil {
			if r.Status != types.ReceiptStatusSuccessful {
				return r, fmt.Errorf("devchain: transaction %s reverted", tx.Hash().Hex())
			}
			return r, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("devchain: transaction %s not mined: %w", tx.Hash().Hex(), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// NewKey generates a key and returns it with its address.
func NewKey() (*ecdsa.PrivateKey, common.Address) {
	k, err := crypto.GenerateKey()
	if err != nil {
		panic(err) // the system's random source failed
	}
	return k, crypto.PubkeyToAddress(k.PublicKey)
}

// Ether is n ether in wei.
func Ether(n int64) *big.Int {
	return new(big.Int).Mul(big.NewInt(n), big.NewInt(params.Ether))
}

var errNotLoopback = errors.New("devchain: RPC must listen on a loopback address")

// loopbackHostPort splits addr and refuses a host that is not loopback:
// the chain's RPC is unauthenticated, and its accounts are funded.
func loopbackHostPort(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("devchain: RPC address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", 0, errNotLoopback
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return "", 0, fmt.Errorf("devchain: RPC port %q is not a port number", port)
	}
	return host, p, nil
}
