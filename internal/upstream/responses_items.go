package upstream

import (
	"strconv"

	"github.com/paymeter/paymeter/internal/meter"
)

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
// the whole item is read, since members come in any order. A repeated
// "type", or a key another decoder would take for type, id, role,
// content or output, is refused.
//
// An item names input the upstream keeps, and makes the request
// HiddenInput (docs/design.md §2a), when it is an item_reference or a
// compaction item, carries a reasoning item's encrypted_content, or is a
// reasoning item with an "id": with store (the default) the upstream
// rehydrates that reasoning from its store and bills it as input. An item
// with no "type" and an "id" is an item reference too (its type is
// optional in the API), even when it also has a role and content: only
// a typeless item with neither is read as a message, and one that has no
// id must have both a role and content. An output message, a function or
// custom tool call and a tool's output carry their whole content: their
// id only names them.
func (r *requestScan) inputItem(at place) *meter.Error {
	s := &r.s
	var buf, tbuf [32]byte
	var it itemSeen
	kind, typ := itemText, "" // an item with no type is a message or a reference
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		name := keyName(raw, escaped, buf[:])
		switch {
		case string(name) == "type":
			if it.typed {
				return ambiguous(at.String()+".type", "%s has more than one \"type\"", at.String())
			}
			it.typed = true
			v, ok := r.str(tbuf[:])
			if !ok {
				return r.invalidAfter(at.String() + " has a \"type\" that is not a string")
			}
			it.reasoning = string(v) == "reasoning"
			if kind = itemKind(v); kind == itemNotPriced {
				typ = string(v)
			}
		case string(name) == "content" || string(name) == "output":
			it.content = it.content || string(name) == "content" && s.peek() != 'n'
			if err := r.content(at); err != nil {
				return err
			}
		case string(name) == "id" || string(name) == "role":
			if s.peek() != 'n' {
				it.id, it.role = it.id || string(name) == "id", it.role || string(name) == "role"
			}
			r.info.PromptBytes += s.cost()
		case string(name) == "encrypted_content":
			// A reasoning item's own reasoning, which the upstream
			// decrypts into input tokens no byte count here bounds.
			it.encrypted = it.encrypted || s.peek() == '"'
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
			foldsTo(name, "encrypted_content") || foldsTo(name, "audio") || foldsMedia(name) ||
			foldsTo(name, "id") || foldsTo(name, "role"):
			return memberError(at, string(name))
		default:
			r.info.PromptBytes += s.cost()
		}
	}
	if s.bad {
		return badRequest(msgInvalidJSON)
	}
	return r.itemVerdict(at, kind, typ, it)
}

// itemSeen is what inputItem learnt of an item's members.
type itemSeen struct {
	typed, reasoning, encrypted bool
	id, role, content           bool // present and not null
}

// itemVerdict refuses an item paymeter does not price, whatever else it
// carries, and marks the request HiddenInput for one that names stored
// input (see inputItem).
func (r *requestScan) itemVerdict(at place, kind int, typ string, it itemSeen) *meter.Error {
	switch {
	case kind == itemNotPriced:
		return meter.Errorf(meter.ECodeContentNotPriced, "input item %s has type %q, which this proxy does not price", at.String(), typ).
			WithDetail("part", at.String()).WithDetail("type", typ)
	case kind == itemHidden, it.encrypted, it.reasoning && it.id, !it.typed && it.id:
		r.info.HiddenInput = true
	case !it.typed && !(it.role && it.content):
		return badRequest(at.String() + ` has no "type", and is neither a message (a "role" and "content") nor an item reference (an "id")`)
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
	if err := r.toolList(toolAt{list: "tools"}); err != nil {
		return err
	}
	r.info.PromptBytes += int64(s.pos - start + s.seps - seps)
	return nil
}

// toolList reads an array of tools at where (an array, or null and
// anything else, which the upstream refuses), each a function or custom
// tool.
func (r *requestScan) toolList(where toolAt) *meter.Error {
	s := &r.s
	if s.peek() != '[' {
		s.skip()
		return nil
	}
	s.open('[')
	for i := 0; s.more(']', i); i++ {
		if s.peek() != '{' {
			s.skip()
			continue
		}
		where.item = i
		if err := r.toolType(where, "function", "custom"); err != nil {
			return err
		}
	}
	return nil
}

// responsesToolChoice reads "tool_choice": a mode string, or an object
// that picks a function or custom tool, or narrows to allowed_tools,
// whose own "tools" list must name function and custom tools only, as
// "tools" must (the upstream is not relied on to check that they are
// among "tools"). Any other choice names a built-in tool.
func (r *requestScan) responsesToolChoice() *meter.Error {
	s := &r.s
	if s.peek() != '{' {
		r.info.PromptBytes += s.cost()
		return nil
	}
	start, seps := s.pos, s.seps
	if err := r.toolType(toolAt{list: "tool_choice", item: -1, choice: true}, "function", "custom", "allowed_tools"); err != nil {
		return err
	}
	r.info.PromptBytes += int64(s.pos - start + s.seps - seps)
	return nil
}

// toolAt is where a tool object is: list[item], or list itself when item
// is negative. A tool choice (choice) may list tools of its own. Its name
// is only built for an error, not for every tool of every request.
type toolAt struct {
	list   string
	item   int
	choice bool
}

func (w toolAt) String() string {
	if w.item < 0 {
		return w.list
	}
	return w.list + "[" + strconv.Itoa(w.item) + "]"
}

// toolType reads a tool object, or a tool choice, at where and refuses it
// unless its "type" is one of allowed. Its type must appear once and be
// spelled exactly: an upstream may read another spelling, or another copy.
// A tool choice's "tools" are read by toolList.
func (r *requestScan) toolType(where toolAt, allowed ...string) *meter.Error {
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
				return ambiguous(where.String()+".type", "%s has more than one \"type\"", where.String())
			}
			typed = true
			v, ok := r.str(tbuf[:])
			if !ok {
				return r.invalidAfter(where.String() + " has a \"type\" that is not a string")
			}
			if !oneOf(v, allowed) {
				return unsupported(where.String(), "%s has type %q: only function and custom tools are priced; built-in tools bill per call", where.String(), string(v))
			}
		case where.choice && string(name) == "tools":
			if err := r.toolList(toolAt{list: where.list + ".tools"}); err != nil {
				return err
			}
		case foldsTo(name, "type") || where.choice && foldsTo(name, "tools"):
			return ambiguous(where.String()+"."+string(name), "%q in %s is not a field name spelled exactly", string(name), where.String())
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
