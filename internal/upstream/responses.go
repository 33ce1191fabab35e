package upstream

import "github.com/paymeter/paymeter/internal/meter"

// rfield is a top-level field of a Responses API request (POST
// /v1/responses). The API has its own set, apart from chat's fields: a
// key is read against this table alone.
type rfield uint8

const (
	rNone rfield = iota
	rModel
	rInput
	rInstructions
	rMaxOutputTokens
	rStream
	rStreamOptions
	rTools
	rToolChoice
	rText
	rServiceTier
	rPreviousResponseID
	rConversation
	rBackground
	// Fields that only shape the output or where it is kept: read for
	// validity, forwarded as they are.
	rTemperature
	rTopP
	rTopLogprobs
	rParallelToolCalls
	rMaxToolCalls
	rReasoning
	rTruncation
	rUser
	rSafetyIdentifier
	rPromptCacheKey
	rMetadata
	rStore
	rInclude
	numRFields
)

// rfieldNames are the fields' JSON names.
var rfieldNames = [numRFields]string{
	rModel: "model", rInput: "input", rInstructions: "instructions", rMaxOutputTokens: "max_output_tokens",
	rStream: "stream", rStreamOptions: "stream_options", rTools: "tools", rToolChoice: "tool_choice",
	rText: "text", rServiceTier: "service_tier", rPreviousResponseID: "previous_response_id",
	rConversation: "conversation", rBackground: "background", rTemperature: "temperature", rTopP: "top_p",
	rTopLogprobs: "top_logprobs", rParallelToolCalls: "parallel_tool_calls", rMaxToolCalls: "max_tool_calls",
	rReasoning: "reasoning", rTruncation: "truncation", rUser: "user", rSafetyIdentifier: "safety_identifier",
	rPromptCacheKey: "prompt_cache_key", rMetadata: "metadata", rStore: "store", rInclude: "include",
}

// responsesUnpriced are Responses API fields that are refused for a reason
// worth telling.
var responsesUnpriced = map[string]string{
	"prompt":             "a stored prompt template adds input, tools and settings this proxy cannot see, so it cannot be priced",
	"context_management": "server-side compaction changes the input outside the priced request",
}

// responsesFields is the Responses API's field table.
var responsesFields = newFieldTable(rfieldNames[:], responsesUnpriced)

// inspectResponses is InspectRequest for the OpenAI Responses API
// (docs/design.md §2). The input is instructions plus input (a string, or
// an array of items: messages whose content is a string or parts priced
// as chat's are, function and custom tool calls and their outputs,
// reasoning items); tools, tool_choice and text (its JSON schema) count
// their JSON length as chat's tools do. Input the upstream adds from
// state it keeps — previous_response_id, conversation, an item_reference
// (typed, or a typeless item with an id) or compaction item, a reasoning
// item's id or encrypted_content — makes the
// request HiddenInput, bounded by the model's context window alone.
// Whatever bills outside the priced tokens is refused: background runs,
// built-in tools (anything but "function" and "custom" tools bill per
// call), a service tier other than the default, and stored prompt
// templates ("prompt").
func inspectResponses(body []byte) (RequestInfo, error) {
	r := requestScan{s: scanner{data: body}}
	r.info.api = APIResponses
	if err := r.scanResponses(); err != nil {
		return RequestInfo{}, err
	}
	return r.info, nil
}

func (r *requestScan) scanResponses() *meter.Error {
	r.maxTokens = -1
	for i := 0; ; i++ {
		f, more, err := r.nextField(responsesFields, i)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		if err := r.responsesField(rfield(f)); err != nil {
			return err
		}
		r.info.edits.end, r.info.edits.members = r.s.pos, i+1
	}
	if r.seen&(1<<rModel) == 0 {
		return badRequest(`"model" is required`)
	}
	r.info.MaxTokens = max(r.maxTokens, 0)
	r.info.N = 1
	return nil
}

// responsesField reads the value of one Responses API field.
func (r *requestScan) responsesField(f rfield) *meter.Error {
	var err *meter.Error
	switch f {
	case rModel:
		r.info.Model, err = r.model()
	case rStream:
		r.info.Stream, err = r.boolean(`"stream" must be a boolean`)
	case rMaxOutputTokens:
		r.maxTokens, err = r.limit(`"max_output_tokens" must be a non-negative integer`, &r.info.edits.maxTokens)
	case rInput:
		err = r.responsesInput()
	case rInstructions:
		err = r.instructions()
	case rTools:
		err = r.responsesTools()
	case rToolChoice:
		err = r.responsesToolChoice()
	case rText:
		// Its format's JSON schema is rendered into the prompt.
		r.info.PromptBytes += r.s.cost()
	case rServiceTier:
		err = r.serviceTier()
	case rBackground:
		err = r.background()
	case rPreviousResponseID:
		err = r.stateRef(`"previous_response_id" must be a string`, false)
	case rConversation:
		err = r.stateRef(`"conversation" must be a string or an object`, true)
	case rReasoning:
		err = r.reasoning()
	case rStreamOptions:
		// include_obfuscation pads delta events; usage is always reported.
		err = r.objectOrNull(`"stream_options" must be an object`)
	default:
		r.s.skip()
	}
	if err == nil && r.s.bad {
		err = badRequest(msgInvalidJSON)
	}
	return err
}

// instructions reads the system (developer) message of the request.
func (r *requestScan) instructions() *meter.Error {
	s := &r.s
	switch s.peek() {
	case 'n':
		s.lit("null")
		return nil
	case '"':
		r.info.Messages++
		r.info.PromptBytes += s.text()
		return nil
	}
	return r.invalid(`"instructions" must be a string`)
}

// reasoningMembers are the members of "reasoning", spelled exactly.
var reasoningMembers = [...]string{"effort", "summary", "generate_summary", "mode", "context"}

// reasoning reads "reasoning". Its effort and summary only shape output
// bounded by max_output_tokens, and context which reasoning items of
// earlier turns are rendered, input already counted or HiddenInput: they
// are forwarded. Its mode must be the standard one: the pro execution mode
// bills at other rates than the price table's. Any other member, or a
// spelling of one, is refused: an upstream may read it.
func (r *requestScan) reasoning() *meter.Error {
	s := &r.s
	switch s.peek() {
	case 'n':
		s.lit("null")
		return nil
	case '{':
	default:
		return r.invalid(`"reasoning" must be an object`)
	}
	var buf, vbuf [32]byte
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		name := keyName(raw, escaped, buf[:])
		if s.bad {
			break
		}
		switch known := oneOf(name, reasoningMembers[:]); {
		case string(name) == "mode":
			if s.peek() == 'n' {
				s.lit("null")
				break
			}
			v, ok := r.str(vbuf[:])
			if !ok {
				return r.invalidAfter(`"reasoning.mode" must be a string`)
			}
			if string(v) != "standard" {
				return unsupported("reasoning.mode", `"reasoning.mode" must be "standard": another execution mode bills at rates this proxy does not price`)
			}
		case known:
			s.skip()
		case foldsToAny(name, reasoningMembers[:]):
			return ambiguous("reasoning."+string(name), "%q in reasoning is not a field name spelled exactly", string(name))
		default:
			return unsupported("reasoning."+string(name), "%q in reasoning is not a field this proxy knows", string(name))
		}
	}
	if s.bad {
		return badRequest(msgInvalidJSON)
	}
	return nil
}

func foldsToAny(name []byte, set []string) bool {
	for _, x := range set {
		if foldsTo(name, x) {
			return true
		}
	}
	return false
}

// background refuses a background response: it is answered later, through
// another request, so it is neither a stream nor an answer to meter here.
func (r *requestScan) background() *meter.Error {
	v, err := r.boolean(`"background" must be a boolean`)
	if err == nil && v {
		return unsupported("background", `"background": true is not supported: a background response is not metered by the request that starts it`)
	}
	return err
}

// stateRef reads previous_response_id or conversation: any value but
// null names input the upstream keeps and adds.
func (r *requestScan) stateRef(msg string, object bool) *meter.Error {
	s := &r.s
	switch c := s.peek(); {
	case c == 'n':
		s.lit("null")
		return nil
	case c == '"', c == '{' && object:
		s.skip()
		r.info.HiddenInput = true
		return nil
	}
	return r.invalid(msg)
}

func (r *requestScan) objectOrNull(msg string) *meter.Error {
	switch r.s.peek() {
	case 'n', '{':
		r.s.skip()
		return nil
	}
	return r.invalid(msg)
}

// responsesInput reads "input": a string, or an array of items.
func (r *requestScan) responsesInput() *meter.Error {
	s := &r.s
	const msg = `"input" must be a string or an array of items`
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
	s.open('[')
	for i := 0; s.more(']', i); i++ {
		r.info.Messages++
		if s.peek() != '{' {
			r.info.PromptBytes += s.cost() // not an item: the upstream refuses it
			continue
		}
		if err := r.inputItem(place{"input", i, -1}); err != nil {
			return err
		}
	}
	return nil
}
