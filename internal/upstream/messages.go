package upstream

import (
	"math"
	"strings"

	"github.com/paymeter/paymeter/internal/meter"
)

// mField is a top-level field of an Anthropic Messages request. The
// Messages API has its own set, apart from the OpenAI fields of
// fields.go: a request to /v1/messages may carry only these.
type mField uint8

const (
	mNone mField = iota
	mModel
	mMessages
	mSystem
	mMaxTokens
	mStream
	mTools
	mToolChoice
	mThinking
	mServiceTier
	mInferenceGeo
	mSpeed
	mOutputConfig
	// Fields that only shape the output: read for validity, forwarded as
	// they are.
	mTemperature
	mTopP
	mTopK
	mStopSequences
	mMetadata
	mCacheControl
	numMFields
)

// mFieldNames are the Messages API's request fields, by their JSON names.
var mFieldNames = [numMFields]string{
	mModel: "model", mMessages: "messages", mSystem: "system", mMaxTokens: "max_tokens", mStream: "stream",
	mTools: "tools", mToolChoice: "tool_choice", mThinking: "thinking", mServiceTier: "service_tier",
	mInferenceGeo: "inference_geo", mSpeed: "speed", mOutputConfig: "output_config",
	mTemperature: "temperature", mTopP: "top_p", mTopK: "top_k", mStopSequences: "stop_sequences",
	mMetadata: "metadata", mCacheControl: "cache_control",
}

// unpricedMessagesFields are Messages API fields that bill, or add input,
// outside what paymeter can see and price, with the reason they are refused.
var unpricedMessagesFields = map[string]string{
	"container":          "code execution containers are billed by the hour, outside the priced tokens",
	"mcp_servers":        "MCP servers add tool definitions and results upstream, outside the priced input",
	"context_management": "server-side context edits and compaction generate tokens outside max_tokens",
	"skills":             "skills run in code execution containers, billed outside the priced tokens",
}

// messagesFields is the Messages API's field table.
var messagesFields = newFieldTable(mFieldNames[:], unpricedMessagesFields)

// toolsAllowance is added to the input bound of a request that defines
// tools: the Messages API renders a tool-use system prompt the body does
// not carry (documented at 313 to 530 tokens across Claude models).
const toolsAllowance = 1024

// messagesScan is one inspectMessages: requestScan's readers with the
// Messages API's own fields.
type messagesScan struct {
	requestScan
	maxTokens int64
	tools     bool
}

// inspectMessages is InspectRequest for the Anthropic Messages API
// (docs/design.md §2). The input bound is a true upper bound, as chat's:
// every content block counts the per-item allowance and every member it
// carries (the decoded text of a string, the raw JSON of anything else,
// tool_use inputs included), whatever its name, but for the data of an
// image or a non-text document, which count at MaxImageTokens and
// MaxFileTokens; each tool counts its raw JSON and the per-item allowance,
// tool_choice and output_config their raw JSON. max_tokens is required, as
// by the Messages API, and is the held output bound. Server tools, which
// bill per use, and fields that add input or bill upstream are refused.
func inspectMessages(body []byte) (RequestInfo, error) {
	r := messagesScan{requestScan: requestScan{s: scanner{data: body}}}
	r.info.api = APIMessages
	if err := r.scan(); err != nil {
		return RequestInfo{}, err
	}
	return r.info, nil
}

func (r *messagesScan) scan() *meter.Error {
	r.maxTokens = -1
	for i := 0; ; i++ {
		f, more, err := r.nextField(messagesFields, i)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		if err := r.field(mField(f)); err != nil {
			return err
		}
	}
	return r.check()
}

func (r *messagesScan) field(f mField) *meter.Error {
	var err *meter.Error
	switch f {
	case mModel:
		r.info.Model, err = r.model()
	case mStream:
		r.info.Stream, err = r.boolean(`"stream" must be a boolean`)
	case mMaxTokens:
		r.maxTokens, err = r.integer(`"max_tokens" must be a positive integer`, 0, math.MaxInt64)
	case mMessages:
		err = r.messageList()
	case mSystem:
		err = r.system()
	case mTools:
		err = r.toolList()
	case mToolChoice, mOutputConfig:
		// Rendered into the prompt (tool choice, an output schema).
		r.info.PromptBytes += r.s.cost()
	case mThinking:
		err = r.thinking()
	case mServiceTier:
		// "auto" may use Priority Tier capacity; both bill per token.
		err = r.oneOf("service_tier", `"service_tier" must be "auto" or "standard_only"`, "auto", "standard_only")
	case mInferenceGeo:
		err = r.oneOf("inference_geo", `"inference_geo" must be "global": other regions bill at other prices`, "global")
	case mSpeed:
		err = r.oneOf("speed", `"speed" must be "standard": fast mode bills at other prices`, "standard")
	default: // fields that only shape the output
		r.s.skip()
	}
	return err
}

// check applies the rules that need the whole body.
func (r *messagesScan) check() *meter.Error {
	if r.seen&(1<<mModel) == 0 {
		return badRequest(`"model" is required`)
	}
	if r.maxTokens <= 0 {
		// The Messages API has no default output limit: without one there
		// is nothing to hold.
		return meter.Errorf(meter.ECodeBadRequest, `"max_tokens" is required by the Messages API: a positive integer`).
			WithDetail("field", "max_tokens")
	}
	r.info.MaxTokens, r.info.N = r.maxTokens, 1
	if r.tools {
		r.info.PromptBytes += toolsAllowance
	}
	return nil
}

// oneOf reads a string field that must be null or one of allowed: any
// other value bills at other prices (unsupported_field, naming it).
func (r *messagesScan) oneOf(field, msg string, allowed ...string) *meter.Error {
	if r.s.peek() == 'n' && r.s.lit("null") {
		return nil
	}
	var buf [32]byte
	v, ok := r.str(buf[:])
	if r.s.bad {
		return badRequest(msgInvalidJSON)
	}
	for _, a := range allowed {
		if ok && string(v) == a {
			return nil
		}
	}
	return unsupported(field, "%s", msg)
}

// thinking reads extended thinking's configuration. Thinking tokens are
// output tokens within max_tokens, which is held whatever the budget, so
// budget_tokens is only checked for its type; a thinking type paymeter
// does not know is refused.
func (r *messagesScan) thinking() *meter.Error {
	s := &r.s
	switch s.peek() {
	case 'n':
		s.lit("null")
		return nil
	case '{':
	default:
		return r.invalid(`"thinking" must be an object`)
	}
	var buf, tbuf [32]byte
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		name := keyName(raw, escaped, buf[:])
		switch {
		case string(name) == "type":
			// Each one checked: an upstream may read the first or the last.
			typ, ok := r.str(tbuf[:])
			if !ok {
				return badRequest(`"thinking.type" must be a string`)
			}
			switch string(typ) {
			case "enabled", "disabled", "adaptive":
			default:
				return unsupported("thinking", `"thinking.type" must be "enabled", "disabled" or "adaptive"`)
			}
		case string(name) == "budget_tokens":
			if _, err := r.integer(`"thinking.budget_tokens" must be a positive integer`, 1, math.MaxInt64); err != nil {
				return err
			}
		case foldsTo(name, "type") || foldsTo(name, "budget_tokens"):
			return ambiguous("thinking."+string(name), "%q in thinking is not a field name spelled exactly", string(name))
		default:
			s.skip()
		}
	}
	if s.bad {
		return badRequest(msgInvalidJSON)
	}
	return nil
}

// toolList reads "tools": custom tools only. A server tool (web search,
// web fetch, code execution) bills per use, and an Anthropic-defined client
// tool (bash, computer, text_editor, memory) adds a system prompt the body
// does not carry: a tool with a "type" other than "custom" is refused.
// Each tool counts its raw JSON, as chat's tools do (the upstream renders
// it as a JSON definition, keys and all), plus the per-item allowance.
func (r *messagesScan) toolList() *meter.Error {
	s := &r.s
	if ok, err := r.array(`"tools" must be an array of objects`); !ok {
		return err
	}
	var buf, tbuf [32]byte
	for i := 0; s.more(']', i); i++ {
		r.tools = true
		r.info.PromptBytes += perItemAllowance
		if s.peek() != '{' {
			r.info.PromptBytes += s.cost()
			continue
		}
		at := place{"tools", i, -1}
		start, seps := s.pos, s.seps
		s.open('{')
		for j := 0; s.more('}', j); j++ {
			raw, escaped := s.key()
			name := keyName(raw, escaped, buf[:])
			switch {
			case string(name) == "type":
				if s.peek() == 'n' && s.lit("null") {
					break
				}
				typ, ok := r.str(tbuf[:])
				if !ok || string(typ) != "custom" {
					return unsupported(at.String()+".type",
						"tool %s has type %q: only custom tools are supported (server tools bill per use, Anthropic-defined tools add unpriced input)",
						at.String(), string(typ))
				}
			case foldsTo(name, "type"):
				return memberError(at, string(name))
			default:
				s.skip()
			}
		}
		r.info.PromptBytes += int64(s.pos - start + s.seps - seps)
	}
	return nil
}

// unpricedBetas are anthropic-beta features that bill at other prices than
// the price table's, by prefix: the 1M-token context window bills input
// past 200K tokens at a premium.
var unpricedBetas = []string{"context-1m-"}

// CheckAnthropicBeta refuses an anthropic-beta header (a comma-separated
// list of features, passed on to the upstream) that turns on a feature
// billed at other prices (unsupported_field, naming the header).
func CheckAnthropicBeta(header string) error {
	for f := range strings.SplitSeq(header, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		for _, p := range unpricedBetas {
			if strings.HasPrefix(f, p) {
				return unsupported("anthropic-beta", "anthropic-beta %q is not supported: it bills at other prices than this proxy's", f)
			}
		}
	}
	return nil
}
