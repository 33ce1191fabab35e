package upstream

import (
	"math"

	"github.com/paymeter/paymeter/internal/meter"
)

// Allowances in the worst-case input bound (DESIGN.md §2). Chat formats
// wrap each message in a few tokens (role, separators) and prime the reply
// with a few more; OpenAI's own accounting counts 3–4 per message and 3 per
// reply. These leave room for formats that spend more.
const (
	perItemAllowance    = 8
	perRequestAllowance = 16
)

// WorstCase returns an upper bound on what the request can consume:
// every prompt byte counted as a token (a byte-level BPE token never
// covers less than one byte) plus the allowances, and max_tokens — or the
// model's output cap when the request sets none — for each of its n
// choices. Embeddings produce no output tokens.
func (r RequestInfo) WorstCase(p meter.Price, embeddings bool) meter.Usage {
	u := meter.Usage{InputTokens: r.PromptBytes + perItemAllowance*r.Messages + perRequestAllowance}
	if embeddings {
		return u
	}
	out := r.MaxTokens
	if out == 0 {
		out = p.MaxOutputTokens
	}
	n := max(r.N, 1)
	if out > math.MaxInt64/n { // absurd, but must not wrap negative: saturate
		out, n = math.MaxInt64, 1
	}
	u.OutputTokens = out * n
	return u
}

// bytesPerToken is the estimate used when a stream ends before the
// upstream reported its usage (the client left, or the upstream broke off):
// about four bytes of English text per token, the usual rule of thumb for
// GPT-style tokenizers.
const bytesPerToken = 4

// EstimateUsage estimates what a request consumed when the upstream never
// said: its prompt and the text actually delivered, at four bytes a token,
// and at least one output token, so that a request that streamed anything
// is never free. It stays below WorstCase.
func EstimateUsage(r RequestInfo, deliveredBytes int64) meter.Usage {
	ceilDiv := func(a, b int64) int64 { return (a + b - 1) / b }
	return meter.Usage{
		InputTokens:  ceilDiv(r.PromptBytes, bytesPerToken) + 4*r.Messages,
		OutputTokens: max(1, ceilDiv(deliveredBytes, bytesPerToken)),
	}
}
