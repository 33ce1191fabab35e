package meter

import "math/bits"

// Usage is what one inference request consumed. The token counts are
// disjoint parts, each billed at its own rate (docs/design.md §2): an
// upstream's totals are split into them when its usage is read, so that
// no token is billed twice or at the wrong rate.
type Usage struct {
	// InputTokens are the input tokens billed at the full input rate:
	// neither read from nor written to a prompt cache.
	InputTokens int64
	// CachedInputTokens were read from the upstream's prompt cache
	// (OpenAI's cached_tokens, Anthropic's cache_read_input_tokens).
	CachedInputTokens int64
	// CacheWriteTokens and CacheWrite1hTokens were written to the prompt
	// cache, for five minutes and for an hour (Anthropic's
	// cache_creation_input_tokens and its ephemeral_1h part).
	CacheWriteTokens   int64
	CacheWrite1hTokens int64
	// OutputTokens are all generated tokens, reasoning included.
	OutputTokens int64
	// ReasoningTokens is the part of OutputTokens the model spent
	// reasoning: recorded, not billed apart.
	ReasoningTokens int64
	// Images is how many images were generated, at Price.PerImage each.
	Images int64
}

// AllInputTokens returns every input token, cached and cache writes
// included.
func (u Usage) AllInputTokens() int64 {
	return addSat(addSat(u.InputTokens, u.CachedInputTokens), addSat(u.CacheWriteTokens, u.CacheWrite1hTokens))
}

// Price is what one model costs.
type Price struct {
	// Input and Output are the prices of one million input and output tokens.
	Input  Amount
	Output Amount
	// CachedInput, CacheWrite and CacheWrite1h are the prices of one
	// million input tokens read from the prompt cache and written to it
	// (for five minutes, for an hour). The configuration fills them in
	// when a model names none.
	CachedInput  Amount
	CacheWrite   Amount
	CacheWrite1h Amount
	// PerRequest is a flat fee added to every request, whatever its size.
	PerRequest Amount
	// PerImage is the price of one generated image, for the size and
	// quality of the request (set per request from the model's image
	// table).
	PerImage Amount
	// Images prices one generated image by "SIZE/QUALITY", "SIZE" or
	// "default"; PerImage is resolved from it per request.
	Images map[string]Amount
	// MaxOutputTokens bounds the output of a request that names no
	// max_tokens, so that its worst case is still finite.
	MaxOutputTokens int64
	// MaxInputTokens is the model's context window for input: the input
	// bound is never above it; 0 means unknown.
	MaxInputTokens int64
	// MaxImageTokens, MaxAudioTokens and MaxFileTokens bound the input
	// tokens of one image, audio or file content part; 0 means the kind is
	// not priced, and a request carrying one is refused.
	MaxImageTokens int64
	MaxAudioTokens int64
	MaxFileTokens  int64
}

// Cost returns what u costs at price p: each part rounded up to a whole
// nano-credit, plus the per-request fee. It saturates instead of
// overflowing, so an absurd request simply cannot be afforded.
func (p Price) Cost(u Usage) Amount {
	return perMillion(u.InputTokens, p.Input).
		AddSat(perMillion(u.CachedInputTokens, p.CachedInput)).
		AddSat(perMillion(u.CacheWriteTokens, p.CacheWrite)).
		AddSat(perMillion(u.CacheWrite1hTokens, p.CacheWrite1h)).
		AddSat(perMillion(u.OutputTokens, p.Output)).
		AddSat(mulSat(u.Images, p.PerImage)).
		AddSat(p.PerRequest)
}

// WorstInput returns n input tokens as the usage that costs most: all of
// them at the dearest of the input rates (a prompt may turn out to be all
// cache writes), so that a hold priced from it is a true bound.
func (p Price) WorstInput(n int64) Usage {
	switch max(p.Input, p.CachedInput, p.CacheWrite, p.CacheWrite1h) {
	case p.Input:
		return Usage{InputTokens: n}
	case p.CacheWrite1h:
		return Usage{CacheWrite1hTokens: n}
	case p.CacheWrite:
		return Usage{CacheWriteTokens: n}
	}
	return Usage{CachedInputTokens: n}
}

// AffordableOutput returns the most output tokens per choice that, with
// input (the request's worst-case input) and n choices, cost no more than
// budget; 0 when not even the input fits. It is what a client refused for
// its worst case may ask for instead (details.affordable_max_tokens).
func (p Price) AffordableOutput(input Usage, n int64, budget Amount) int64 {
	input.OutputTokens, input.Images = 0, 0
	rest := budget - p.Cost(input)
	if rest < 0 || n <= 0 {
		return 0
	}
	if p.Output <= 0 {
		return p.MaxOutputTokens
	}
	// Output costs ceil(t × rate / 10⁶), which is at most rest exactly
	// when t × rate ≤ rest × 10⁶.
	hi, lo := bits.Mul64(uint64(rest), 1_000_000)
	if hi >= uint64(p.Output) {
		return 1<<63 - 1
	}
	t, _ := bits.Div64(hi, lo, uint64(p.Output))
	return int64(min(t, 1<<63-1)) / n
}

func addSat(a, b int64) int64 {
	if s := a + b; s >= a == (b >= 0) {
		return s
	}
	if b > 0 {
		return 1<<63 - 1
	}
	return -1 << 63
}

func mulSat(n int64, a Amount) Amount {
	if n <= 0 || a <= 0 {
		return 0
	}
	if int64(a) > int64(MaxAmount)/n {
		return MaxAmount
	}
	return Amount(n * int64(a))
}
