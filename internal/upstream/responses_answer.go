package upstream

import (
	"bytes"

	"github.com/paymeter/paymeter/internal/meter"
)

// parseResponsesAnswer is ParseResponse for a Response object: its
// top-level "usage" (the last one, if repeated) and "model".
func parseResponsesAnswer(body []byte) (u meter.Usage, model []byte, ok bool) {
	return parseOpenAIAnswer(body, &responsesUsage)
}

// responsesUsage reads a Responses usage object: input_tokens includes
// the cached tokens and output_tokens the reasoning tokens, split and
// clamped as chat's usage is (scanner.usage).
func (s *scanner) responsesUsage() (meter.Usage, bool) { return s.openAIUsage(&responsesUsage) }

// Responses stream events, by what the meter does with them.
const (
	evOther = iota
	evDelta // generated text, counted as delivered
	evFinal // the last event, whose response carries the usage
	evError
)

// responsesEvent returns what a Responses stream event of type typ is to
// the meter. Only the delta events count as delivered; the *.done events
// and the final response repeat the same text, which must not count twice.
func responsesEvent(typ []byte) int {
	switch string(typ) {
	case "response.output_text.delta", "response.refusal.delta", "response.function_call_arguments.delta",
		"response.custom_tool_call_input.delta", "response.reasoning_text.delta",
		"response.reasoning_summary_text.delta":
		return evDelta
	case "response.completed", "response.incomplete", "response.failed":
		return evFinal
	case "error":
		return evError
	}
	return evOther
}

// observeResponses meters one Responses API stream event's data: a JSON
// object whose "type" says what it is (the SSE "event:" line repeats it;
// clients read the data). The usage that stands is that of the response a
// response.completed, response.incomplete or response.failed event carries:
// those end the stream, so their usage is final. A usage in any other
// event's response is not: response.created and response.in_progress
// carry none. The model is the first a response names (response.created's).
// There is no "[DONE]"; one would be read as data that is not JSON, and
// count nothing.
func (m *StreamMeter) observeResponses(data []byte) {
	s := scanner{data: data}
	if s.peek() != '{' {
		return
	}
	var (
		u                  meter.Usage
		haveUsage          bool
		delta              int64
		model              []byte
		kind               = evOther
		typed, hasResponse bool
		reasoning          bool // a reasoning event, or one of a reasoning item
		reasoningItem      bool
	)
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		switch {
		case rawIs(raw, escaped, "type"):
			// The last one decides, as it does for the decoders clients use.
			kind, typed = evOther, true
			typ := s.modelName()
			kind, reasoning = responsesEvent(typ), bytes.HasPrefix(typ, []byte("response.reasoning"))
		case rawIs(raw, escaped, "item"):
			reasoningItem = s.itemIsReasoning()
		case rawIs(raw, escaped, "delta"):
			delta = s.text()
		case rawIs(raw, escaped, "response"):
			u, model, haveUsage = s.answer(&responsesUsage)
			hasResponse = true
		default:
			s.skip()
		}
	}
	if !s.finish() || !typed {
		return
	}
	// Its output is reasoning the stream does not carry, all of it billed.
	m.responses.reasoning = m.responses.reasoning || reasoning || reasoningItem
	if m.model == nil && hasResponse && model != nil {
		m.model = append([]byte{}, model...)
	}
	switch kind {
	case evDelta:
		m.delivered += delta
	case evFinal:
		m.done = true
		if haveUsage {
			m.usage, m.haveUsage, m.usageEvent = u, true, true
		}
	case evError:
		m.done = true
	}
}

// responsesStream is what a Responses stream showed so far.
type responsesStream struct {
	// reasoning is set once a reasoning item or event was seen: the stream
	// then delivers less than the upstream bills (see Estimate).
	reasoning bool
}

// itemIsReasoning reads an event's "item" and reports whether it is a
// reasoning item (its last "type" is "reasoning").
func (s *scanner) itemIsReasoning() bool {
	if s.peek() != '{' {
		s.skip()
		return false
	}
	reasoning := false
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		if !s.keyIs("type") {
			s.skip()
			continue
		}
		reasoning = string(s.modelName()) == "reasoning"
	}
	return reasoning
}

// responsesWithCost is WithCost for the Responses API: the cost goes into
// the usage object of a whole Response body (its last top-level "usage"),
// or of the response a stream event carries (the last "response", its last
// "usage"), as chat's does (chatWithCost): as the usage's last member, any
// paymeter_cost already there dropped, and everything else kept byte for
// byte, the event's "event:" line, its line ends and its framing included.
func responsesWithCost(data []byte, cost meter.Amount) []byte {
	value := []byte(cost.String())
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte(bom)), " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		sp, ok := usageCostEdits(data, value)
		if !ok {
			return data
		}
		return sp.apply(data)
	}
	return eventCostEdits(data, value, responseCostEdits)
}

// responseCostEdits is usageCostEdits for a Responses stream event's data:
// the usage is that of its top-level "response" object.
func responseCostEdits(doc, value []byte) (sp splice, ok bool) {
	s := scanner{data: doc}
	if s.peek() != '{' {
		return splice{}, false
	}
	usage := -1
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		if !s.keyIs("response") {
			s.skip()
			continue
		}
		usage = -1
		if s.peek() != '{' {
			s.skip()
			continue
		}
		s.open('{')
		for j := 0; s.more('}', j); j++ {
			if s.keyIs("usage") {
				usage = s.peekPos()
			}
			s.skip()
		}
	}
	if !s.finish() || usage < 0 || doc[usage] != '{' {
		return splice{}, false
	}
	return costEdits(doc, usage, value), true
}
