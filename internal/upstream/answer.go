package upstream

import (
	"bytes"

	"github.com/paymeter/paymeter/internal/meter"
)

// ParseResponse reads a whole response to a request of api: its usage
// (ok false when it has none that can be used) and the model it names.
func ParseResponse(api API, body []byte) (u meter.Usage, model []byte, ok bool) {
	switch api {
	case APIResponses:
		return parseResponsesAnswer(body)
	case APIMessages:
		return parseMessagesAnswer(body)
	case APIImages:
		return parseImagesAnswer(body)
	}
	return ParseAnswer(body)
}

// WithCost returns a stream event that StreamMeter.UsageEvent reported,
// or a whole response body of api, with the cost charged for it in its
// usage object, as "paymeter_cost" (docs/design.md §2). An event or body
// it cannot place the cost in is returned as it is; the input is never
// modified.
func WithCost(api API, data []byte, cost meter.Amount) []byte {
	switch api {
	case APIResponses:
		return responsesWithCost(data, cost)
	case APIMessages:
		return messagesWithCost(data, cost)
	case APIImages:
		return imagesWithCost(data, cost)
	}
	return chatWithCost(data, cost)
}

// ParseAnswer is ParseUsage that also returns the top-level "model" the
// answer names (decoded; nil when absent), in the same single pass.
func ParseAnswer(body []byte) (u meter.Usage, model []byte, ok bool) {
	return parseOpenAIAnswer(body, &chatUsage)
}

// parseOpenAIAnswer is ParseAnswer for an answer whose usage members are
// named n.
func parseOpenAIAnswer(body []byte, n *usageNames) (u meter.Usage, model []byte, ok bool) {
	s := scanner{data: body}
	if s.peek() != '{' {
		return meter.Usage{}, nil, false
	}
	u, model, ok = s.answer(n)
	if !s.finish() {
		return meter.Usage{}, nil, false
	}
	return u, model, ok
}

// answer reads an object's "usage" (the last one, with members named n)
// and "model" members.
func (s *scanner) answer(n *usageNames) (u meter.Usage, model []byte, ok bool) {
	if s.peek() != '{' {
		s.skip()
		return meter.Usage{}, nil, false
	}
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		switch {
		case rawIs(raw, escaped, "usage"):
			u, ok = s.openAIUsage(n)
		case rawIs(raw, escaped, "model"):
			model = s.modelName()
		default:
			s.skip()
		}
	}
	return u, model, ok
}

// modelName reads a string value, decoded; nil for anything else. It
// points into the scanned data when the string holds no escapes.
func (s *scanner) modelName() []byte {
	if s.peek() != '"' {
		s.skip()
		return nil
	}
	raw, escaped := s.str()
	if len(raw) < 2 {
		return nil
	}
	if !escaped {
		return raw[1 : len(raw)-1]
	}
	return appendUnescaped(nil, raw)
}

// SameModel reports whether an answer that names the model answered is
// from the model priced: the same id, or a dated snapshot of it
// ("gpt-4o" answered as "gpt-4o-2024-08-06"). An answer that names no
// model says nothing against it.
func SameModel(priced string, answered []byte) bool {
	if len(answered) == 0 || string(answered) == priced {
		return true
	}
	rest, ok := bytes.CutPrefix(answered, []byte(priced+"-"))
	if !ok || len(rest) == 0 {
		return false
	}
	for _, c := range rest {
		if !isDigit(c) && c != '-' {
			return false
		}
	}
	return true
}
