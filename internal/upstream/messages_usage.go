package upstream

import "github.com/paymeter/paymeter/internal/meter"

// anthropicUsage is an Anthropic usage object as reported: input_tokens
// excludes the cache reads and writes, which are reported beside it, and
// cache_creation may split the writes by lifetime.
type anthropicUsage struct {
	input, output, cacheWrite, cacheRead, write5m, write1h int64
	// has says which counts were present (not null), by the bits below.
	has uint8
	bad bool // a count was not a non-negative integer that fits in an int64
}

const (
	hasInput = 1 << iota
	hasOutput
	hasCacheWrite
	hasCacheRead
	has5m
	has1h
)

// anthropicUsage reads an Anthropic usage object; a repeated key counts
// from its last occurrence. A value that is not an object is read as no
// counts at all.
func (s *scanner) anthropicUsage() (a anthropicUsage) {
	if s.peek() != '{' {
		s.skip()
		return a
	}
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		key, escaped := s.key()
		switch {
		case rawIs(key, escaped, "input_tokens"):
			a.count(s, &a.input, hasInput)
		case rawIs(key, escaped, "output_tokens"):
			a.count(s, &a.output, hasOutput)
		case rawIs(key, escaped, "cache_creation_input_tokens"):
			a.count(s, &a.cacheWrite, hasCacheWrite)
		case rawIs(key, escaped, "cache_read_input_tokens"):
			a.count(s, &a.cacheRead, hasCacheRead)
		case rawIs(key, escaped, "cache_creation") && s.peek() == '{':
			s.open('{')
			for j := 0; s.more('}', j); j++ {
				key, escaped := s.key()
				switch {
				case rawIs(key, escaped, "ephemeral_5m_input_tokens"):
					a.count(s, &a.write5m, has5m)
				case rawIs(key, escaped, "ephemeral_1h_input_tokens"):
					a.count(s, &a.write1h, has1h)
				default:
					s.skip()
				}
			}
		default:
			s.skip()
		}
	}
	return a
}

func (a *anthropicUsage) count(s *scanner, v *int64, bit uint8) {
	switch state, n := s.count(); state {
	case countValid:
		*v, a.has = n, a.has|bit
	case countNull:
		*v, a.has = 0, a.has&^bit
	default:
		a.bad = true
	}
}

// usable reports whether the usage can be charged: both token counts
// present, and no count hostile.
func (a anthropicUsage) usable() bool {
	return !a.bad && a.has&(hasInput|hasOutput) == hasInput|hasOutput
}

// merge takes the counts later holds, each the larger of the two: the
// usage of a stream's message_delta is cumulative, so a count that went
// down is not believed (the operator pays the upstream's larger figure).
func (a *anthropicUsage) merge(later anthropicUsage) {
	for _, f := range [...]struct {
		v, w *int64
		bit  uint8
	}{
		{&a.input, &later.input, hasInput}, {&a.output, &later.output, hasOutput},
		{&a.cacheWrite, &later.cacheWrite, hasCacheWrite}, {&a.cacheRead, &later.cacheRead, hasCacheRead},
		{&a.write5m, &later.write5m, has5m}, {&a.write1h, &later.write1h, has1h},
	} {
		if later.has&f.bit != 0 {
			*f.v, a.has = max(*f.v, *f.w), a.has|f.bit
		}
	}
}

// meter returns the usage in paymeter's disjoint parts. The cache writes
// are cache_creation_input_tokens, of which the ephemeral_1h part is
// priced as hour-long writes and the rest as five-minute ones (all of them
// when there is no breakdown). A breakdown that does not add up is read in
// the operator's favour, never past what was reported: the writes are the
// larger of the total and the sum of the parts, and the 1h part stands.
func (a anthropicUsage) meter() meter.Usage {
	u := meter.Usage{InputTokens: a.input, CachedInputTokens: a.cacheRead, OutputTokens: a.output, CacheWriteTokens: a.cacheWrite}
	if a.has&(has5m|has1h) != 0 {
		total := max(a.cacheWrite, a.write5m+a.write1h)
		if a.write5m+a.write1h < 0 { // both huge: saturate
			total = 1<<63 - 1
		}
		u.CacheWrite1hTokens, u.CacheWriteTokens = a.write1h, total-a.write1h
	}
	return u
}

// parseMessagesAnswer is ParseResponse for an Anthropic Message: its
// top-level usage and model.
func parseMessagesAnswer(body []byte) (u meter.Usage, model []byte, ok bool) {
	s := scanner{data: body}
	if s.peek() != '{' {
		return meter.Usage{}, nil, false
	}
	var a anthropicUsage
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		switch {
		case rawIs(raw, escaped, "usage"):
			a = s.anthropicUsage()
		case rawIs(raw, escaped, "model"):
			model = s.modelName()
		default:
			s.skip()
		}
	}
	if !s.finish() || !a.usable() {
		return meter.Usage{}, nil, false
	}
	return a.meter(), model, true
}

// messagesStream is what a Messages stream reported so far.
type messagesStream struct {
	usage   anthropicUsage
	started bool // message_start gave the input counts
	// thinking is set once a thinking or redacted_thinking block started:
	// the stream then delivers less than the upstream bills (see Estimate).
	thinking bool
}

// observeMessages meters one Anthropic Messages stream event's data, by
// its "type": message_start gives the input counts (and the model),
// message_delta the cumulative output, which makes the usage final;
// content_block_start and content_block_delta carry the delivered text,
// thinking, redacted thinking's data and tool input JSON (a signature is
// not output text). Errors and pings count nothing.
func (m *StreamMeter) observeMessages(data []byte) {
	s := scanner{data: data}
	if s.peek() != '{' {
		return
	}
	var (
		typ       []byte
		a         anthropicUsage
		haveUsage bool
		delivered int64
		thinking  bool
		model     []byte
		tbuf      [32]byte
	)
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		switch {
		case rawIs(raw, escaped, "type"):
			typ = nil
			if s.peek() == '"' {
				raw, escaped := s.str()
				typ = keyName(raw, escaped, tbuf[:])
			} else {
				s.skip()
			}
		case rawIs(raw, escaped, "usage"): // message_delta
			a, haveUsage = s.anthropicUsage(), true
		case rawIs(raw, escaped, "message"): // message_start
			a, model, haveUsage = s.startedMessage()
		case rawIs(raw, escaped, "delta"), rawIs(raw, escaped, "content_block"):
			n, t := s.blockText()
			delivered, thinking = delivered+n, thinking || t
		default:
			s.skip()
		}
	}
	if !s.finish() {
		return
	}
	switch string(typ) {
	case "message_start":
		if m.model == nil && model != nil {
			m.model = append([]byte{}, model...)
		}
		if haveUsage && !a.bad && a.has&hasInput != 0 {
			m.messages.usage, m.messages.started = a, true
		}
	case "message_delta":
		if haveUsage && !a.bad && (a.has&hasOutput != 0) {
			m.messages.usage.merge(a)
			// Without message_start's input, the usage is final only if
			// message_delta reports the input too.
			if m.messages.usage.usable() {
				m.usage, m.haveUsage, m.usageEvent = m.messages.usage.meter(), true, true
			}
		}
	case "content_block_start", "content_block_delta":
		m.delivered += delivered
		m.messages.thinking = m.messages.thinking || thinking
	case "message_stop":
		m.done = true
	}
}

// startedMessage reads the message of a message_start event: its usage
// and model.
func (s *scanner) startedMessage() (a anthropicUsage, model []byte, haveUsage bool) {
	if s.peek() != '{' {
		s.skip()
		return a, nil, false
	}
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		switch {
		case rawIs(raw, escaped, "usage"):
			a, haveUsage = s.anthropicUsage(), true
		case rawIs(raw, escaped, "model"):
			model = s.modelName()
		default:
			s.skip()
		}
	}
	return a, model, haveUsage
}

// blockText reads a delta or a starting content block and returns the
// bytes of generated text it carries (its text, thinking, partial_json and
// a redacted_thinking block's data) and whether it is thinking: a
// thinking or redacted_thinking block, or a thinking_delta.
func (s *scanner) blockText() (n int64, thinking bool) {
	if s.peek() != '{' {
		s.skip()
		return 0, false
	}
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		switch {
		case rawIs(raw, escaped, "text"), rawIs(raw, escaped, "thinking"), rawIs(raw, escaped, "partial_json"),
			rawIs(raw, escaped, "data"):
			n += s.text()
		case rawIs(raw, escaped, "type") && s.peek() == '"':
			raw, escaped := s.str()
			thinking = thinking || rawIs(raw, escaped, "thinking") || rawIs(raw, escaped, "redacted_thinking") ||
				rawIs(raw, escaped, "thinking_delta")
		default:
			s.skip()
		}
	}
	return n, thinking
}

// Estimate is what the stream is charged when its usage never became
// final (the client left and the drain found none, or the upstream broke
// off): EstimateUsage, unless the stream already reported its input
// (a Messages stream's message_start), which is then charged as it is,
// with the output the larger of what was reported and the delivered text
// at four bytes a token, and at least one token.
//
// A Messages stream that started a thinking or redacted_thinking block is
// charged the request's whole output bound instead (OutputBound × N, what
// was held), or the above if larger: Claude 4 models bill the full
// thinking but stream only a summary of it, and redacted thinking comes
// encrypted, so the thinking actually billed is unknowable from what was
// delivered. A Responses stream that showed a reasoning item or a
// response.reasoning_* event is charged so too: OpenAI streams at most a
// summary of the reasoning it bills.
func (m *StreamMeter) Estimate(r RequestInfo, p meter.Price) meter.Usage {
	var u meter.Usage
	if m.messages.started {
		u = m.messages.usage.meter()
		u.OutputTokens = max(u.OutputTokens, (m.delivered+bytesPerToken-1)/bytesPerToken, 1)
	} else {
		u = EstimateUsage(r, p, m.delivered)
	}
	if m.messages.thinking || m.responses.reasoning {
		held := r.WorstCase(p, false).OutputTokens // OutputBound × N, saturated
		u.OutputTokens = max(u.OutputTokens, held)
	}
	return u
}

// messagesWithCost is WithCost for the Messages API: a whole Message's
// top-level usage, or the usage of a message_delta event, gets
// "paymeter_cost". Both sit where chat's do (the last top-level "usage" of
// the JSON object, read from the event's data lines joined as
// StreamMeter reads them), so chat's edits place it, dropping any
// paymeter_cost the upstream sent, so that the member is there once.
func messagesWithCost(data []byte, cost meter.Amount) []byte {
	return chatWithCost(data, cost)
}
