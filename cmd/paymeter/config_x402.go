package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// X402Config enables x402 payments: per request on the proxy routes and
// for top-ups. It is on when at least one network is configured.
type X402Config struct {
	// PublicURL is the base of the resource URLs in payment requirements;
	// empty uses each request's own scheme and host.
	PublicURL         string   `yaml:"public_url"`
	MaxTimeoutSeconds int      `yaml:"max_timeout_seconds"`
	SettleTimeout     Duration `yaml:"settle_timeout"`
	SweepInterval     Duration `yaml:"sweep_interval"`
	// TopupAmounts are the credit amounts sold at /api/v1/topup/{amount}.
	TopupAmounts []meter.Amount `yaml:"topup_amounts"`
	// RelayerKey is the hex private key that sends chain settlements and
	// pays their gas. A secret: prefer PAYMETER_X402_RELAYER_KEY.
	RelayerKey  string            `yaml:"relayer_key"`
	Facilitator FacilitatorConfig `yaml:"facilitator"`
	Networks    []NetworkConfig   `yaml:"networks"`
	// Upto is the upto scheme (config_upto.go).
	Upto UptoConfig `yaml:"upto"`
	SIWX SIWXConfig `yaml:"siwx"`
}

// FacilitatorConfig names the x402 facilitator of networks settled by one.
type FacilitatorConfig struct {
	URL     string   `yaml:"url"`
	Timeout Duration `yaml:"timeout"`
}

// NetworkConfig is one network paymeter accepts payments on.
type NetworkConfig struct {
	// Name is the x402 v1 network name, e.g. base-sepolia.
	Name string `yaml:"name"`
	// ChainID is the chain id of the token's EIP-712 domain; it defaults
	// to the named network's.
	ChainID      int64  `yaml:"chain_id"`
	Asset        string `yaml:"asset"`
	TokenName    string `yaml:"token_name"`
	TokenVersion string `yaml:"token_version"`
	PayTo        string `yaml:"pay_to"`
	// Settlement is "facilitator" or "chain".
	Settlement string `yaml:"settlement"`
	// RPCURL is a JSON-RPC endpoint of the chain: required for chain
	// settlement, and enables EIP-1271 smart-wallet signatures.
	RPCURL string `yaml:"rpc_url"`
}

func (c *Config) validateX402(bad func(path, format string, args ...any)) {
	x := &c.X402
	if len(x.Networks) == 0 {
		return
	}
	if x.PublicURL != "" {
		if u, err := url.Parse(x.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			bad("x402.public_url", "%q is not an http(s) origin such as https://api.example.com", x.PublicURL)
		}
	}
	c.validateSIWX(bad)
	if n := x.MaxTimeoutSeconds; n < 10 || n > 3600 {
		bad("x402.max_timeout_seconds", "%d is outside 10 … 3600", n)
	}
	if x.SettleTimeout <= 0 {
		bad("x402.settle_timeout", "must be positive")
	}
	if x.SweepInterval <= 0 {
		bad("x402.sweep_interval", "must be positive")
	}
	for _, a := range x.TopupAmounts {
		if a <= 0 || a%meter.USDC(1).Amount() != 0 {
			bad("x402.topup_amounts", "%s is not a positive amount in whole USDC atomic units", a)
		}
	}
	chainSettled := false
	for i, n := range x.Networks {
		path := fmt.Sprintf("x402.networks[%d]", i)
		if _, err := n.network(); err != nil {
			bad(path, "%v", err)
		}
		switch n.Settlement {
		case "facilitator":
			if x.Facilitator.URL == "" {
				bad("x402.facilitator.url", "required by %s, settled by a facilitator", path)
			}
		case "chain":
			chainSettled = true
			if n.RPCURL == "" {
				bad(path+".rpc_url", "required for chain settlement")
			}
		default:
			bad(path+".settlement", "%q is not one of facilitator, chain", n.Settlement)
		}
	}
	if x.Facilitator.URL != "" {
		if u, err := url.Parse(x.Facilitator.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("x402.facilitator.url", "%q is not an http(s) URL", x.Facilitator.URL)
		}
		if x.Facilitator.Timeout <= 0 {
			bad("x402.facilitator.timeout", "must be positive")
		}
	}
	if chainSettled {
		if _, err := crypto.HexToECDSA(strings.TrimPrefix(x.RelayerKey, "0x")); err != nil {
			bad("x402.relayer_key", "required for chain settlement: a hex secp256k1 private key (set PAYMETER_X402_RELAYER_KEY)")
		}
	}
}

// network converts a configured network.
func (n *NetworkConfig) network() (*x402.Network, error) {
	out := &x402.Network{Name: n.Name, ChainID: n.ChainID, TokenName: n.TokenName, TokenVersion: n.TokenVersion}
	if !common.IsHexAddress(n.Asset) {
		return nil, fmt.Errorf("asset %q is not a token address", n.Asset)
	}
	if !common.IsHexAddress(n.PayTo) {
		return nil, fmt.Errorf("pay_to %q is not an address", n.PayTo)
	}
	out.Asset, out.PayTo = common.HexToAddress(n.Asset), common.HexToAddress(n.PayTo)
	id, known := x402.ChainIDOf(n.Name)
	if !known {
		return nil, fmt.Errorf("name %q is not an x402 v1 EVM network (base, base-sepolia, avalanche, …)", n.Name)
	}
	if n.ChainID != 0 && n.ChainID != id {
		// v1 clients sign for the name's chain id, whatever the token says.
		return nil, fmt.Errorf("chain_id %d differs from %s's %d, for which x402 v1 clients sign; deploy the token with that chain id in its EIP-712 domain", n.ChainID, n.Name, id)
	}
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return out, nil
}
