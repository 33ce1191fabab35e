package meter_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/shopspring/decimal"
)

func TestParseAmount(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    meter.Amount
		wantErr bool
	}{
		{"0", 0, false},
		{"1", meter.Credit, false},
		{"12.5", 12*meter.Credit + meter.Credit/2, false},
		{"0.000000001", 1, false},
		{"-3.25", -3*meter.Credit - meter.Credit/4, false},
		{"1e-9", 1, false},
		{"9223372036.854775807", math.MaxInt64, false},
		{"9223372036.854775808", 0, true}, // one nano-credit too many
		{"0.0000000001", 0, true},         // finer than a nano-credit: refused, not rounded
		{"", 0, true},
		{"abc", 0, true},
		{"1,5", 0, true},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := meter.ParseAmount(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err=%v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("ParseAmount(%q)=%d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestAmount_RoundTrip(t *testing.T) {
	for _, s := range []string{"0", "1", "0.5", "0.000000001", "12.34", "-7.000000002", "9223372036.854775807"} {
		a, err := meter.ParseAmount(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.String(); got != s {
			t.Fatalf("String()=%q, want %q", got, s)
		}
		b, _ := json.Marshal(a)
		if got, want := string(b), `"`+s+`"`; got != want {
			t.Fatalf("JSON=%s, want %s (a string, never a number)", got, want)
		}
		var back meter.Amount
		if err := back.UnmarshalText([]byte(s)); err != nil || back != a {
			t.Fatalf("UnmarshalText(%q)=%d %v, want %d", s, back, err, a)
		}
	}
}

// String formats with integer arithmetic; decimal.Decimal is the reference.
func TestAmount_StringMatchesDecimal(t *testing.T) {
	values := []meter.Amount{0, 1, -1, 9, 10, 100, meter.Credit, -meter.Credit, meter.Credit + 1, 1_500_000_000,
		meter.Credit - 1, 120_000_000, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10_000 {
		v := meter.Amount(r.Int64() >> r.UintN(63))
		if r.IntN(2) == 0 {
			v = -v
		}
		values = append(values, v)
	}
	for _, v := range values {
		if got, want := v.String(), decimal.New(int64(v), -meter.AmountScale).String(); got != want {
			t.Fatalf("Amount(%d).String()=%q, want %q", int64(v), got, want)
		}
	}
}

// Cost rounds each token kind up to a whole nano-credit (the operator's
// favour), adds the per-request fee, and saturates instead of overflowing.
func TestPrice_Cost(t *testing.T) {
	p := func(in, out, fee string) meter.Price {
		mustAmt := func(s string) meter.Amount {
			a, err := meter.ParseAmount(s)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		return meter.Price{Input: mustAmt(in), Output: mustAmt(out), PerRequest: mustAmt(fee)}
	}
	for _, tt := range []struct {
		name  string
		price meter.Price
		usage meter.Usage
		want  meter.Amount
	}{
		{"exact", p("0.5", "1.5", "0"), meter.Usage{InputTokens: 19, OutputTokens: 16}, 9500 + 24000},
		{"per-token nano-credits", p("0.15", "0.6", "0"), meter.Usage{InputTokens: 1, OutputTokens: 1}, 150 + 600},
		// 0.0000015 per million is 0.0015 nano-credit a token: rounded up per kind.
		{"rounds up per kind", p("0.0000015", "0.0000015", "0"), meter.Usage{InputTokens: 1, OutputTokens: 1}, 1 + 1},
		{"rounds up a half", p("0.0000015", "0", "0"), meter.Usage{InputTokens: 1000}, 2}, // 1.5 → 2
		{"fee only", p("0", "0", "0.001"), meter.Usage{InputTokens: 1000}, 1_000_000},
		{"zero usage pays the fee", p("1", "1", "0.5"), meter.Usage{}, meter.Credit / 2},
		{"negative tokens count as none", p("1", "1", "0"), meter.Usage{InputTokens: -5}, 0},
		{"saturates", p("1000", "1000", "1"), meter.Usage{InputTokens: math.MaxInt64, OutputTokens: math.MaxInt64}, meter.MaxAmount},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.price.Cost(tt.usage); got != tt.want {
				t.Fatalf("Cost=%d, want %d", got, tt.want)
			}
		})
	}
}

func TestScopes(t *testing.T) {
	s, err := meter.ParseScopes(" chat, models ,")
	if err != nil {
		t.Fatal(err)
	}
	if !s.Has(meter.ScopeChat) || !s.Has(meter.ScopeModels) || s.Has(meter.ScopeKeys) || s.String() != "chat,models" {
		t.Fatalf("scopes=%s, want chat,models", s)
	}
	if _, err := meter.ParseScopes("chat,root"); err == nil {
		t.Fatal("unknown scope accepted")
	}
	if got := meter.AllScopes.String(); got != "chat,embeddings,images,audio,models,keys,admin" {
		t.Fatalf("all scopes=%s", got)
	}
}

func TestUSDCQuoteRoundsUpAndRoundTrips(t *testing.T) {
	cases := []struct {
		amount meter.Amount
		want   meter.USDC
	}{
		{0, 0},
		{-5, 0},
		{1, 1},     // one nano-credit still costs one atomic unit
		{999, 1},   // just under a unit
		{1_000, 1}, // exactly one unit
		{1_001, 2}, // just over
		{meter.Credit, 1_000_000},
		{meter.Credit/4 + 1, 250_001},
	}
	for _, c := range cases {
		got := c.amount.USDCQuote()
		if got != c.want {
			t.Errorf("Amount(%d).USDCQuote() = %d, want %d", c.amount, got, c.want)
		}
		if back := got.Amount(); back < c.amount {
			t.Errorf("quote %d of %d converts back to %d: less than the amount", got, c.amount, back)
		}
	}
	if got := meter.USDC(1_500_000).Amount(); got != meter.Credit+meter.Credit/2 {
		t.Errorf("1.5 meter.USDC = %d nano-credits, want %d", got, meter.Credit+meter.Credit/2)
	}
	if got := meter.USDC(1 << 62).Amount(); got != meter.MaxAmount {
		t.Errorf("huge meter.USDC did not saturate: %d", got)
	}
	if got := meter.USDC(1_230_000).String(); got != "1.23" {
		t.Errorf("String = %q", got)
	}
}
