package upstream

import "github.com/paymeter/paymeter/internal/meter"

// messageList reads a Messages "messages" array: each message's content
// is a string or an array of content blocks; its other members (role)
// count by cost.
func (r *messagesScan) messageList() *meter.Error {
	s := &r.s
	if ok, err := r.array(`"messages" must be an array of objects`); !ok {
		return err
	}
	var buf [32]byte
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

// block reads one content block. The rule is structural, so that no member
// is ever free, whatever the upstream renders of it: the block counts the
// per-item allowance (the markup the upstream wraps a tool call, a result
// or a citation source in), its "type" its text, its "content" its blocks
// in turn, and every other member its cost (a string's text, anything
// else its raw JSON). Only a "source" is priced apart (see source): an
// image's or a document's data is priced at its kind's bound instead.
// A type paymeter does not price (server tool blocks among them) is
// refused, as is a block with no type, which the upstream could read as
// either kind. A block that names its type more than once is priced as
// each of them, whichever one the upstream reads.
func (r *messagesScan) block(at place) *meter.Error {
	s := &r.s
	var buf, tbuf [32]byte
	kinds := 0
	var src sourceCost
	r.info.PromptBytes += perItemAllowance
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
			r.info.PromptBytes += int64(len(typ))
		case string(name) == "source":
			if err := r.source(at, &src); err != nil {
				return err
			}
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
	// The data is text the upstream reads unless the block is an image or
	// a document whose source is not text: that one is priced at its
	// kind's bound (counting base64 bytes as tokens would hold a picture
	// at thousands of times its price).
	if kinds&(blockImage|blockDoc) == 0 || src.text {
		r.info.PromptBytes += src.data
	}
	return nil
}

// sourceCost is what a block's sources carry that their block prices: the
// cost of their "data", and whether a "type" said "text".
type sourceCost struct {
	data int64
	text bool
}

// source reads a block's "source". Its "data" goes into c, for the block
// to price; a "content" source's blocks are counted as they are read; every
// other member (type, media_type, url, file_id, one paymeter does not know)
// and a source that is not an object (a search_result's URL or name)
// counts its cost.
func (r *messagesScan) source(at place, c *sourceCost) *meter.Error {
	s := &r.s
	if s.peek() != '{' {
		r.info.PromptBytes += s.cost()
		return nil
	}
	var buf, tbuf [32]byte
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		name := keyName(raw, escaped, buf[:])
		switch {
		case string(name) == "type":
			if s.peek() != '"' {
				r.info.PromptBytes += s.cost()
				break
			}
			typ, _ := r.str(tbuf[:])
			c.text = c.text || string(typ) == "text"
			r.info.PromptBytes += int64(len(typ))
		case string(name) == "data":
			c.data += s.cost()
		case string(name) == "content":
			if err := r.blocks(at); err != nil {
				return err
			}
		case foldsTo(name, "type") || foldsTo(name, "data") || foldsTo(name, "content"):
			return memberError(at, "source."+string(name))
		default:
			r.info.PromptBytes += s.cost()
		}
	}
	return nil
}
