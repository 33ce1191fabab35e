package meter

import (
	"math"
	"testing"
)

func mustAmount(t *testing.T, s string) Amount {
	t.Helper()
	a, err := ParseAmount(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Each part is billed at its own rate, rounded up on its own.
func TestPrice_CostOfEveryPart(t *testing.T) {
	p := Price{Input: mustAmount(t, "3"), CachedInput: mustAmount(t, "0.3"), CacheWrite: mustAmount(t, "3.75"),
		CacheWrite1h: mustAmount(t, "6"), Output: mustAmount(t, "15"), PerImage: mustAmount(t, "0.04"),
		PerRequest: mustAmount(t, "0.001")}
	u := Usage{InputTokens: 1000, CachedInputTokens: 20_000, CacheWriteTokens: 3000, CacheWrite1hTokens: 7,
		OutputTokens: 500, ReasoningTokens: 400, Images: 2}
	// 1000×3 + 20000×0.3 + 3000×3.75 + 7×6 (42e-6, exact) + 500×15, per million;
	// reasoning is inside output; two images; the fee.
	want := mustAmount(t, "0.003").AddSat(mustAmount(t, "0.006")).AddSat(mustAmount(t, "0.01125")).
		AddSat(mustAmount(t, "0.000042")).AddSat(mustAmount(t, "0.0075")).AddSat(mustAmount(t, "0.08")).
		AddSat(mustAmount(t, "0.001"))
	if got := p.Cost(u); got != want {
		t.Fatalf("Cost = %s, want %s", got, want)
	}
	// One cached token at 0.0003 per million is 0.3 nano-credits: rounded up to 1.
	if got := (Price{CachedInput: mustAmount(t, "0.0003")}).Cost(Usage{CachedInputTokens: 1}); got != 1 {
		t.Fatalf("one cached token costs %d nano-credits, want 1", got)
	}
	// Absurd counts saturate instead of wrapping.
	if got := p.Cost(Usage{Images: math.MaxInt64, OutputTokens: math.MaxInt64}); got != MaxAmount {
		t.Fatalf("absurd usage costs %s, want MaxAmount", got)
	}
}

func TestPrice_WorstInputTakesTheDearestRate(t *testing.T) {
	const n = 1_000_000 // so that a rate per million is the cost
	for _, p := range []Price{
		{Input: 2, CachedInput: 1, CacheWrite: 2, CacheWrite1h: 2},
		{Input: 3, CachedInput: 1, CacheWrite: 4, CacheWrite1h: 4},
		{Input: 3, CachedInput: 1, CacheWrite: 4, CacheWrite1h: 6},
		{Input: 1, CachedInput: 5},
	} {
		u := p.WorstInput(n)
		if got, want := p.Cost(u), max(p.Input, p.CachedInput, p.CacheWrite, p.CacheWrite1h); got != want || u.AllInputTokens() != n {
			t.Errorf("%+v: WorstInput = %+v costing %d, want all %d tokens at %d", p, u, got, n, want)
		}
	}
}

// The affordable output is the largest that fits: one token more does not.
func TestPrice_AffordableOutput(t *testing.T) {
	p := Price{Input: mustAmount(t, "0.5"), Output: mustAmount(t, "1.5"), PerRequest: 7, MaxOutputTokens: 4096}
	in := Usage{InputTokens: 1234}
	for _, budget := range []Amount{0, 600, 624, 630, 1_000, 12_345, 1_000_000_000} {
		for _, n := range []int64{1, 3} {
			got := p.AffordableOutput(in, n, budget)
			at := func(t int64) Amount { u := in; u.OutputTokens = t * n; return p.Cost(u) }
			if got > 0 && at(got) > budget {
				t.Errorf("budget %d n %d: %d tokens cost %d, over budget", budget, n, got, at(got))
			}
			if at(0) <= budget && at(got+1) <= budget {
				t.Errorf("budget %d n %d: %d tokens, but %d fit too", budget, n, got, got+1)
			}
		}
	}
	if got := p.AffordableOutput(in, 1, 10); got != 0 {
		t.Fatalf("a budget below the input's cost affords %d tokens, want 0", got)
	}
}
