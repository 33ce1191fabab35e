package payclient

import (
	"fmt"
	"strings"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// Schemes Client.Scheme takes; "" is SchemeAuto.
const (
	// SchemeAuto pays upto when a v2 402 offers it payably (within Max,
	// in USDC) for no more than exact on the same chain, else exact: upto
	// charges the metered cost, exact the worst case (the rest is change
	// on the wallet's balance). An upto maximum above exact's price has
	// been raised to the server's least settlement (its gas): for that
	// request exact costs less.
	SchemeAuto  = "auto"
	SchemeExact = x402.SchemeExact
	SchemeUpto  = x402.SchemeUpto
)

// schemes are the schemes to look for, in order of preference.
func (c *Client) schemes() []string {
	switch c.Scheme {
	case SchemeExact:
		return []string{SchemeExact}
	case SchemeUpto:
		return []string{SchemeUpto}
	}
	if c.Version == 1 {
		return []string{SchemeExact} // upto has no v1 form
	}
	return []string{SchemeUpto, SchemeExact}
}

// pick chooses what to pay of o: the first requirement of the preferred
// scheme and the wanted version (0: any, v2 first) within Max. Above Max,
// it names the cheapest; with none it can pay, it says why.
func (c *Client) pick(o *offer) (*Requirement, error) {
	maxUnits := meter.USDC(c.max() / 1000) // credits in atomic units, rounded down
	var cheapest *Requirement
	why := o.refused
	exact := c.exactPrices(o)
	for _, scheme := range c.schemes() {
		for _, r := range o.reqs {
			if r.Scheme != scheme || (c.Version != 0 && r.Version != c.Version) {
				continue
			}
			if r.Scheme == SchemeUpto {
				if err := c.uptoAsset(r); err != nil {
					why = append(why, err.Error())
					continue
				}
				if e, ok := exact[r.ChainID]; ok && e < r.Units {
					why = append(why, fmt.Sprintf("upto's maximum %d on %s is above exact's price %d: exact costs less", r.Units, r.Network, e))
					continue
				}
			}
			if r.Units <= maxUnits {
				return r, nil
			}
			if cheapest == nil || r.Units < cheapest.Units {
				cheapest = r
			}
		}
	}
	if cheapest != nil {
		return nil, &OverMaxError{Requirement: cheapest, Max: c.max()}
	}
	reason := strings.Join(why, "; ")
	if c.Version != 0 || (c.Scheme != "" && c.Scheme != SchemeAuto) || reason == "" {
		reason = strings.TrimSuffix("it offers no payable "+c.wanted()+" requirement; "+reason, "; ")
	}
	return nil, &MalformedError{Reason: reason}
}

// exactPrices are, per chain, the lowest exact price o asks that auto
// could pay (v2 or either version, within Max): what an upto offer must
// not exceed to be preferred. Empty unless Scheme is auto.
func (c *Client) exactPrices(o *offer) map[int64]meter.USDC {
	if c.Scheme != "" && c.Scheme != SchemeAuto {
		return nil
	}
	maxUnits := meter.USDC(c.max() / 1000)
	prices := map[int64]meter.USDC{}
	for _, r := range o.reqs {
		if r.Scheme != SchemeExact || (c.Version != 0 && r.Version != c.Version) || r.Units > maxUnits {
			continue
		}
		if p, ok := prices[r.ChainID]; !ok || r.Units < p {
			prices[r.ChainID] = r.Units
		}
	}
	return prices
}

// wanted names the requirements looked for: "x402", "x402 v1", "x402 v2 upto".
func (c *Client) wanted() string {
	s := "x402"
	if c.Version != 0 {
		s += fmt.Sprintf(" v%d", c.Version)
	}
	if c.Scheme == SchemeExact || c.Scheme == SchemeUpto {
		s += " " + c.Scheme
	}
	return s
}
