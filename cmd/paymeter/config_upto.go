package main

import (
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/paymeter/paymeter/internal/meter"
)

// UptoConfig turns on the x402 upto scheme on the proxy routes
// (docs/design.md §5): a request is paid by a Permit2 authorization of up
// to its worst case, served at once, and charged its metered cost, which
// is settled after the response, in the background. What is served and
// not yet settled is credit paymeter extends; these caps bound it.
type UptoConfig struct {
	// Enabled offers upto beside exact in every request's 402, on the
	// networks that can take it: with an rpc_url (payers' funds are read
	// there) and either chain settlement (the relayer settles) or a
	// facilitator whose address is known.
	Enabled bool `yaml:"enabled"`
	// MaxUnsettledPerPayer caps what one payer may have served and not yet
	// settled (the maxima of its requests running, plus the amounts of
	// those metered): what a payer who revokes its allowance can take.
	MaxUnsettledPerPayer meter.Amount `yaml:"max_unsettled_per_payer"`
	// MaxUnsettled is the same cap across all payers, counting failed
	// settlements until they settle: what all payers together, fresh
	// addresses included, can be served and never pay.
	MaxUnsettled meter.Amount `yaml:"max_unsettled"`
	// MinAmount is the least settled for a request that cost anything,
	// so that the gas of settling it never exceeds what it settles. A
	// cost is settled rounded up to the next USDC atomic unit, then
	// raised to this, never above the authorized maximum.
	MinAmount meter.Amount `yaml:"min_amount"`
	// MaxTimeoutSeconds is the upto requirements' maxTimeoutSeconds: how
	// long clients make their permits valid. It must cover the longest
	// request plus the time to settle it.
	MaxTimeoutSeconds int `yaml:"max_timeout_seconds"`
	// BatchInterval is how often due authorizations are settled; BatchSize
	// how many per round at most; RetryInterval how often a failed one is
	// tried again, until its permit's deadline.
	BatchInterval Duration `yaml:"batch_interval"`
	BatchSize     int      `yaml:"batch_size"`
	RetryInterval Duration `yaml:"retry_interval"`
	// FacilitatorAddress is the signer of the x402 facilitator that
	// settles the facilitator-settled networks' upto payments (the
	// witness must name it); empty: its /supported is asked at start.
	FacilitatorAddress string `yaml:"facilitator_address"`
}

// uptoMinValidity is the least time an upto permit must have left when it
// arrives: the longest request, then two settle attempts and two rounds.
func (c *Config) uptoMinValidity() time.Duration {
	u := &c.X402.Upto
	return time.Duration(c.Limits.MaxRequestDuration) + 2*time.Duration(c.X402.SettleTimeout) + 2*time.Duration(u.BatchInterval)
}

func (c *Config) validateUpto(bad func(path, format string, args ...any)) {
	u := &c.X402.Upto
	if !u.Enabled {
		return
	}
	if len(c.X402.Networks) == 0 {
		bad("x402.upto.enabled", "needs x402 networks")
		return
	}
	unit := meter.USDC(1).Amount()
	for path, a := range map[string]meter.Amount{"x402.upto.max_unsettled_per_payer": u.MaxUnsettledPerPayer,
		"x402.upto.max_unsettled": u.MaxUnsettled, "x402.upto.min_amount": u.MinAmount} {
		if a <= 0 || a%unit != 0 {
			bad(path, "%s is not a positive amount in whole USDC atomic units", a)
		}
	}
	if u.MaxUnsettled < u.MaxUnsettledPerPayer {
		bad("x402.upto.max_unsettled", "%s is below max_unsettled_per_payer (%s)", u.MaxUnsettled, u.MaxUnsettledPerPayer)
	}
	if u.MinAmount > u.MaxUnsettledPerPayer {
		bad("x402.upto.min_amount", "%s is above max_unsettled_per_payer (%s): no request could be paid", u.MinAmount, u.MaxUnsettledPerPayer)
	}
	if u.BatchInterval <= 0 || u.RetryInterval <= 0 {
		bad("x402.upto.batch_interval", "batch_interval and retry_interval must be positive")
	}
	if u.BatchSize < 1 || u.BatchSize > 1000 {
		bad("x402.upto.batch_size", "%d is outside 1 … 1000", u.BatchSize)
	}
	if need := c.uptoMinValidity() + time.Minute; time.Duration(u.MaxTimeoutSeconds)*time.Second < need || u.MaxTimeoutSeconds > 24*3600 {
		bad("x402.upto.max_timeout_seconds", "%d must cover limits.max_request_duration, two settle_timeouts, two batch_intervals and a minute (%d s), and stay within a day",
			u.MaxTimeoutSeconds, int(need/time.Second))
	}
	if u.FacilitatorAddress != "" && !common.IsHexAddress(u.FacilitatorAddress) {
		bad("x402.upto.facilitator_address", "%q is not an address", u.FacilitatorAddress)
	}
	rpc := false
	for _, n := range c.X402.Networks {
		rpc = rpc || n.RPCURL != ""
	}
	if !rpc {
		bad("x402.upto.enabled", "needs a network with an rpc_url: payers' balances and Permit2 allowances are read there")
	}
}
