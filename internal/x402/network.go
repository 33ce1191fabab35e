package x402

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/common"
)

// Network is one chain and token paymeter accepts payments on.
type Network struct {
	// Name is the x402 v1 network name ("base-sepolia"). v1 clients know
	// only the public names, so it must be one of them (see chainIDs).
	Name string
	// ChainID is the chain id of the token's EIP-712 domain, which is the
	// chain id clients sign for. It is usually the chain's own id, but a
	// local test chain can carry a token whose domain says 84532 so that
	// v1 clients, which sign for the public network, can pay there.
	ChainID int64
	// Asset is the token contract (USDC or an EIP-3009 token like it).
	Asset common.Address
	// TokenName and TokenVersion are the token's EIP-712 domain name and
	// version ("USDC" and "2" on Base Sepolia, "USD Coin" and "2" on Base).
	TokenName, TokenVersion string
	// PayTo receives the payments.
	PayTo common.Address
}

// CAIP2 is the network's v2 identifier, "eip155:<chain id>".
func (n *Network) CAIP2() string { return "eip155:" + strconv.FormatInt(n.ChainID, 10) }

// chainIDs maps the x402 v1 network names of EVM chains to chain ids.
var chainIDs = map[string]int64{
	"base":           8453,
	"base-sepolia":   84532,
	"avalanche":      43114,
	"avalanche-fuji": 43113,
	"polygon":        137,
	"polygon-amoy":   80002,
	"sei":            1329,
	"sei-testnet":    1328,
	"iotex":          4689,
	"peaq":           3338,
}

// ChainIDOf returns the chain id of a v1 network name.
func ChainIDOf(name string) (int64, bool) {
	id, ok := chainIDs[name]
	return id, ok
}

// ParseCAIP2 returns the chain id of an "eip155:<id>" network.
func ParseCAIP2(s string) (int64, error) {
	rest, ok := strings.CutPrefix(s, "eip155:")
	if !ok {
		return 0, fmt.Errorf("network %q is not an eip155 network", s)
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || id <= 0 || rest != strconv.FormatInt(id, 10) {
		return 0, fmt.Errorf("network %q has no valid chain id", s)
	}
	return id, nil
}

// Validate checks a configured network.
func (n *Network) Validate() error {
	if n.Name == "" {
		return fmt.Errorf("name is required")
	}
	if id, known := chainIDs[n.Name]; known && n.ChainID == 0 {
		n.ChainID = id
	}
	if n.ChainID <= 0 {
		return fmt.Errorf("network %q: chain_id is required for a network x402 v1 does not name", n.Name)
	}
	if n.Asset == (common.Address{}) {
		return fmt.Errorf("network %q: asset is required", n.Name)
	}
	if n.PayTo == (common.Address{}) {
		return fmt.Errorf("network %q: pay_to is required", n.Name)
	}
	if n.TokenName == "" || n.TokenVersion == "" {
		return fmt.Errorf("network %q: token_name and token_version (the token's EIP-712 domain) are required", n.Name)
	}
	return nil
}

// networkHexes caches the checksummed form of the configured networks'
// addresses (assets, payTo): a checksum costs a Keccak-256, and every
// payment and 402 writes them. Only those addresses enter it, so it stays
// as small as the configuration.
var networkHexes sync.Map // common.Address → string

func networkHex(a common.Address) string {
	if h, ok := networkHexes.Load(a); ok {
		return h.(string)
	}
	h := a.Hex()
	networkHexes.Store(a, h)
	return h
}
