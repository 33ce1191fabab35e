package upstream

import "github.com/paymeter/paymeter/internal/meter"

// How a Responses API input item is priced, by its "type".
const (
	itemText      = iota // its text and JSON count by bytes, content and output as parts
	itemHidden           // it stands for input the upstream keeps (item_reference, compaction)
	itemNotPriced        // a built-in tool's call or output, or a type paymeter does not know
)

// itemKind returns how an input item of type typ is priced. Items of the
// built-in tools (web search, file search, computer use, code
// interpreter, image generation, shell, MCP…) can only come from tools
// this route refuses, and may carry screenshots and generated images:
// they are not priced.
func itemKind(typ []byte) int {
	switch string(typ) {
	case "message", "function_call", "function_call_output", "custom_tool_call",
		"custom_tool_call_output", "reasoning":
		return itemText
	case "item_reference", "compaction":
		return itemHidden
	}
	return itemNotPriced
}

// inputItem reads one item of a Responses "input" array. Every member
// counts by cost, but "content" and "output" (a message's content, a tool
// call's output), which are a string or an array of content parts read as
// chat's are, and media members, priced by kind. A type is known only once
// the whole item is read, since members come in any order; an item with
// no type is a message. A repeated "type", or a key another decoder would
// take for type, content or output, is refused.
func (r *requestScan) inputItem(at place) *meter.Error {
	s := &r.s
	var buf, tbuf [32]byte
	kind, typ := itemText, "" // an item with no type is a message
	typed, encrypted := false, false
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		name := keyName(raw, escaped, buf[:])
		switch {
		case string(name) == "type":
			if typed {
				return ambiguous(at.String()+".type", "%s has more than one \"type\"", at.String())
			}
			typed = true
			v, ok := r.str(tbuf[:])
			if !ok {
				return r.invalidAfter(at.String() + " has a \"type\" that is not a string")
			}
			if kind = itemKind(v); kind == itemNotPriced {
				typ = string(v)
			}
		case string(name) == "content" || string(name) == "output":
			if err := r.content(at); err != nil {
				return err
			}
		case string(name) == "encrypted_content":
			// A reasoning item's own reasoning, which the upstream
			// decrypts into input tokens no byte count here bounds.
			encrypted = s.peek() == '"'
			r.info.PromptBytes += s.cost()
		case string(name) == "audio" || mediaKind(name) != 0:
			if s.peek() == 'n' {
				s.lit("null")
				break
			}
			s.skip()
			k := mediaKind(name)
			if k == 0 {
				k = kindAudio
			}
			r.addPart(k, at)
		case foldsTo(name, "type") || foldsTo(name, "content") || foldsTo(name, "output") ||
			foldsTo(name, "encrypted_content") || foldsTo(name, "audio") || foldsMedia(name):
			return memberError(at, string(name))
		default:
			r.info.PromptBytes += s.cost()
		}
	}
	if s.bad {
		return badRequest(msgInvalidJSON)
	}
	switch {
	case kind == itemHidden, encrypted:
		r.info.HiddenInput = true
	case kind == itemNotPriced:
		return meter.Errorf(meter.ECodeContentNotPriced, "input item %s has type %q, which this proxy does not price", at.String(), typ).
			WithDetail("part", at.String()).WithDetail("type", typ)
	}
	return nil
}

// invalidAfter is the error for a value already read that has the wrong
// type: msg, unless the body is not even valid JSON.
func (r *requestScan) invalidAfter(msg string) *meter.Error {
	if r.s.bad {
		return badRequest(msgInvalidJSON)
	}
	return badRequest(msg)
}

// responsesTools reads "tools": each counts its JSON length, as chat's
// tools do, and must be a "function" or "custom" tool. The built-in tools
// (web_search, file_search, code_interpreter, image_generation, computer
// use, mcp, shell…) bill per call or per container, outside the tokens
// the price table prices.
func (r *requestScan) responsesTools() *meter.Error {
	s := &r.s
	switch s.peek() {
	case 'n':
		s.lit("null")
		return nil
	case '[':
	default:
		return r.invalid(`"tools" must be an array of objects`)
	}
	start, seps := s.pos, s.seps
	s.open('[')
	for i := 0; s.more(']', i); i++ {
		if s.peek() != '{' {
			s.skip()
			continue
		}
		if err := r.toolType(place{"tools", i, -1}.String(), "function", "custom"); err != nil {
			return err
		}
	}
	r.info.PromptBytes += int64(s.pos - start + s.seps - seps)
	return nil
}

// responsesToolChoice reads "tool_choice": a mode string, or an object
// that picks a function or custom tool, or narrows to allowed_tools
// (which can only name tools of "tools", all of them function or custom).
// Any other choice names a built-in tool.
func (r *requestScan) responsesToolChoice() *meter.Error {
	s := &r.s
	if s.peek() != '{' {
		r.info.PromptBytes += s.cost()
		return nil
	}
	start, seps := s.pos, s.seps
	if err := r.toolType("tool_choice", "function", "custom", "allowed_tools"); err != nil {
		return err
	}
	r.info.PromptBytes += int64(s.pos - start + s.seps - seps)
	return nil
}

// toolType reads a tool object, or a tool choice, at where and refuses it
// unless its "type" is one of allowed. Its type must appear once and be
// spelled exactly: an upstream may read another spelling, or another copy.
func (r *requestScan) toolType(where string, allowed ...string) *meter.Error {
	s := &r.s
	var buf, tbuf [32]byte
	typed := false
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		name := keyName(raw, escaped, buf[:])
		switch {
		case string(name) == "type":
			if typed {
				return ambiguous(where+".type", "%s has more than one \"type\"", where)
			}
			typed = true
			v, ok := r.str(tbuf[:])
			if !ok {
				return r.invalidAfter(where + " has a \"type\" that is not a string")
			}
			if !oneOf(v, allowed) {
				return unsupported(where, "%s has type %q: only function and custom tools are priced; built-in tools bill per call", where, string(v))
			}
		case foldsTo(name, "type"):
			return ambiguous(where+"."+string(name), "%q in %s is not a field name spelled exactly", string(name), where)
		default:
			s.skip()
		}
	}
	return nil
}

func oneOf(v []byte, set []string) bool {
	for _, x := range set {
		if string(v) == x {
			return true
		}
	}
	return false
}
