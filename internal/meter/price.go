package meter

// Usage is what one inference request consumed, in tokens.
type Usage struct {
	InputTokens  int64
	OutputTokens int64
}

// Price is what one model costs.
type Price struct {
	// Input and Output are the prices of one million input and output tokens.
	Input  Amount
	Output Amount
	// PerRequest is a flat fee added to every request, whatever its size.
	PerRequest Amount
	// MaxOutputTokens bounds the output of a request that names no
	// max_tokens, so that its worst case is still finite.
	MaxOutputTokens int64
	// MaxImageTokens, MaxAudioTokens and MaxFileTokens bound the input
	// tokens of one image, audio or file content part; 0 means the kind is
	// not priced, and a request carrying one is refused.
	MaxImageTokens int64
	MaxAudioTokens int64
	MaxFileTokens  int64
}

// Cost returns what u costs at price p: each token kind rounded up to a
// whole nano-credit, plus the per-request fee. It saturates instead of
// overflowing, so an absurd request simply cannot be afforded.
func (p Price) Cost(u Usage) Amount {
	return perMillion(u.InputTokens, p.Input).
		AddSat(perMillion(u.OutputTokens, p.Output)).
		AddSat(p.PerRequest)
}
