package upstream

import (
	"bytes"
	"errors"
	"io"

	"github.com/paymeter/paymeter/internal/meter"
)

// DefaultMaxEvent is the event size limit NewEventReader uses when it is
// given a limit that is not positive.
const DefaultMaxEvent = 1 << 20

// ErrEventTooLarge is returned by EventReader.Next for an event longer than
// the reader's limit.
var ErrEventTooLarge = errors.New("upstream: SSE event too large")

// EventReader splits a text/event-stream into whole events so that each can
// be written and flushed as it arrives.
//
// Lines end with LF or CRLF; a lone CR, which the SSE specification also
// allows, does not end a line (no OpenAI-compatible server sends one, and
// honouring it would make a CR at the end of one read ambiguous).
type EventReader struct {
	r   io.Reader
	max int
	buf []byte
	// buf[start:end] is read but not yet returned; the search for the
	// blank line that ends an event resumes at scan.
	start, end, scan int
	err              error // from r, returned once buf is drained
	fatal            error // returned by every later call
}

// NewEventReader returns a reader of the events in r that fails with
// ErrEventTooLarge on an event longer than maxEvent bytes.
func NewEventReader(r io.Reader, maxEvent int) *EventReader {
	if maxEvent <= 0 {
		maxEvent = DefaultMaxEvent
	}
	return &EventReader{r: r, max: maxEvent}
}

// Next returns the next event's raw bytes, including the blank line that
// ends it (LF or CRLF line endings), valid until the next call. At the end
// of the stream it returns any trailing partial event with a nil error
// first, then io.EOF. An event larger than maxEvent returns
// ErrEventTooLarge. Any other read error is returned once the whole events
// read before it have been; a partial event before it is dropped.
func (r *EventReader) Next() ([]byte, error) {
	for r.fatal == nil {
		if ev, ok := r.cut(); ok {
			if len(ev) > r.max {
				r.fatal = ErrEventTooLarge
				break
			}
			return ev, nil
		}
		// The event still growing is already too large, however it ends.
		if r.end-r.start > r.max {
			r.fatal = ErrEventTooLarge
			break
		}
		switch {
		case errors.Is(r.err, io.EOF) && r.end > r.start:
			ev := r.buf[r.start:r.end]
			r.start, r.scan = r.end, r.end
			return ev, nil
		case r.err != nil:
			r.fatal = r.err
		default:
			r.fill()
		}
	}
	return nil, r.fatal
}

// cut returns the next whole event in the buffer, if there is one.
func (r *EventReader) cut() ([]byte, bool) {
	for r.scan < r.end {
		i := bytes.IndexByte(r.buf[r.scan:r.end], '\n')
		if i < 0 {
			r.scan = r.end
			return nil, false
		}
		i += r.scan
		r.scan = i + 1
		// The line ending at i is blank if it is empty or just "\r".
		j := i
		if j > r.start && r.buf[j-1] == '\r' {
			j--
		}
		if j == r.start || r.buf[j-1] == '\n' {
			ev := r.buf[r.start : i+1]
			r.start = i + 1
			return ev, true
		}
	}
	return nil, false
}

// fill reads more of the stream into the buffer, moving the unreturned
// bytes to its front first (which is why an event is valid only until the
// next call).
func (r *EventReader) fill() {
	if r.start > 0 {
		copy(r.buf, r.buf[r.start:r.end])
		r.end -= r.start
		r.scan -= r.start
		r.start = 0
	}
	if r.end == len(r.buf) {
		size := max(2*len(r.buf), 4096)
		if size > r.max {
			// One byte past the limit tells that an event is too large.
			size = r.max + 1
		}
		buf := make([]byte, size)
		copy(buf, r.buf[:r.end])
		r.buf = buf
	}
	for range 100 {
		n, err := r.r.Read(r.buf[r.end:])
		r.end += n
		if err != nil {
			r.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	r.err = io.ErrNoProgress
}

// StreamMeter learns from the events of an OpenAI streaming response what
// was delivered and what it cost. The zero value is ready to use.
type StreamMeter struct {
	// API is the format of the stream's events; the zero value is chat
	// (and completions, whose chunks are read the same way).
	API API

	usage     meter.Usage
	haveUsage bool
	delivered int64
	done      bool
	// usageEvent says the last event observed carried the usage that
	// stands: where the cost goes in band (WithCost).
	usageEvent bool
	usageOnly  bool   // and no choices (UsageOnly)
	data       []byte // joins multi-line data
	model      []byte // the model the first chunk that names one names

	// messages is a Messages stream's counts so far (messages_usage.go).
	messages messagesStream
	// responses is what a Responses stream showed (responses_answer.go).
	responses responsesStream
}

// Observe reads one event, as returned by EventReader.Next. Its "data:"
// lines are joined as the SSE specification says; "[DONE]" marks the end
// of the stream, and any other data is read as a JSON chunk: a non-null,
// usable usage object records the usage (the last one wins), and the
// decoded bytes of choices[].delta.content, choices[].delta.reasoning_content,
// choices[].text and the arguments of tool and function calls count as
// delivered. A chunk that is not valid JSON counts nothing.
func (m *StreamMeter) Observe(event []byte) {
	m.usageEvent = false
	data, ok := m.eventData(event)
	if !ok {
		return
	}
	switch m.API {
	case APIResponses:
		m.observeResponses(data)
	case APIMessages:
		m.observeMessages(data)
	default:
		m.observeChat(data)
	}
}

// UsageEvent reports whether the event last observed carried the usage
// Usage now returns: the event to rewrite WithCost.
func (m *StreamMeter) UsageEvent() bool { return m.usageEvent }

// observeChat reads a chat or completions chunk.
func (m *StreamMeter) observeChat(data []byte) {
	if string(bytes.TrimSpace(data)) == "[DONE]" {
		m.done = true
		return
	}
	s := scanner{data: data}
	if s.peek() != '{' {
		return
	}
	var (
		u          meter.Usage
		haveUsage  bool
		delivered  int64
		hasChoices bool
	)
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		switch {
		case rawIs(raw, escaped, "usage"):
			// As in ParseUsage: the last usage member decides.
			u, haveUsage = s.usage()
		case rawIs(raw, escaped, "choices"):
			hasChoices = s.nonEmptyArray()
			delivered += s.choices()
		case m.model == nil && rawIs(raw, escaped, "model"):
			if name := s.modelName(); name != nil {
				m.model = append([]byte{}, name...)
			}
		default:
			s.skip()
		}
	}
	if !s.finish() {
		return
	}
	m.delivered += delivered
	if haveUsage {
		m.usage, m.haveUsage, m.usageEvent = u, true, true
		m.usageOnly = !hasChoices
	}
}

// UsageOnly reports whether the event last observed carried usage and no
// choices: a chunk that only reports usage, which a client that did not
// ask for usage need not get. One that carries choices too (content, a
// finish_reason) must be passed on.
func (m *StreamMeter) UsageOnly() bool { return m.usageEvent && m.usageOnly }

// nonEmptyArray reports, without consuming it, whether the next value is
// an array with an element.
func (s *scanner) nonEmptyArray() bool {
	if s.peek() != '[' {
		return false
	}
	probe := scanner{data: s.data, pos: s.pos + 1}
	return probe.peek() != ']'
}

// Usage returns the usage of the last chunk that reported it.
func (m *StreamMeter) Usage() (meter.Usage, bool) { return m.usage, m.haveUsage }

// DeliveredBytes returns the bytes of generated text the chunks carried.
func (m *StreamMeter) DeliveredBytes() int64 { return m.delivered }

// Model returns the model the stream's first chunk naming one named; nil
// if none did.
func (m *StreamMeter) Model() []byte { return m.model }

// Done reports whether the "[DONE]" event was seen.
func (m *StreamMeter) Done() bool { return m.done }

// bom may start a stream; the SSE specification says to ignore it.
const bom = "\xef\xbb\xbf"

// eventData returns the event's data field, the values of its "data" lines
// joined with "\n", and whether it had any.
func (m *StreamMeter) eventData(event []byte) ([]byte, bool) {
	event = bytes.TrimPrefix(event, []byte(bom))
	var data []byte
	lines := 0
	for len(event) > 0 {
		line := event
		if i := bytes.IndexByte(event, '\n'); i >= 0 {
			line, event = event[:i], event[i+1:]
		} else {
			event = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		value, ok := bytes.CutPrefix(line, []byte("data"))
		if !ok || len(value) > 0 && value[0] != ':' {
			continue // another field, or a comment
		}
		if len(value) > 0 {
			value = value[1:]
			value = bytes.TrimPrefix(value, []byte(" "))
		}
		switch lines++; lines {
		case 1:
			data = value
		case 2:
			m.data = append(append(append(m.data[:0], data...), '\n'), value...)
			data = m.data
		default:
			m.data = append(append(m.data, '\n'), value...)
			data = m.data
		}
	}
	return data, lines > 0
}

// choices reads a chunk's "choices" and returns the text bytes they carry.
func (s *scanner) choices() int64 { return s.objects(inChoice) }

// Where in a chunk an object sits, which decides which of its members
// carry delivered text. (A switch rather than a func per level: a func
// value would make the scanner escape to the heap on every chunk.)
const (
	inChoice = iota
	inDelta
	inToolCall
	inFunction
)

// objects reads an object, or an array of them, and returns the text bytes
// their members carry. Any other value counts nothing.
func (s *scanner) objects(in int) int64 {
	var n int64
	switch s.peek() {
	case '[':
		s.open('[')
		for i := 0; s.more(']', i); i++ {
			n += s.objects(in)
		}
	case '{':
		s.open('{')
		for i := 0; s.more('}', i); i++ {
			key, escaped := s.key()
			n += s.chunkMember(in, key, escaped)
		}
	default:
		s.skip()
	}
	return n
}

func (s *scanner) chunkMember(in int, key []byte, escaped bool) int64 {
	switch in {
	case inChoice:
		switch {
		case rawIs(key, escaped, "delta"):
			return s.objects(inDelta)
		case rawIs(key, escaped, "text"): // completions
			return s.text()
		}
	case inDelta:
		switch {
		case rawIs(key, escaped, "content"), rawIs(key, escaped, "reasoning_content"):
			return s.text()
		case rawIs(key, escaped, "tool_calls"):
			return s.objects(inToolCall)
		case rawIs(key, escaped, "function_call"): // before tool_calls
			return s.objects(inFunction)
		}
	case inToolCall:
		if rawIs(key, escaped, "function") {
			return s.objects(inFunction)
		}
	case inFunction:
		if rawIs(key, escaped, "arguments") {
			return s.text()
		}
	}
	s.skip()
	return 0
}
