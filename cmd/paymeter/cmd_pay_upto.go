package main

import (
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/payclient"
)

// assetList is a repeatable --asset ADDR.
type assetList []common.Address

func (a *assetList) String() string {
	s := make([]string, len(*a))
	for i, x := range *a {
		s[i] = x.Hex()
	}
	return strings.Join(s, ", ")
}

func (a *assetList) Set(v string) error {
	if len(v) != 42 || !strings.HasPrefix(v, "0x") || !common.IsHexAddress(v) {
		return fmt.Errorf("%q is not an address (0x and 40 hex digits)", v)
	}
	*a = append(*a, common.HexToAddress(v))
	return nil
}

// checkScheme validates --scheme against --x402 and sets both on c.
func (f *payFlags) checkScheme(c *payclient.Client) error {
	switch f.scheme {
	case "", payclient.SchemeAuto, payclient.SchemeExact, payclient.SchemeUpto:
	default:
		return usagef("pay: --scheme must be exact, upto or auto")
	}
	if f.scheme == payclient.SchemeUpto && f.x402 == 1 {
		return usagef("pay: --scheme upto is x402 v2 only; it has no v1 form")
	}
	c.Scheme, c.Assets = f.scheme, f.assets
	return nil
}

// paidUptoLine is the paid: line of an upto payment: what was signed is
// a maximum; the charge is known once the request is metered.
func paidUptoLine(r *payclient.Requirement) string {
	return fmt.Sprintf("paid: up to %d USDC units (%s credits) on %s via x402 v%d upto to %s (asset %s)",
		r.Units, r.Units, r.Network, r.Version, r.PayTo.Hex(), r.Asset.Hex())
}

// chargedLine says what an upto payment is charged: the receipt's amount,
// else X-Paymeter-Cost (a stream's trailer), against the maximum signed.
func chargedLine(res *payclient.Result, cost meter.Amount, hasCost bool) string {
	units, ok := res.Charged, res.HasCharged
	if !ok && hasCost {
		units, ok = cost.USDCQuote(), true
	}
	max := res.Paid.Units
	switch {
	case !ok:
		return fmt.Sprintf("charged: not told (no receipt amount, no X-Paymeter-Cost); at most the %d USDC units signed for", max)
	case units > max:
		return fmt.Sprintf("charged: the server claims %d USDC units, more than the %d signed for; no more than %d can be settled", units, max, max)
	}
	return fmt.Sprintf("charged: %d USDC units (%s credits) of the %d signed for, settled on chain after the answer", units, units, max)
}

// uptoReceiptLine is the receipt: line of an upto payment, whose
// transaction comes after the answer.
func uptoReceiptLine(res *payclient.Result) string {
	if rc := res.Receipt; rc != nil && rc.Success && rc.Transaction == "" {
		return fmt.Sprintf("receipt: accepted, to be settled on %s payer %s", rc.Network, rc.Payer)
	}
	return receiptLine(res)
}

// siwxLine is the line of a request signed in with sign-in-with-x.
func siwxLine(s *payclient.SignedIn) string {
	return fmt.Sprintf("sign-in-with-x: %s on %s for %s; the wallet's balance pays, nothing was paid", s.Address.Hex(), s.ChainID, s.Domain)
}

// permit2Line is pay balance's line of the allowance upto pays through.
func permit2Line(a *big.Int) string {
	n := a.String() + " units"
	if a.Cmp(math.MaxBig256) == 0 {
		n = "unlimited"
	}
	return "permit2: allowance " + n + " (what upto payments may spend; approve Permit2 on the token to raise it)"
}

// printHint writes what the payer can do about a refusal, if anything.
func printHint(stderr io.Writer, err error) {
	var rej *payclient.RejectedError
	if errors.As(err, &rej) {
		if h := rej.Hint(); h != "" {
			fmt.Fprintln(stderr, "hint: "+h)
		}
	}
}
