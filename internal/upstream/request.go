package upstream

import (
	"math"
	"unicode/utf8"

	"github.com/paymeter/paymeter/internal/meter"
)

// RequestInfo is what pricing needs from an OpenAI-style request body.
type RequestInfo struct {
	Model        string
	Stream       bool
	MaxTokens    int64 // max_completion_tokens, else max_tokens; 0 when absent
	N            int64 // choices requested ("n", or "best_of" when larger); 1 when absent
	PromptBytes  int64 // UTF-8 byte length of all prompt text
	Messages     int64 // number of messages / prompt items / input items
	IncludeUsage bool  // stream_options.include_usage is already true
}

// maxChoices bounds "n" and "best_of", as the OpenAI API does for "n".
const maxChoices = 128

// Fields InspectRequest reads. Each may appear only once: JSON decoders
// disagree about which duplicate wins, and the price must come from the
// value the upstream acts on.
const (
	fModel uint16 = 1 << iota
	fStream
	fStreamOptions
	fMaxTokens
	fMaxCompletionTokens
	fN
	fBestOf
	fMessages
	fPrompt
	fInput
	fSuffix
	fTools
	fFunctions
	fResponseFormat
)

func requestField(name []byte) uint16 {
	switch string(name) {
	case "model":
		return fModel
	case "stream":
		return fStream
	case "stream_options":
		return fStreamOptions
	case "max_tokens":
		return fMaxTokens
	case "max_completion_tokens":
		return fMaxCompletionTokens
	case "n":
		return fN
	case "best_of":
		return fBestOf
	case "messages":
		return fMessages
	case "prompt":
		return fPrompt
	case "input":
		return fInput
	case "suffix":
		return fSuffix
	case "tools":
		return fTools
	case "functions":
		return fFunctions
	case "response_format":
		return fResponseFormat
	}
	return 0
}

// InspectRequest reads what pricing needs from the body of a
// /v1/chat/completions, /v1/completions or /v1/embeddings request. Any
// problem with the body is a *meter.Error with code ECodeBadRequest whose
// message names the field.
//
// PromptBytes is meant to be, together with a per-item allowance for
// Messages, an upper bound on the prompt's tokens under a byte-level BPE
// tokenizer, where no token is shorter than one byte; wherever the exact
// count is unclear it counts more. It is the decoded UTF-8 length of
// message, prompt, suffix and input text, plus 1 per token id. Everything
// else a message carries (name, role, tool calls, tool_call_id), non-text
// content parts (images, audio, files) and the tools, functions and
// response_format definitions count their raw JSON length plus one byte per
// ',' and ':' separator, since chat templates commonly re-serialise JSON
// with Python's ", " and ": " separators. Images are priced by the
// upstream from their pixels, not their URL; that is beyond this bound.
func InspectRequest(body []byte) (RequestInfo, error) {
	// Checked up front so that a raw byte never counts less than its
	// decoded text: an invalid byte would decode to 3-byte U+FFFD.
	if !utf8.Valid(body) {
		return RequestInfo{}, meter.Errorf(meter.ECodeBadRequest, "request body is not valid UTF-8")
	}
	r := requestScan{s: scanner{data: body}}
	if err := r.scan(); err != nil {
		return RequestInfo{}, err
	}
	return r.info, nil
}

// requestScan is one InspectRequest.
type requestScan struct {
	s    scanner
	info RequestInfo
	seen uint16
	// The integer fields, -1 when absent or null.
	maxTokens, maxCompletion, n, bestOf int64
}

const (
	msgNotObject   = "request body must be a JSON object"
	msgInvalidJSON = "request body is not valid JSON"
)

func badRequest(msg string) *meter.Error {
	return meter.Errorf(meter.ECodeBadRequest, "%s", msg)
}

func (r *requestScan) scan() *meter.Error {
	s := &r.s
	if s.peek() != '{' {
		return badRequest(msgNotObject)
	}
	r.maxTokens, r.maxCompletion, r.n, r.bestOf = -1, -1, -1, -1
	s.open('{')
	var buf [32]byte
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		name := raw
		if len(raw) >= 2 {
			name = raw[1 : len(raw)-1]
			if escaped {
				name = appendUnescaped(buf[:0], raw)
			}
		}
		f := requestField(name)
		if f == 0 {
			s.skip()
			continue
		}
		if r.seen&f != 0 {
			return meter.Errorf(meter.ECodeBadRequest, "%q must appear only once", string(name))
		}
		r.seen |= f
		if err := r.field(f); err != nil {
			return err
		}
	}
	if !s.finish() {
		return badRequest(msgInvalidJSON)
	}
	return r.check()
}

// field reads the value of one of the fields InspectRequest knows.
func (r *requestScan) field(f uint16) *meter.Error {
	var err *meter.Error
	switch f {
	case fModel:
		r.info.Model, err = r.model()
	case fStream:
		r.info.Stream, err = r.boolean(`"stream" must be a boolean`)
	case fStreamOptions:
		err = r.streamOptions()
	case fMaxTokens:
		r.maxTokens, err = r.integer(`"max_tokens" must be a non-negative integer`, 0, math.MaxInt64)
	case fMaxCompletionTokens:
		r.maxCompletion, err = r.integer(`"max_completion_tokens" must be a non-negative integer`, 0, math.MaxInt64)
	case fN:
		r.n, err = r.integer(`"n" must be an integer from 1 to 128`, 1, maxChoices)
	case fBestOf:
		r.bestOf, err = r.integer(`"best_of" must be an integer from 1 to 128`, 1, maxChoices)
	case fMessages:
		err = r.messages()
	case fPrompt:
		err = r.prompt(`"prompt" must be a string or an array`)
	case fInput:
		err = r.prompt(`"input" must be a string or an array`)
	default: // suffix, tools, functions, response_format
		r.info.PromptBytes += r.s.cost()
	}
	return err
}

// check applies the rules that need the whole body.
func (r *requestScan) check() *meter.Error {
	if r.seen&fModel == 0 {
		return badRequest(`"model" is required`)
	}
	switch {
	case r.maxCompletion >= 0:
		r.info.MaxTokens = r.maxCompletion
	case r.maxTokens >= 0:
		r.info.MaxTokens = r.maxTokens
	}
	// best_of completions are generated, and billed, even though only n
	// are returned.
	r.info.N = max(r.n, r.bestOf, 1)
	return nil
}

// invalid returns the error for a value of the wrong type: msg, unless the
// value is not even valid JSON.
func (r *requestScan) invalid(msg string) *meter.Error {
	r.s.skip()
	if r.s.bad {
		return badRequest(msgInvalidJSON)
	}
	return badRequest(msg)
}

func (r *requestScan) model() (string, *meter.Error) {
	const msg = `"model" must be a non-empty string`
	s := &r.s
	if s.peek() != '"' {
		return "", r.invalid(msg)
	}
	raw, escaped := s.str()
	if s.bad {
		return "", badRequest(msgInvalidJSON)
	}
	if len(raw) == 2 {
		return "", badRequest(msg)
	}
	if !escaped {
		return string(raw[1 : len(raw)-1]), nil
	}
	return string(appendUnescaped(nil, raw)), nil
}

// boolean reads true, false or null (false).
func (r *requestScan) boolean(msg string) (bool, *meter.Error) {
	s := &r.s
	switch s.peek() {
	case 't':
		return s.lit("true"), nil
	case 'f':
		s.lit("false")
		return false, nil
	case 'n':
		s.lit("null")
		return false, nil
	}
	return false, r.invalid(msg)
}

// integer reads an integer from lo to hi, or null (-1).
func (r *requestScan) integer(msg string, lo, hi int64) (int64, *meter.Error) {
	s := &r.s
	switch c := s.peek(); {
	case c == 'n':
		s.lit("null")
		return -1, nil
	case c == '-' || isDigit(c):
		raw := s.num()
		if s.bad {
			return 0, badRequest(msgInvalidJSON)
		}
		v, ok := parseCount(raw)
		if !ok || v < lo || v > hi {
			return 0, badRequest(msg)
		}
		return v, nil
	}
	return 0, r.invalid(msg)
}

func (r *requestScan) streamOptions() *meter.Error {
	s := &r.s
	switch s.peek() {
	case 'n':
		s.lit("null")
		return nil
	case '{':
	default:
		return r.invalid(`"stream_options" must be an object`)
	}
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		if !s.keyIs("include_usage") {
			s.skip()
			continue
		}
		v, err := r.boolean(`"stream_options.include_usage" must be a boolean`)
		if err != nil {
			return err
		}
		// The last duplicate wins, as in the upstream's decoder;
		// WithStreamUsage sets every one of them.
		r.info.IncludeUsage = v
	}
	return nil
}

// messages reads a chat "messages" array.
func (r *requestScan) messages() *meter.Error {
	s := &r.s
	switch s.peek() {
	case 'n':
		s.lit("null")
		return nil
	case '[':
	default:
		return r.invalid(`"messages" must be an array of objects`)
	}
	s.open('[')
	for i := 0; s.more(']', i); i++ {
		if s.peek() != '{' {
			return r.invalid(`"messages" must be an array of objects`)
		}
		r.info.Messages++
		r.info.PromptBytes += s.message()
	}
	return nil
}

// prompt reads a completions "prompt" or an embeddings "input": a string,
// or an array of strings, token ids or arrays of token ids. Each string
// and each token array is one item, and a run of bare token ids is one
// more. Objects in the array are read as messages, which is what the
// Responses API's input items are.
func (r *requestScan) prompt(msg string) *meter.Error {
	s := &r.s
	switch s.peek() {
	case 'n':
		s.lit("null")
		return nil
	case '"':
		r.info.Messages++
		r.info.PromptBytes += s.text()
		return nil
	case '[':
	default:
		return r.invalid(msg)
	}
	tokens := false
	s.open('[')
	for i := 0; s.more(']', i); i++ {
		switch c := s.peek(); {
		case c == '-' || isDigit(c):
			s.num()
			tokens = true
			r.info.PromptBytes++
		case c == '[':
			r.info.Messages++
			r.info.PromptBytes += s.tokens()
		case c == '{':
			r.info.Messages++
			r.info.PromptBytes += s.message()
		default:
			r.info.Messages++
			r.info.PromptBytes += s.cost()
		}
	}
	if tokens {
		r.info.Messages++
	}
	return nil
}

// tokens reads an array of token ids, counting 1 per id.
func (s *scanner) tokens() int64 {
	var n int64
	s.open('[')
	for i := 0; s.more(']', i); i++ {
		if c := s.peek(); c == '-' || isDigit(c) {
			s.num()
			n++
		} else {
			n += s.cost()
		}
	}
	return n
}

// message reads one chat message and returns what it adds to the prompt.
// Only content is counted by its text; every other member counts by cost.
func (s *scanner) message() int64 {
	var n int64
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		if s.keyIs("content") {
			n += s.content()
		} else {
			n += s.cost()
		}
	}
	return n
}

// content reads a message's content: a string, or an array of parts.
func (s *scanner) content() int64 {
	if s.peek() != '[' {
		return s.cost()
	}
	var n int64
	s.open('[')
	for i := 0; s.more(']', i); i++ {
		if s.peek() == '{' {
			n += s.part()
		} else {
			n += s.cost()
		}
	}
	return n
}

// part reads one content part. A text part counts its text (and the cost
// of any other members but its type); any other part counts its cost.
func (s *scanner) part() int64 {
	s.peek()
	start, seps := s.pos, s.seps
	var text, other int64
	isText := false
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		switch {
		case rawIs(raw, escaped, "type") && s.peek() == '"':
			v, e := s.str()
			isText = isText || rawIs(v, e, "text")
		case rawIs(raw, escaped, "text"):
			text += s.cost()
		default:
			other += s.cost()
		}
	}
	if isText {
		return text + other
	}
	return int64(s.pos - start + s.seps - seps)
}

// cost reads any value and returns an upper bound on the bytes it adds to
// a prompt: the decoded length of a string; for anything else its raw
// JSON length plus one per ',' and ':' separator, because chat templates
// commonly re-serialise JSON with Python's ", " and ": " separators.
func (s *scanner) cost() int64 {
	if s.peek() == '"' {
		return decodedLen(s.str())
	}
	start, seps := s.pos, s.seps
	s.skip()
	return int64(s.pos - start + s.seps - seps)
}

// WithStreamUsage returns body with "stream_options":{"include_usage":true}
// set, so that the upstream ends its stream with a usage chunk. Call it
// only for streaming requests: the OpenAI API rejects stream_options
// otherwise.
//
// The raw JSON is spliced rather than decoded and re-encoded, so every
// other byte is kept as it was: member order, whitespace, number
// spellings, escapes and the other stream_options members. Only the
// include_usage value is replaced, or the member added after the last
// one; a repeated include_usage is set everywhere, whichever the upstream
// reads. body itself is not modified.
func WithStreamUsage(body []byte) ([]byte, error) {
	s := scanner{data: body}
	if s.peek() != '{' {
		return nil, badRequest(msgNotObject)
	}
	var sp splice
	s.open('{')
	end, members, found := s.pos, 0, false
	for ; s.more('}', members); members++ {
		if !s.keyIs("stream_options") {
			s.skip()
			end = s.pos
			continue
		}
		if found {
			return nil, badRequest(`"stream_options" must appear only once`)
		}
		found = true
		if err := sp.streamOptions(&s); err != nil {
			return nil, err
		}
		end = s.pos
	}
	if !s.finish() {
		return nil, badRequest(msgInvalidJSON)
	}
	if !found {
		sp.add(end, end, members > 0, `"stream_options":{"include_usage":true}`)
	}
	return sp.apply(body), nil
}

// streamOptions plans the edits to the value of "stream_options".
func (sp *splice) streamOptions(s *scanner) *meter.Error {
	switch s.peek() {
	case 'n':
		start := s.pos
		s.lit("null")
		sp.add(start, s.pos, false, `{"include_usage":true}`)
		return nil
	case '{':
	default:
		s.skip()
		if s.bad {
			return badRequest(msgInvalidJSON)
		}
		return badRequest(`"stream_options" must be an object`)
	}
	s.open('{')
	end, members, found := s.pos, 0, false
	for ; s.more('}', members); members++ {
		isUsage := s.keyIs("include_usage")
		s.peek()
		start := s.pos
		s.skip()
		if isUsage {
			sp.add(start, s.pos, false, "true")
			found = true
		}
		end = s.pos
	}
	if !found {
		sp.add(end, end, members > 0, `"include_usage":true`)
	}
	return nil
}

// splice is a list of edits to a body, in order of position.
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
