package meter

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"

	"github.com/shopspring/decimal"
)

// This file is the one place that defines paymeter's unit of money, how
// decimals become amounts, and which way every conversion rounds.
//
// 1 credit = 1 USD = 1 USDC. The ledger stores integers of nano-credits
// (10⁻⁹ credit): fine enough that a price per million tokens divided down to
// one token is still exact for any price with up to three decimals, and wide
// enough (int64) for balances up to ~9.2 billion credits. Nothing in paymeter
// holds money as a float.

// Amount is a quantity of credits in the ledger's minor unit, the nano-credit.
type Amount int64

// AmountScale is the number of decimal places an Amount carries.
const AmountScale = 9

// Credit is one whole credit.
const Credit Amount = 1_000_000_000

// MaxAmount is the largest representable amount.
const MaxAmount Amount = math.MaxInt64

// ParseAmount parses a decimal string such as "12.5" exactly. It refuses
// anything finer than a nano-credit rather than round it: an operator who
// writes a price expects that price, not its neighbour.
func ParseAmount(s string) (Amount, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	return AmountFromDecimal(d)
}

// AmountFromDecimal converts d to an Amount exactly, or fails when d has
// more than nine decimal places or does not fit.
func AmountFromDecimal(d decimal.Decimal) (Amount, error) {
	scaled := d.Shift(AmountScale)
	if !scaled.Equal(scaled.Truncate(0)) {
		return 0, fmt.Errorf("%s has more than %d decimal places", d, AmountScale)
	}
	if !scaled.BigInt().IsInt64() {
		return 0, fmt.Errorf("%s is out of range", d)
	}
	return Amount(scaled.IntPart()), nil
}

// Decimal returns a as a decimal number of credits.
func (a Amount) Decimal() decimal.Decimal { return decimal.New(int64(a), -AmountScale) }

// String formats a as a decimal number of credits without trailing zeros
// ("1.5", "0.000000001", "-2"), as decimal.Decimal.String would, but with
// integer arithmetic: it runs for every metered response.
func (a Amount) String() string {
	var buf [24]byte // the longest, math.MinInt64, is "-9223372036.854775808"
	return string(a.append(buf[:0]))
}

func (a Amount) append(b []byte) []byte {
	u := uint64(a)
	if a < 0 {
		b = append(b, '-')
		u = -u // also right for math.MinInt64
	}
	b = strconv.AppendUint(b, u/uint64(Credit), 10)
	frac := u % uint64(Credit)
	if frac == 0 {
		return b
	}
	digits := AmountScale
	for frac%10 == 0 {
		frac /= 10
		digits--
	}
	b = append(b, '.')
	var d [AmountScale]byte
	for i := digits - 1; i >= 0; i-- {
		d[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(b, d[:digits]...)
}

// MarshalText implements encoding.TextMarshaler: amounts travel as decimal strings.
func (a Amount) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseAmount.
func (a *Amount) UnmarshalText(b []byte) error {
	v, err := ParseAmount(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// MarshalJSON writes a as a JSON string, never a JSON number.
func (a Amount) MarshalJSON() ([]byte, error) { return []byte(`"` + a.String() + `"`), nil }

// AddSat returns a+b, saturating at MaxAmount instead of wrapping.
func (a Amount) AddSat(b Amount) Amount {
	if b > 0 && a > MaxAmount-b {
		return MaxAmount
	}
	return a + b
}

// perMillion returns ceil(n × rate / 1,000,000) for a rate given per million
// units, saturating at MaxAmount. Rounding up is the operator's favour: a
// price of 0.15 per million tokens charges one token 1 nano-credit, not 0.
// The 128-bit product keeps it exact for every int64 input.
func perMillion(n int64, rate Amount) Amount {
	if n <= 0 || rate <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(n), uint64(rate))
	const million = 1_000_000
	if hi >= million { // quotient would not fit in 64 bits
		return MaxAmount
	}
	q, r := bits.Div64(hi, lo, million)
	if r != 0 {
		q++
	}
	if q > uint64(MaxAmount) {
		return MaxAmount
	}
	return Amount(q)
}

// USDC is a quantity of USDC in the token's atomic unit, 10⁻⁶ USDC, as x402
// payments and ERC-20 transfers count it.
type USDC int64

// nanoPerUSDCUnit is how many nano-credits one USDC atomic unit is worth
// (1 credit = 1 USDC; 10⁻⁶ / 10⁻⁹).
const nanoPerUSDCUnit = 1_000

// USDCQuote converts an amount to the USDC a client must pay for it,
// rounding up to the next atomic unit: a quote never covers less than the
// amount (0.0000001 credits costs 0.000001 USDC). Every x402 quote goes
// through here.
func (a Amount) USDCQuote() USDC {
	if a <= 0 {
		return 0
	}
	q := a / nanoPerUSDCUnit
	if a%nanoPerUSDCUnit != 0 {
		q++
	}
	return USDC(q)
}

// Amount converts USDC to credits, exactly (every atomic unit is a whole
// number of nano-credits), saturating at MaxAmount.
func (u USDC) Amount() Amount {
	if u <= 0 {
		return 0
	}
	if u > USDC(MaxAmount/nanoPerUSDCUnit) {
		return MaxAmount
	}
	return Amount(u) * nanoPerUSDCUnit
}

// String formats u in whole USDC as an exact decimal ("0.25").
func (u USDC) String() string { return decimal.New(int64(u), -6).String() }

// UptoSettleAmount is what an x402 upto payment settles for a metered
// cost: the cost rounded up to the next USDC atomic unit (as USDCQuote),
// raised to minAmount so that what is settled always pays for the gas of
// settling it, and never above the authorized max. A cost of 0 settles
// nothing: the authorization is released.
func UptoSettleAmount(cost Amount, minAmount, maxAmount USDC) USDC {
	if cost <= 0 {
		return 0
	}
	return min(maxAmount, max(minAmount, cost.USDCQuote()))
}
