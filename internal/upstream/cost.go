package upstream

import (
	"bytes"

	"github.com/paymeter/paymeter/internal/meter"
)

// costField is the member WithCost adds to a usage object: the credits
// charged, as a decimal string (docs/design.md §2).
const costField = "paymeter_cost"

// chatWithCost is WithCost for chat, completions and embeddings: the cost
// goes into the top-level "usage" object (the last one, which is the one
// read) of a whole response body or of the chunk in an SSE event. Any
// paymeter_cost member already there (an upstream that is itself a
// paymeter, or one that spoofs it) is dropped, so that the member is there
// once and says what this proxy charged.
func chatWithCost(data []byte, cost meter.Amount) []byte {
	value := []byte(cost.String())
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte(bom)), " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		sp, ok := usageCostEdits(data, value)
		if !ok {
			return data
		}
		return sp.apply(data)
	}
	return eventWithCost(data, value)
}

// eventWithCost places the cost in the chunk an SSE event carries, keeping
// the event's framing: its other fields, its data lines and their line
// ends. The chunk is the event's data lines joined with "\n" (as
// StreamMeter reads it); each edit in it is mapped back to the line it
// falls in. An edit that would span lines is not made.
func eventWithCost(event []byte, value []byte) []byte {
	return eventCostEdits(event, value, usageCostEdits)
}

// eventCostEdits is eventWithCost with the edits to the chunk found by
// edits (the usage object sits elsewhere in another API's events).
func eventCostEdits(event, value []byte, edits func(doc, value []byte) (splice, bool)) []byte {
	var lines []span // the data lines' values, in event
	rest, at := event, 0
	if bytes.HasPrefix(rest, []byte(bom)) {
		rest, at = rest[len(bom):], len(bom)
	}
	for len(rest) > 0 {
		line, next := rest, len(rest)
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, next = rest[:i], i+1
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if v, ok := bytes.CutPrefix(line, []byte("data")); ok && (len(v) == 0 || v[0] == ':') {
			start := at + len(line) - len(v)
			if len(v) > 0 {
				start++
				if len(v) > 1 && v[1] == ' ' {
					start++
				}
			}
			lines = append(lines, span{start, at + len(line)})
		}
		rest, at = rest[next:], at+next
	}
	if len(lines) == 0 {
		return event
	}
	data := event[lines[0].at:lines[0].end]
	if len(lines) > 1 {
		joined := make([]byte, 0, len(event))
		for i, l := range lines {
			if i > 0 {
				joined = append(joined, '\n')
			}
			joined = append(joined, event[l.at:l.end]...)
		}
		data = joined
	}
	sp, ok := edits(data, value)
	if !ok {
		return event
	}
	// The edits are sorted and do not overlap, so their positions only
	// grow: one pass over the lines maps them all (an event of many lines
	// and many edits costs their sum, not their product).
	var c lineCursor
	for i := range sp.edits {
		e := &sp.edits[i]
		at, atLine := c.toEvent(lines, e.at)
		end, endLine := c.toEvent(lines, e.end)
		if atLine != endLine {
			return event
		}
		e.at, e.end = at, end
	}
	return sp.apply(event)
}

// lineCursor maps positions in the joined data of an event's data lines
// to positions in the event, for positions that never go down.
type lineCursor struct {
	line, off int // the line reached, and where it starts in the joined data
}

// toEvent maps p, no lower than the position mapped before, to its place
// in the event, and says which line it is in. A position at a line's end
// (the "\n" that joins it to the next) is in that line.
func (c *lineCursor) toEvent(lines []span, p int) (at, line int) {
	for ; c.line < len(lines); c.line++ {
		l := lines[c.line]
		if n := l.end - l.at; p <= c.off+n {
			return l.at + p - c.off, c.line
		}
		c.off += l.end - l.at + 1
	}
	c.line = len(lines) - 1 // past the end: the last line's end, and stay there
	c.off -= lines[c.line].end - lines[c.line].at + 1
	last := lines[c.line]
	return last.end, c.line
}

// usageCostEdits returns the edits that put "paymeter_cost":value into the
// last top-level "usage" member of the JSON object doc, after the usage's
// last member, dropping any paymeter_cost member it has. ok is false when
// doc is not a valid JSON object or its last usage is not an object.
func usageCostEdits(doc, value []byte) (sp splice, ok bool) {
	s := scanner{data: doc}
	if s.peek() != '{' {
		return splice{}, false
	}
	var usage span
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		if s.keyIs("usage") {
			usage.at = s.peekPos()
			s.skip()
			usage.end = s.pos
		} else {
			s.skip()
		}
	}
	if !s.finish() || usage.end == 0 || doc[usage.at] != '{' {
		return splice{}, false
	}
	return costEdits(doc, usage.at, value), true
}

// costEdits returns the edits to the valid JSON object at doc[at:] that
// drop its paymeter_cost members and add the cost as its last member (or
// only drop them, when value is nil).
func costEdits(doc []byte, at int, value []byte) splice {
	type member struct {
		key, end int // where the key starts and the value ends
		cost     bool
	}
	var members []member
	s := scanner{data: doc, pos: at}
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		key := s.peekPos()
		cost := s.keyIs(costField)
		s.skip()
		members = append(members, member{key: key, end: s.pos, cost: cost})
	}
	// The insertion is the first edit: a deletion may start where it goes,
	// and the edits at one place apply in the order they were added.
	sp := splice{edits: make([]edit, 1, 2)}
	insert, first, kept := at+1, -1, 0
	for i, m := range members {
		switch {
		case !m.cost:
			if first < 0 {
				first = i
				if i > 0 { // the dropped members before it, and their commas
					sp.add(members[0].key, m.key, false, "")
				}
			}
			kept++
			insert = m.end
		case first >= 0: // from the end of the member before it
			sp.add(members[i-1].end, m.end, false, "")
		}
	}
	if kept == 0 && len(members) > 0 {
		sp.add(members[0].key, members[len(members)-1].end, false, "")
	}
	sp.edits[0] = edit{at: insert, end: insert, comma: kept > 0, text: `"` + costField + `":"` + string(value) + `"`}
	if value == nil {
		sp.edits = sp.edits[1:]
	}
	sp.sort()
	return sp
}
