// Package devchain runs a local EVM chain inside the process, for the demo
// and the tests: go-ethereum's block chain, transaction pool and block
// builder over an in-memory database, with a JSON-RPC server of its own on
// loopback, a block sealed as soon as a transaction waits, and the test
// USDC of package contracts. Like a public chain, it has Permit2 and the
// x402 upto proxy at their canonical addresses from genesis.
//
// It does not run go-ethereum's node (p2p, on-disk databases, the engine
// API): those would double the cold build of the paymeter binary for
// nothing the demo uses (docs/design.md, the demo chain).
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
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus/beacon"
	"github.com/ethereum/go-ethereum/consensus/ethash"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/txpool/legacypool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/miner"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/paymeter/paymeter/contracts"
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
	// Permit2ChainID is the chain id in the EIP-712 domain of the chain's
	// Permit2 (contracts.UptoAlloc, allocated on every chain, as on a
	// public one, with the x402 upto proxy); 0 means ChainID. A chain whose
	// clients sign for a public network's id sets that id.
	Permit2ChainID int64
}

// Chain is a running local chain.
type Chain struct {
	// ChainID is the chain's id.
	ChainID int64
	// RPCURL is the HTTP JSON-RPC endpoint, empty when not served.
	RPCURL string

	db     ethdb.Database
	bc     *core.BlockChain
	pool   *txpool.TxPool
	miner  *miner.Miner
	rpc    *rpc.Server
	http   *http.Server
	client *ethclient.Client

	// sealMu makes one seal at a time, and lets DeployUSDC hold sealing
	// off while it fills the pool.
	sealMu sync.Mutex
	// mined indexes the transactions of the blocks this chain sealed, by
	// hash: go-ethereum's own index is built in the background, so that a
	// receipt would not be found for a while after its block.
	minedMu sync.RWMutex
	mined   map[common.Hash]txLocation

	stop      context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

// txLocation is where a mined transaction is.
type txLocation struct {
	block common.Hash
	index int
}

// Start starts a chain and its sealer. Close stops it.
func Start(cfg Config) (*Chain, error) {
	if cfg.ChainID == 0 {
		cfg.ChainID = 84532
	}
	var host string
	var port int
	if cfg.RPC != "" {
		var err error
		if host, port, err = loopbackHostPort(cfg.RPC); err != nil {
			return nil, err
		}
	}
	c := &Chain{ChainID: cfg.ChainID, db: rawdb.NewMemoryDatabase(), mined: map[common.Hash]txLocation{}, done: make(chan struct{})}
	if err := c.open(cfg); err != nil {
		c.db.Close()
		return nil, err
	}
	c.rpc = newRPCServer(c)
	c.client = ethclient.NewClient(rpc.DialInProc(c.rpc))
	if cfg.RPC != "" {
		if err := c.serveHTTP(host, port); err != nil {
			c.closeAll()
			return nil, err
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	c.stop = stop
	go c.seal(ctx)
	return c, nil
}

// open creates the block chain from its genesis, the pool and the block
// builder.
func (c *Chain) open(cfg Config) error {
	// Every fork active from genesis, as on go-ethereum's dev chain (the
	// contracts need Cancun's opcodes), under our id.
	chainConf := *params.AllDevChainProtocolChanges
	chainConf.ChainID = big.NewInt(cfg.ChainID)
	// Prague's system contracts (block hash history, beacon roots, the
	// request queues) must exist for blocks to be built.
	alloc := core.SystemContractAllocs()
	for addr, acct := range contracts.UptoAlloc(cfg.Permit2ChainID) {
		alloc[addr] = acct
	}
	for addr, acct := range cfg.Alloc {
		alloc[addr] = acct
	}
	genesis := &core.Genesis{Config: &chainConf, GasLimit: miner.DefaultConfig.GasCeil, BaseFee: big.NewInt(params.InitialBaseFee),
		Difficulty: big.NewInt(0), Alloc: alloc}
	// Archive mode: every block's state stays readable, for calls at a
	// past block (internal/chain replays a reverted transaction at its
	// block's parent to read why).
	bcConf := core.DefaultConfig().WithArchive(true)
	bc, err := core.NewBlockChain(c.db, genesis, beacon.New(ethash.NewFaker()), bcConf)
	if err != nil {
		return fmt.Errorf("devchain: %w", err)
	}
	c.bc = bc
	poolConf := legacypool.DefaultConfig
	poolConf.NoLocals, poolConf.Journal = true, ""
	// A minimum tip of zero, in the pool and in the builder alike: a
	// transaction the pool takes is never left out of the blocks.
	pool, err := txpool.New(0, bc, []txpool.SubPool{legacypool.New(poolConf, bc)})
	if err != nil {
		bc.Stop()
		return fmt.Errorf("devchain: pool: %w", err)
	}
	c.pool = pool
	minerConf := miner.DefaultConfig
	minerConf.GasPrice = new(big.Int)
	c.miner = miner.New(minerBackend{bc, pool}, minerConf, bc.Engine())
	return nil
}

// minerBackend is what the block builder reads: the chain and the pool.
type minerBackend struct {
	bc   *core.BlockChain
	pool *txpool.TxPool
}

func (b minerBackend) BlockChain() *core.BlockChain { return b.bc }
func (b minerBackend) TxPool() *txpool.TxPool       { return b.pool }

// Client is an in-process client of the chain.
func (c *Chain) Client() *ethclient.Client { return c.client }

// Close stops the sealer, the RPC server and the chain. A second Close
// does nothing.
func (c *Chain) Close() error {
	c.closeOnce.Do(func() {
		c.stop()
		<-c.done
		c.closeAll()
	})
	return nil
}

func (c *Chain) closeAll() {
	if c.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c.http.Shutdown(ctx)
		cancel()
	}
	c.client.Close()
	c.rpc.Stop()
	c.pool.Close()
	c.bc.Stop()
	c.db.Close()
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
