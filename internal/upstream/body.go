package upstream

import (
	"math"
	"strconv"

	"github.com/paymeter/paymeter/internal/meter"
)

// span is where a value sits in a body; the zero span is none.
type span struct{ at, end int }

// bodyEdits are the places InspectRequest found that ForwardBody may
// rewrite.
type bodyEdits struct {
	streamOptions span // the whole value
	// max_tokens and max_completion_tokens when they hold 0 or null.
	maxTokens, maxCompletion span
	end                      int // after the last member's value
	members                  int
}

// OutputBound returns the most output tokens per choice the request may
// produce under p: its own limit, else the model's cap. Embeddings and
// image generations (priced per image) produce none.
func (r RequestInfo) OutputBound(p meter.Price) int64 {
	if r.api == APIEmbeddings || r.api == APIImages {
		return 0
	}
	if r.MaxTokens > 0 {
		return r.MaxTokens
	}
	return p.MaxOutputTokens
}

// ForwardBody returns the body to send upstream for a request InspectRequest
// read from body, so that the upstream's bound is the one held
// (docs/security.md): the output bound is written over a 0 or null
// max_tokens or max_completion_tokens, or added (max_completion_tokens for
// chat, max_tokens for completions) when the request has no limit; and a
// stream always asks for usage, its stream_options replaced by
// {"include_usage":true}, whatever the client sent. body is returned as
// it is when nothing changes, and is never modified.
//
// The raw JSON is spliced rather than decoded and re-encoded, so every
// other byte is kept as it was: member order, whitespace, number
// spellings and escapes.
func (r RequestInfo) ForwardBody(body []byte, p meter.Price) []byte {
	e := &r.edits
	bound := r.OutputBound(p)
	limited := bound <= 0 || r.MaxTokens > 0 && e.maxTokens.end == 0 && e.maxCompletion.end == 0
	if limited && !(r.Stream && r.api.streamOptions()) {
		return body // the common case, on the hot path: nothing to copy
	}
	sp := splice{edits: make([]edit, 0, 4)}
	if bound > 0 {
		v := strconv.AppendInt(make([]byte, 0, 20), bound, 10)
		for _, at := range [...]span{e.maxTokens, e.maxCompletion} {
			if at.end > 0 {
				sp.add(at.at, at.end, false, string(v))
			}
		}
		if r.MaxTokens == 0 && e.maxTokens.end == 0 && e.maxCompletion.end == 0 {
			sp.add(e.end, e.end, e.members > 0, `"`+r.api.outputLimitField()+`":`+string(v))
		}
	}
	if r.Stream && r.api.streamOptions() {
		const usage = `{"include_usage":true}`
		if at := e.streamOptions; at.end > 0 {
			sp.add(at.at, at.end, false, usage)
		} else {
			sp.add(e.end, e.end, e.members > 0, `"stream_options":`+usage)
		}
	}
	sp.sort()
	return sp.apply(body)
}

// InputBound returns the worst-case input tokens of the request under p:
// every prompt byte counted as a token (a byte-level BPE token never
// covers less than one byte), the allowances, and each non-text part at
// its kind's bound; never above the model's context window
// (p.MaxInputTokens) when it has one, which is the whole bound of a
// request whose input the upstream adds (HiddenInput). It saturates
// rather than overflow.
func (r RequestInfo) InputBound(p meter.Price) int64 {
	if r.HiddenInput {
		return p.MaxInputTokens
	}
	n := r.PromptBytes
	for _, t := range [...][2]int64{
		{perItemAllowance, r.Messages}, {1, perRequestAllowance},
		{p.MaxImageTokens, r.Images}, {p.MaxAudioTokens, r.Audio}, {p.MaxFileTokens, r.Files},
	} {
		if t[1] != 0 && t[0] > (math.MaxInt64-n)/t[1] {
			n = math.MaxInt64
			break
		}
		n += t[0] * t[1]
	}
	if p.MaxInputTokens > 0 {
		n = min(n, p.MaxInputTokens)
	}
	return n
}

// splice is a list of edits to a body.
type splice struct {
	edits []edit
}

// edit replaces body[at:end] with text, after a comma if comma is set.
type edit struct {
	at, end int
	comma   bool
	text    string
}

func (sp *splice) add(at, end int, comma bool, text string) {
	sp.edits = append(sp.edits, edit{at: at, end: end, comma: comma, text: text})
}

// sort orders the edits by position, keeping the order of those added at
// the same place.
func (sp *splice) sort() {
	for i := 1; i < len(sp.edits); i++ {
		for j := i; j > 0 && sp.edits[j].at < sp.edits[j-1].at; j-- {
			sp.edits[j], sp.edits[j-1] = sp.edits[j-1], sp.edits[j]
		}
	}
}

func (sp *splice) apply(body []byte) []byte {
	n := len(body)
	for _, e := range sp.edits {
		n += len(e.text) + 1 - (e.end - e.at)
	}
	out := make([]byte, 0, n)
	last := 0
	for _, e := range sp.edits {
		out = append(out, body[last:e.at]...)
		if e.comma {
			out = append(out, ',')
		}
		out = append(out, e.text...)
		last = e.end
	}
	return append(out, body[last:]...)
}

// outputLimitField is the request field that bounds an API's output: the
// one ForwardBody adds when a request names no limit.
func (a API) outputLimitField() string {
	switch a {
	case APICompletions, APIMessages:
		return "max_tokens"
	case APIResponses:
		return "max_output_tokens"
	}
	return "max_completion_tokens"
}

// streamOptions reports whether the API's streams report usage only when
// asked to with stream_options (the Chat and Completions APIs); the others
// always report it.
func (a API) streamOptions() bool { return a == APIChat || a == APICompletions }
