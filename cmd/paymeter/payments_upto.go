package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/paymeter/paymeter/internal/chain"
	"github.com/paymeter/paymeter/internal/httpapi"
	"github.com/paymeter/paymeter/internal/x402"
)

// setupUpto builds the upto side of x402 (config_upto.go), on the
// networks that can take it: an rpc_url (payers' funds are read there),
// the Permit2 and upto proxy contracts at their canonical addresses on
// that chain, and a settler: the network's relayer (the same one, and so
// the same nonce sequence, as its exact payments'), or the facilitator
// with a known signer. Nil when upto is off or no network can take it.
func (m *Main) setupUpto(ctx context.Context, networks []*x402.Network, backends map[string]chain.Backend,
	relayers map[string]*chain.Relayer, fac *x402.Facilitator, verifier *x402.Verifier) (*x402.Upto, error) {
	cfg := m.Config
	uc := &cfg.X402.Upto
	if !uc.Enabled {
		return nil, nil
	}
	u := &x402.Upto{
		Verifier: verifier, Ledger: m.Ledger,
		Settlers: map[*x402.Network]x402.UptoSettler{}, Checkers: map[*x402.Network]x402.UptoChecker{},
		MaxUnsettledPerPayer: uc.MaxUnsettledPerPayer.USDCQuote(), MaxUnsettled: uc.MaxUnsettled.USDCQuote(),
		MinAmount: uc.MinAmount.USDCQuote(), MaxTimeoutSeconds: uc.MaxTimeoutSeconds, MinValidity: cfg.uptoMinValidity(),
		BatchInterval: time.Duration(uc.BatchInterval), BatchSize: uc.BatchSize, RetryInterval: time.Duration(uc.RetryInterval),
		SettleTimeout: time.Duration(cfg.X402.SettleTimeout), ClaimedTTL: time.Duration(cfg.Ledger.HoldTTL),
		InFlight: &m.inFlight, Logger: m.Logger,
	}
	var facAddr common.Address
	for i, nc := range cfg.X402.Networks {
		n := networks[i]
		b := backends[nc.RPCURL]
		if b == nil {
			m.Logger.Warn("x402 upto not offered: the network has no rpc_url", "network", n.Name)
			continue
		}
		if why := uptoContractsMissing(ctx, b); why != "" {
			m.Logger.Warn("x402 upto not offered: "+why, "network", n.Name)
			continue
		}
		checker := &chain.UptoChecker{Backend: b}
		u.Checkers[n] = checker
		switch nc.Settlement {
		case "chain":
			u.Settlers[n] = relayers[nc.RPCURL]
		case "facilitator":
			if facAddr == (common.Address{}) {
				facAddr = m.uptoFacilitatorAddress(ctx, fac)
			}
			if facAddr == (common.Address{}) {
				delete(u.Checkers, n)
				continue
			}
			f := &x402.UptoFacilitator{Client: fac, Addresses: map[*x402.Network]common.Address{n: facAddr}}
			u.Settlers[n] = &x402.ConfirmUptoOnChain{UptoSettler: f, Checker: checker}
		}
		addr, _ := u.Settlers[n].Facilitator(n)
		m.Logger.Info("x402 upto offered", "network", n.Name, "facilitator", addr.Hex())
	}
	if len(u.Settlers) == 0 {
		m.Logger.Warn("x402 upto is enabled but no network can take it")
		return nil, nil
	}
	m.Server.UptoMetrics = httpapi.NewUptoMetrics(m.Server.Metrics, m.Ledger.FindUptoStats)
	u.Observer = m.Server.UptoMetrics
	m.Upto = u
	return u, nil
}

// uptoContractsMissing says which canonical contract has no code on the
// chain, or "": a permit for a proxy that is not there cannot be settled.
func uptoContractsMissing(ctx context.Context, b chain.Backend) string {
	for name, a := range map[string]common.Address{"Permit2": x402.Permit2Address, "the x402 upto proxy": x402.UptoProxyAddress} {
		code, err := b.CodeAt(ctx, a, nil)
		if err != nil {
			return "cannot read " + name + "'s code: " + x402.Redact(err)
		}
		if len(code) == 0 {
			return name + " is not deployed at " + a.Hex()
		}
	}
	return ""
}

// uptoFacilitatorAddress is x402.upto.facilitator_address, or the one the
// facilitator's /supported announces for upto (its extra.facilitatorAddress).
func (m *Main) uptoFacilitatorAddress(ctx context.Context, fac *x402.Facilitator) common.Address {
	if a := m.Config.X402.Upto.FacilitatorAddress; a != "" {
		return common.HexToAddress(a)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(fac.URL, "/")+"/supported", nil)
	if err == nil {
		var resp *http.Response
		if resp, err = http.DefaultClient.Do(req); err == nil {
			defer resp.Body.Close()
			var s struct {
				Kinds []struct {
					Scheme string `json:"scheme"`
					Extra  struct {
						FacilitatorAddress string `json:"facilitatorAddress"`
					} `json:"extra"`
				} `json:"kinds"`
			}
			if err = json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 64<<10)).Decode(&s); err == nil {
				for _, k := range s.Kinds {
					if k.Scheme == x402.SchemeUpto && common.IsHexAddress(k.Extra.FacilitatorAddress) {
						return common.HexToAddress(k.Extra.FacilitatorAddress)
					}
				}
				err = fmt.Errorf("it lists no upto kind with a facilitatorAddress")
			}
		}
	}
	m.Logger.Warn("x402 upto not offered on facilitator-settled networks: set x402.upto.facilitator_address",
		"facilitator", x402.RedactURL(fac.URL), "err", x402.Redact(err))
	return common.Address{}
}
