package upstream

import "github.com/paymeter/paymeter/internal/meter"

// messageList reads a Messages "messages" array: each message's content
// is a string or an array of content blocks; its other members (role)
// count by cost.
func (r *messagesScan) messageList() *meter.Error {
	s := &r.s
	switch s.peek() {
	case 'n':
		s.lit("null")
		return nil
	case '[':
	default:
		return r.invalid(`"messages" must be an array of objects`)
	}
	var buf [32]byte
	s.open('[')
	for i := 0; s.more(']', i); i++ {
		if s.peek() != '{' {
			return r.invalid(`"messages" must be an array of objects`)
		}
		r.info.Messages++
		at := place{"messages", i, -1}
		s.open('{')
		for j := 0; s.more('}', j); j++ {
			raw, escaped := s.key()
			name := keyName(raw, escaped, buf[:])
			switch {
			case string(name) == "content":
				if err := r.blocks(at); err != nil {
					return err
				}
			case foldsTo(name, "content"):
				return memberError(at, string(name))
			default:
				r.info.PromptBytes += s.cost()
			}
		}
	}
	return nil
}

// system reads "system": a string, or an array of text blocks.
func (r *messagesScan) system() *meter.Error {
	s := &r.s
	switch s.peek() {
	case 'n':
		s.lit("null")
		return nil
	case '"', '[':
	default:
		return r.invalid(`"system" must be a string or an array of text blocks`)
	}
	r.info.Messages++
	return r.blocks(place{"system", 0, -1})
}

// blocks reads a content value: a string (its text), or an array of
// content blocks, each named in an error as a part of at (at.list itself
// for "system").
func (r *messagesScan) blocks(at place) *meter.Error {
	s := &r.s
	if s.peek() != '[' {
		r.info.PromptBytes += s.cost()
		return nil
	}
	s.open('[')
	for i := 0; s.more(']', i); i++ {
		if s.peek() != '{' {
			r.info.PromptBytes += s.cost()
			continue
		}
		b := at
		if at.list == "system" {
			b.item = i
		} else if at.part < 0 {
			b.part = i
		}
		if err := r.block(b); err != nil {
			return err
		}
	}
	return nil
}

// Content block kinds, by what they cost.
const (
	blockText    = 1 << iota // text, tool_use, tool_result, thinking, redacted_thinking, search_result: their JSON
	blockImage               // priced at MaxImageTokens
	blockDoc                 // priced at MaxFileTokens, and by its text
	blockUnknown = 0
)

func blockKind(typ []byte) int {
	switch string(typ) {
	case "text", "tool_use", "tool_result", "thinking", "redacted_thinking", "search_result":
		return blockText
	case "image":
		return blockImage
	case "document":
		return blockDoc
	}
	return blockUnknown
}

// block reads one content block. Every member counts by cost but its
// "type", its "source" (an image or a document: priced by its kind's
// bound, and a text document by its text) and its "content" (the blocks
// of a tool_result or search_result, read in turn). A type paymeter does
// not price (server tool blocks among them) is refused, as is a block with
// no type, which the upstream could read as either kind. A block that
// names its type more than once is priced as each of them, whichever one
// the upstream reads.
func (r *messagesScan) block(at place) *meter.Error {
	s := &r.s
	var buf, tbuf [32]byte
	kinds := 0
	var source int64 // the text of a text source
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		name := keyName(raw, escaped, buf[:])
		switch {
		case string(name) == "type":
			typ, ok := r.str(tbuf[:])
			if !ok {
				return badRequest("content block " + at.String() + ` has a "type" that is not a string`)
			}
			k := blockKind(typ)
			if k == blockUnknown {
				return unknownPart(at, string(typ))
			}
			kinds |= k
		case string(name) == "source":
			n, err := r.source(at)
			if err != nil {
				return err
			}
			source += n
		case string(name) == "content":
			if err := r.blocks(at); err != nil {
				return err
			}
		case foldsTo(name, "type") || foldsTo(name, "source") || foldsTo(name, "content"):
			return memberError(at, string(name))
		default:
			r.info.PromptBytes += s.cost()
		}
	}
	if s.bad {
		return badRequest(msgInvalidJSON)
	}
	if kinds == blockUnknown {
		return badRequest("content block " + at.String() + ` must have a "type"`)
	}
	if kinds&blockImage != 0 {
		r.addPart(kindImage, at)
	}
	if kinds&blockDoc != 0 {
		r.addPart(kindFile, at)
	}
	r.info.PromptBytes += source
	return nil
}

// source reads an image's or document's source and returns the text it
// carries: the data of a "text" source; a "content" source's blocks are
// counted as they are read. Base64, URL and file sources carry no text
// paymeter counts: their block is priced at its kind's bound.
func (r *messagesScan) source(at place) (int64, *meter.Error) {
	s := &r.s
	if s.peek() != '{' {
		s.skip()
		return 0, nil
	}
	var buf, tbuf [32]byte
	var text bool // a "type" said "text"
	var data int64
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		name := keyName(raw, escaped, buf[:])
		switch {
		case string(name) == "type":
			typ, _ := r.str(tbuf[:])
			text = text || string(typ) == "text"
		case string(name) == "data":
			data += s.text()
		case string(name) == "content":
			if err := r.blocks(at); err != nil {
				return 0, err
			}
		case foldsTo(name, "type") || foldsTo(name, "data") || foldsTo(name, "content"):
			return 0, memberError(at, "source."+string(name))
		default:
			s.skip()
		}
	}
	if text {
		return data, nil
	}
	return 0, nil
}
