package upstream

import (
	"bytes"

	"github.com/paymeter/paymeter/internal/meter"
)

// API is the request format of a proxy route: it decides which top-level
// fields a request may carry.
type API uint8

// The APIs InspectRequest reads.
const (
	APIChat        API = iota // /v1/chat/completions
	APICompletions            // /v1/completions
	APIEmbeddings             // /v1/embeddings
	APIResponses              // /v1/responses (OpenAI Responses)
	APIMessages               // /v1/messages (Anthropic Messages)
	APIImages                 // /v1/images/generations
)

// String names the API's route.
func (a API) String() string {
	switch a {
	case APIChat:
		return "/v1/chat/completions"
	case APICompletions:
		return "/v1/completions"
	case APIEmbeddings:
		return "/v1/embeddings"
	case APIResponses:
		return "/v1/responses"
	case APIMessages:
		return "/v1/messages"
	case APIImages:
		return "/v1/images/generations"
	}
	return "unknown"
}

// field is a top-level request field InspectRequest knows.
type field uint8

const (
	fNone field = iota
	fModel
	fMessages
	fPrompt
	fInput
	fSuffix
	fMaxTokens
	fMaxCompletionTokens
	fN
	fBestOf
	fStream
	fStreamOptions
	fTools
	fFunctions
	fResponseFormat
	fServiceTier
	fModalities
	// Fields that only shape the output: read for validity, forwarded as
	// they are.
	fTemperature
	fTopP
	fStop
	fPresencePenalty
	fFrequencyPenalty
	fLogitBias
	fLogprobs
	fTopLogprobs
	fUser
	fSeed
	fToolChoice
	fFunctionCall
	fParallelToolCalls
	fReasoningEffort
	fVerbosity
	fSafetyIdentifier
	fPromptCacheKey
	fEcho
	fEncodingFormat
	fDimensions
	numFields
)

// fieldNames are the fields' JSON names.
var fieldNames = [numFields]string{
	fModel: "model", fMessages: "messages", fPrompt: "prompt", fInput: "input", fSuffix: "suffix",
	fMaxTokens: "max_tokens", fMaxCompletionTokens: "max_completion_tokens", fN: "n", fBestOf: "best_of",
	fStream: "stream", fStreamOptions: "stream_options", fTools: "tools", fFunctions: "functions",
	fResponseFormat: "response_format", fServiceTier: "service_tier", fModalities: "modalities",
	fTemperature: "temperature", fTopP: "top_p", fStop: "stop", fPresencePenalty: "presence_penalty",
	fFrequencyPenalty: "frequency_penalty", fLogitBias: "logit_bias", fLogprobs: "logprobs",
	fTopLogprobs: "top_logprobs", fUser: "user", fSeed: "seed", fToolChoice: "tool_choice",
	fFunctionCall: "function_call", fParallelToolCalls: "parallel_tool_calls",
	fReasoningEffort: "reasoning_effort", fVerbosity: "verbosity", fSafetyIdentifier: "safety_identifier",
	fPromptCacheKey: "prompt_cache_key", fEcho: "echo", fEncodingFormat: "encoding_format",
	fDimensions: "dimensions",
}

func fields(fs ...field) uint64 {
	var m uint64
	for _, f := range fs {
		m |= 1 << f
	}
	return m
}

// allowedFields are the top-level fields each API forwards: the OpenAI
// request fields paymeter prices, and those that only shape the output.
// Anything else is refused (docs/security.md, "what is priced is what is
// served"): a field paymeter does not know may change what the upstream
// bills, and an upstream may read it as one paymeter priced otherwise.
var allowedFields = [...]uint64{
	APIChat: fields(fModel, fMessages, fMaxTokens, fMaxCompletionTokens, fN, fStream, fStreamOptions,
		fTools, fFunctions, fResponseFormat, fServiceTier, fModalities, fTemperature, fTopP, fStop,
		fPresencePenalty, fFrequencyPenalty, fLogitBias, fLogprobs, fTopLogprobs, fUser, fSeed, fToolChoice,
		fFunctionCall, fParallelToolCalls, fReasoningEffort, fVerbosity, fSafetyIdentifier, fPromptCacheKey),
	APICompletions: fields(fModel, fPrompt, fSuffix, fMaxTokens, fN, fBestOf, fStream, fStreamOptions,
		fTemperature, fTopP, fStop, fPresencePenalty, fFrequencyPenalty, fLogitBias, fLogprobs, fUser, fSeed,
		fEcho),
	APIEmbeddings: fields(fModel, fInput, fEncodingFormat, fDimensions, fUser),
}

// requestField returns the field named exactly name, or fNone.
func requestField(name []byte) field {
	switch string(name) {
	case "model":
		return fModel
	case "messages":
		return fMessages
	case "prompt":
		return fPrompt
	case "input":
		return fInput
	case "suffix":
		return fSuffix
	case "max_tokens":
		return fMaxTokens
	case "max_completion_tokens":
		return fMaxCompletionTokens
	case "n":
		return fN
	case "best_of":
		return fBestOf
	case "stream":
		return fStream
	case "stream_options":
		return fStreamOptions
	case "tools":
		return fTools
	case "functions":
		return fFunctions
	case "response_format":
		return fResponseFormat
	case "service_tier":
		return fServiceTier
	case "modalities":
		return fModalities
	}
	return shapingField(name)
}

func shapingField(name []byte) field {
	switch string(name) {
	case "temperature":
		return fTemperature
	case "top_p":
		return fTopP
	case "stop":
		return fStop
	case "presence_penalty":
		return fPresencePenalty
	case "frequency_penalty":
		return fFrequencyPenalty
	case "logit_bias":
		return fLogitBias
	case "logprobs":
		return fLogprobs
	case "top_logprobs":
		return fTopLogprobs
	case "user":
		return fUser
	case "seed":
		return fSeed
	case "tool_choice":
		return fToolChoice
	case "function_call":
		return fFunctionCall
	case "parallel_tool_calls":
		return fParallelToolCalls
	case "reasoning_effort":
		return fReasoningEffort
	case "verbosity":
		return fVerbosity
	case "safety_identifier":
		return fSafetyIdentifier
	case "prompt_cache_key":
		return fPromptCacheKey
	case "echo":
		return fEcho
	case "encoding_format":
		return fEncodingFormat
	case "dimensions":
		return fDimensions
	}
	return fNone
}

// unpricedFields are OpenAI fields that bill outside the priced tokens,
// with the reason they are refused.
var unpricedFields = map[string]string{
	"audio":              "audio output is billed outside the priced tokens",
	"prediction":         "rejected prediction tokens are billed outside the quote",
	"web_search_options": "web search is billed per call, outside the priced tokens",
	"store":              "stored completions are not offered by this proxy",
	"metadata":           "stored completions are not offered by this proxy",
}

// foldsTo reports whether name is a different spelling of want that a
// case-insensitive decoder takes for it. Go's encoding/json folds keys as
// bytes.EqualFold does (Unicode simple folding): "MODEL", "Model",
// "ſtream" (long s) and "max_toKens" (Kelvin sign) all fill the field
// named by want. want is ASCII, so every rune of name stands for at least
// one byte of it.
func foldsTo(name []byte, want string) bool {
	return len(name) >= len(want) && bytes.EqualFold(name, []byte(want))
}

// fieldError refuses a top-level key the API does not forward: a
// spelling of one it does (ambiguous_field), or any other
// (unsupported_field), naming it.
// It takes a copy of the name: a []byte passed on to fmt would make the
// scanner's key buffers escape to the heap on every request.
func fieldError(name string, allowed uint64) *meter.Error {
	for f := fModel; f < numFields; f++ {
		if allowed&(1<<f) != 0 && foldsTo([]byte(name), fieldNames[f]) {
			return ambiguous(name, "%q is not %q: field names must be spelled exactly", name, fieldNames[f])
		}
	}
	if reason, ok := unpricedFields[name]; ok {
		return unsupported(name, "%q is not supported: %s", name, reason)
	}
	return unsupported(name, "%q is not a field this route forwards", name)
}

// memberError refuses a member of a message or content part that is
// another spelling of one paymeter reads there.
func memberError(at place, name string) *meter.Error {
	return ambiguous(at.String()+"."+name, "%q in %s is not a field name spelled exactly", name, at.String())
}

func ambiguous(field, format string, args ...any) *meter.Error {
	return meter.Errorf(meter.ECodeAmbiguousField, format, args...).WithDetail("field", field)
}

func unsupported(field, format string, args ...any) *meter.Error {
	return meter.Errorf(meter.ECodeUnsupportedField, format, args...).WithDetail("field", field)
}

// keyName returns the decoded text of the quoted key raw, in buf when it
// holds escapes.
func keyName(raw []byte, escaped bool, buf []byte) []byte {
	if len(raw) < 2 {
		return nil
	}
	if !escaped {
		return raw[1 : len(raw)-1]
	}
	return appendUnescaped(buf[:0], raw)
}
