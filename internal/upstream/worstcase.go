package upstream

import (
	"math"

	"github.com/paymeter/paymeter/internal/meter"
)

// Allowances in the worst-case input bound (docs/design.md §2). Chat formats
// wrap each message in a few tokens (role, separators) and prime the reply
// with a few more; OpenAI's own accounting counts 3–4 per message and 3 per
// reply. These leave room for formats that spend more.
const (
	perItemAllowance    = 8
	perRequestAllowance = 16
)

// WorstCase returns an upper bound on what the request can consume: its
// InputBound, and its OutputBound for each of its n choices. Embeddings
// (the flag, or a request read as APIEmbeddings) produce no output tokens.
// An image generation is its n images, priced per image, and its prompt
// (imagesWorstCase).
func (r RequestInfo) WorstCase(p meter.Price, embeddings bool) meter.Usage {
	if r.api == APIImages {
		return r.imagesWorstCase(p)
	}
	u := p.WorstInput(r.InputBound(p))
	if embeddings {
		return u
	}
	out := r.OutputBound(p)
	n := max(r.N, 1)
	if out > math.MaxInt64/n { // absurd, but must not wrap negative: saturate
		out, n = math.MaxInt64, 1
	}
	u.OutputTokens = out * n
	return u
}

// bytesPerToken is the estimate of delivered output used when a stream
// ends before the upstream reported its usage (the client left, or the
// upstream broke off): about four bytes of English text per token, the
// usual rule of thumb for GPT-style tokenizers.
const bytesPerToken = 4

// EstimateUsage is what a request is charged when the upstream never said
// what it consumed (docs/design.md §2): the upstream bills the
// whole prompt whatever was delivered, so the input is the prompt's bound
// (InputBound); the output is the text actually delivered, at four bytes a
// token, and at least one token, so that a request that streamed anything
// is never free. Input is priced at the dearest input rate (any of it may
// have been a cache write). It stays within WorstCase. An image
// generation whose answer does not say how many images it holds is
// charged for all it asked for: its WorstCase.
func EstimateUsage(r RequestInfo, p meter.Price, deliveredBytes int64) meter.Usage {
	if r.api == APIImages {
		return r.WorstCase(p, false)
	}
	u := p.WorstInput(r.InputBound(p))
	u.OutputTokens = max(1, (deliveredBytes+bytesPerToken-1)/bytesPerToken)
	return u
}
