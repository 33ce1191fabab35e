package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/paymeter/paymeter/internal/chain"
	"github.com/paymeter/paymeter/internal/httpapi"
	"github.com/paymeter/paymeter/internal/x402"
)

// dialChain connects to a JSON-RPC endpoint. Over HTTP, its connections
// are kept alive for as many calls as run at once (the upto settler sends
// a round's settlements in parallel): net/http keeps 2 idle per host by
// default, and every call beyond them would dial a new connection.
func dialChain(ctx context.Context, url string) (chain.Backend, error) {
	c, err := rpc.DialOptions(ctx, url, rpc.WithHTTPClient(&http.Client{Transport: rpcTransport}))
	if err != nil {
		return nil, err
	}
	return ethclient.NewClient(c), nil
}

// rpcTransport is the HTTP transport of chain endpoints.
var rpcTransport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 256, 256
	return t
}()

// setupX402 builds the x402 side of the server from the config: the
// networks, their settlers (one relayer per chain endpoint, so that one
// nonce sequence serves all its networks; one facilitator client), and the
// EIP-1271 checker for chains paymeter can reach. Nil when x402 is off.
func (m *Main) setupX402(ctx context.Context) (*httpapi.X402, error) {
	cfg := &m.Config.X402
	if len(cfg.Networks) == 0 {
		return nil, nil
	}
	dial := m.DialChain
	if dial == nil {
		dial = dialChain
	}
	backends := map[string]chain.Backend{}
	backend := func(url string) (chain.Backend, error) {
		if b, ok := backends[url]; ok {
			return b, nil
		}
		b, err := dial(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("x402: connect to %s: %s", x402.RedactURL(url), x402.Redact(err))
		}
		backends[url] = b
		if c, ok := b.(interface{ Close() }); ok {
			m.closers = append(m.closers, c.Close)
		}
		return b, nil
	}
	var (
		networks  []*x402.Network
		settlers  = map[*x402.Network]x402.Settler{}
		checkers  = map[*x402.Network]x402.AuthorizationChecker{}
		relayers  = map[string]*chain.Relayer{}
		contracts = &chain.Contracts{Backends: map[int64]chain.Backend{}}
		fac       *x402.Facilitator
	)
	for _, nc := range cfg.Networks {
		n, err := nc.network()
		if err != nil {
			return nil, err // Validate has refused it already
		}
		networks = append(networks, n)
		var b chain.Backend
		if nc.RPCURL != "" {
			if b, err = backend(nc.RPCURL); err != nil {
				return nil, err
			}
			checkers[n] = &chain.Checker{Backend: b}
			// EIP-1271 checks are asked by the chain id a signature names:
			// the token domain's for x402, the chain's own for SIWE.
			contracts.Backends[n.ChainID] = b
			if id, err := b.ChainID(ctx); err == nil {
				contracts.Backends[id.Int64()] = b
			}
		}
		switch nc.Settlement {
		case "facilitator":
			if fac == nil {
				fac = &x402.Facilitator{URL: cfg.Facilitator.URL, Timeout: time.Duration(cfg.Facilitator.Timeout)}
			}
			settlers[n] = fac
			if c, ok := checkers[n]; ok {
				// A facilitator's "settled" is confirmed on chain where
				// paymeter can read it: only this payment's own transfer
				// to payTo counts (docs/security.md, C1).
				settlers[n] = &x402.ConfirmOnChain{Settler: fac, Checker: c}
			}
		case "chain":
			r, ok := relayers[nc.RPCURL]
			if !ok {
				key, err := crypto.HexToECDSA(strings.TrimPrefix(cfg.RelayerKey, "0x"))
				if err != nil {
					return nil, fmt.Errorf("x402.relayer_key: not a private key")
				}
				r = &chain.Relayer{Backend: b, Key: key}
				relayers[nc.RPCURL] = r
				m.Logger.Info("x402 chain settlement", "network", n.Name, "relayer", r.Address().Hex())
			}
			settlers[n] = r
		}
	}
	verifier := &x402.Verifier{Networks: networks, Skew: 5 * time.Second}
	if len(contracts.Backends) > 0 {
		verifier.Contracts = contracts
		m.contracts = contracts
	}
	if err := verifier.Init(); err != nil {
		return nil, err
	}
	m.Payments = &x402.Processor{Verifier: verifier, Ledger: m.Ledger, Settlers: settlers, Checkers: checkers,
		SettleTimeout: time.Duration(cfg.SettleTimeout), ApplyAfter: time.Duration(m.Config.Ledger.HoldTTL), Logger: m.Logger}
	m.Payments.InFlight = &m.inFlight
	upto, err := m.setupUpto(ctx, networks, backends, relayers, fac, verifier) // payments_upto.go
	if err != nil {
		return nil, err
	}
	return &httpapi.X402{Processor: m.Payments, Networks: networks, MaxTimeoutSeconds: cfg.MaxTimeoutSeconds,
		PublicURL: cfg.PublicURL, TopupAmounts: cfg.TopupAmounts, PendingRetryAfter: time.Duration(cfg.SweepInterval), Upto: upto}, nil
}
