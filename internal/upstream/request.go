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
	MaxTokens    int64 // the larger of max_tokens and max_completion_tokens; 0 when absent (0 and null mean absent)
	N            int64 // choices requested ("n", or "best_of" when larger); 1 when absent
	PromptBytes  int64 // UTF-8 byte length of all prompt text
	Messages     int64 // number of messages / prompt items / input items
	IncludeUsage bool  // the client asked for usage (stream_options.include_usage is true)
	// Non-text content parts by kind, each priced at its model's bound
	// (meter.Price.MaxImageTokens and the like), and where the first of
	// each is ("messages[0].content[1]"), to name it in a refusal.
	Images, Audio, Files           int64
	ImagePart, AudioPart, FilePart string
	// HiddenInput is set when the upstream adds input the body does not
	// carry (a Responses previous_response_id or conversation): the input
	// is bounded by the model's context window alone (InputBound), and a
	// model without one refuses the request (CheckPriced).
	HiddenInput bool
	// ImageSize and ImageQuality are an image generation's "size" and
	// "quality", as sent ("" when absent): they select its price.
	ImageSize, ImageQuality string

	api   API
	edits bodyEdits
}

// maxChoices bounds "n" and "best_of", as the OpenAI API does for "n".
const maxChoices = 128

// InspectRequest reads what pricing needs from the body of a request to
// api. Any problem with the body is a *meter.Error: bad_request (the
// message names the field), ambiguous_field (a key that is another
// spelling of a known field, or a repeated key), unsupported_field (a field
// the route does not forward, or a value billed outside the priced
// tokens) or content_not_priced (a content part of an unknown kind).
//
// The upstream must act on exactly what is priced. Many upstreams decode
// keys case-insensitively under Unicode folding, the last match winning
// (Go's encoding/json), others take the first or the last duplicate: so
// every top-level key must be one of the api's fields, spelled exactly,
// once (docs/security.md).
//
// PromptBytes is meant to be, together with a per-item allowance for
// Messages, an upper bound on the prompt's tokens under a byte-level BPE
// tokenizer, where no token is shorter than one byte; wherever the exact
// count is unclear it counts more. It is the decoded UTF-8 length of
// message, prompt, suffix and input text, plus 1 per token id. Everything
// else a message carries (name, role, tool calls, tool_call_id) and the
// tools, functions and response_format definitions count their raw JSON
// length plus one byte per ',' and ':' separator, since chat templates
// commonly re-serialise JSON with Python's ", " and ": " separators.
// Images, audio and files are counted by kind, not by their bytes: the
// upstream prices them from their pixels, samples or pages.
func InspectRequest(body []byte, api API) (RequestInfo, error) {
	// Checked up front so that a raw byte never counts less than its
	// decoded text: an invalid byte would decode to 3-byte U+FFFD.
	if !utf8.Valid(body) {
		return RequestInfo{}, meter.Errorf(meter.ECodeBadRequest, "request body is not valid UTF-8")
	}
	switch api {
	case APIResponses:
		return inspectResponses(body)
	case APIMessages:
		return inspectMessages(body)
	case APIImages:
		return inspectImages(body)
	}
	r := requestScan{s: scanner{data: body}, allowed: allowedFields[api]}
	r.info.api = api
	if err := r.scan(); err != nil {
		return RequestInfo{}, err
	}
	return r.info, nil
}

// requestScan is one InspectRequest.
type requestScan struct {
	s       scanner
	info    RequestInfo
	allowed uint64
	seen    uint64
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
		if s.bad {
			return badRequest(msgInvalidJSON)
		}
		name := keyName(raw, escaped, buf[:])
		f := requestField(name)
		if f == fNone || r.allowed&(1<<f) == 0 {
			return fieldError(string(name), r.allowed)
		}
		if r.seen&(1<<f) != 0 {
			return ambiguous(fieldNames[f], "%q must appear only once", fieldNames[f])
		}
		r.seen |= 1 << f
		if err := r.field(f); err != nil {
			return err
		}
		r.info.edits.end, r.info.edits.members = s.pos, i+1
	}
	if !s.finish() {
		return badRequest(msgInvalidJSON)
	}
	return r.check()
}

// field reads the value of one of the fields InspectRequest knows.
func (r *requestScan) field(f field) *meter.Error {
	var err *meter.Error
	switch f {
	case fModel:
		r.info.Model, err = r.model()
	case fStream:
		r.info.Stream, err = r.boolean(`"stream" must be a boolean`)
	case fStreamOptions:
		err = r.streamOptions()
	case fMaxTokens:
		r.maxTokens, err = r.limit(`"max_tokens" must be a non-negative integer`, &r.info.edits.maxTokens)
	case fMaxCompletionTokens:
		r.maxCompletion, err = r.limit(`"max_completion_tokens" must be a non-negative integer`, &r.info.edits.maxCompletion)
	case fN:
		r.n, err = r.integer(`"n" must be an integer from 1 to 128`, 1, maxChoices)
	case fBestOf:
		r.bestOf, err = r.integer(`"best_of" must be an integer from 1 to 128`, 1, maxChoices)
	case fMessages:
		err = r.messages()
	case fPrompt:
		err = r.prompt("prompt", `"prompt" must be a string or an array`)
	case fInput:
		err = r.prompt("input", `"input" must be a string or an array`)
	case fSuffix, fTools, fFunctions, fResponseFormat, fToolChoice, fFunctionCall:
		// Rendered into the prompt by the upstream's template.
		r.info.PromptBytes += r.s.cost()
	case fServiceTier:
		err = r.serviceTier()
	case fModalities:
		err = r.modalities()
	default: // fields that only shape the output
		r.s.skip()
	}
	return err
}

// check applies the rules that need the whole body.
func (r *requestScan) check() *meter.Error {
	if r.seen&(1<<fModel) == 0 {
		return badRequest(`"model" is required`)
	}
	// Upstreams differ on which of the two limits wins: the larger is
	// held, and ForwardBody writes it over a 0 or null the other holds.
	r.info.MaxTokens = max(r.maxTokens, r.maxCompletion, 0)
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

// str reads a string value, decoded into buf when it holds escapes; ok is
// false (and the value skipped) for anything else.
func (r *requestScan) str(buf []byte) (v []byte, ok bool) {
	s := &r.s
	if s.peek() != '"' {
		s.skip()
		return nil, false
	}
	raw, escaped := s.str()
	if s.bad {
		return nil, false
	}
	return keyName(raw, escaped, buf), true
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

// limit reads an output limit. A 0 or null means no limit to some
// upstreams: its place is kept, for ForwardBody to write the held bound.
func (r *requestScan) limit(msg string, at *span) (int64, *meter.Error) {
	start := r.s.peekPos()
	v, err := r.integer(msg, 0, math.MaxInt64)
	if err == nil && v <= 0 {
		*at = span{start, r.s.pos}
	}
	return v, err
}

func (r *requestScan) streamOptions() *meter.Error {
	s := &r.s
	start := s.peekPos()
	switch s.peek() {
	case 'n':
		s.lit("null")
		r.info.edits.streamOptions = span{start, s.pos}
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
		r.info.IncludeUsage = v
	}
	// ForwardBody replaces the whole value, so that no spelling of
	// include_usage the upstream might read instead survives.
	r.info.edits.streamOptions = span{start, s.pos}
	return nil
}

// serviceTier refuses a tier other than the default: "priority" and
// "scale" bill more per token than the price table says, "flex" bills on
// other terms.
func (r *requestScan) serviceTier() *meter.Error {
	if r.s.peek() == 'n' && r.s.lit("null") {
		return nil
	}
	var buf [16]byte
	v, ok := r.str(buf[:])
	if r.s.bad {
		return badRequest(msgInvalidJSON)
	}
	if !ok || string(v) != "auto" && string(v) != "default" {
		return unsupported("service_tier", `"service_tier" must be "auto" or "default": other tiers bill at other prices`)
	}
	return nil
}

// modalities refuses any output modality but text: audio output is
// billed outside the priced tokens.
func (r *requestScan) modalities() *meter.Error {
	s := &r.s
	const msg = `"modalities" may only be ["text"]: audio output is billed outside the priced tokens`
	if ok, err := r.array(`"modalities" must be an array of strings`); !ok {
		return err
	}
	var buf [16]byte
	for i := 0; s.more(']', i); i++ {
		if v, ok := r.str(buf[:]); !ok || string(v) != "text" {
			if s.bad {
				return badRequest(msgInvalidJSON)
			}
			return unsupported("modalities", msg)
		}
	}
	return nil
}

// array opens an array value: false for null, which holds nothing to
// read, and for anything but an array, refused with msg (err set).
func (r *requestScan) array(msg string) (ok bool, err *meter.Error) {
	s := &r.s
	switch s.peek() {
	case 'n':
		s.lit("null")
		return false, nil
	case '[':
		s.open('[')
		return true, nil
	}
	return false, r.invalid(msg)
}
