package upstream

import (
	"strconv"

	"github.com/paymeter/paymeter/internal/meter"
)

// messages reads a chat "messages" array.
func (r *requestScan) messages() *meter.Error {
	s := &r.s
	if ok, err := r.array(`"messages" must be an array of objects`); !ok {
		return err
	}
	for i := 0; s.more(']', i); i++ {
		if s.peek() != '{' {
			return r.invalid(`"messages" must be an array of objects`)
		}
		r.info.Messages++
		if err := r.message(place{"messages", i, -1}); err != nil {
			return err
		}
	}
	return nil
}

// prompt reads a completions "prompt" or an embeddings "input": a string,
// or an array of strings, token ids or arrays of token ids. Each string
// and each token array is one item, and a run of bare token ids is one
// more. Objects in the array are read as messages, which is what the
// Responses API's input items are.
func (r *requestScan) prompt(name, msg string) *meter.Error {
	s := &r.s
	switch s.peek() {
	case 'n':
		s.lit("null")
		return nil
	case '"':
		r.info.Messages++
		r.info.PromptBytes += s.text()
		return nil
	case '[':
	default:
		return r.invalid(msg)
	}
	tokens := false
	s.open('[')
	for i := 0; s.more(']', i); i++ {
		switch c := s.peek(); {
		case c == '-' || isDigit(c):
			s.num()
			tokens = true
			r.info.PromptBytes++
		case c == '[':
			r.info.Messages++
			r.info.PromptBytes += s.tokens()
		case c == '{':
			r.info.Messages++
			if err := r.message(place{name, i, -1}); err != nil {
				return err
			}
		default:
			r.info.Messages++
			r.info.PromptBytes += s.cost()
		}
	}
	if tokens {
		r.info.Messages++
	}
	return nil
}

// tokens reads an array of token ids, counting 1 per id.
func (s *scanner) tokens() int64 {
	var n int64
	s.open('[')
	for i := 0; s.more(']', i); i++ {
		if c := s.peek(); c == '-' || isDigit(c) {
			s.num()
			n++
		} else {
			n += s.cost()
		}
	}
	return n
}

// place is where a message or content part sits, for naming it in an
// error: list[item] or list[item].content[part].
type place struct {
	list       string
	item, part int
}

func (p place) String() string {
	s := p.list + "[" + strconv.Itoa(p.item) + "]"
	if p.part >= 0 {
		s += ".content[" + strconv.Itoa(p.part) + "]"
	}
	return s
}

// message reads one chat message. Its content is read part by part; every
// other member counts by cost, but for "audio", a reference to an earlier
// audio answer, which the upstream bills as audio input. A key another
// decoder would take for one of those two is refused.
func (r *requestScan) message(at place) *meter.Error {
	s := &r.s
	var buf [32]byte
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		name := keyName(raw, escaped, buf[:])
		switch {
		case string(name) == "content":
			if err := r.content(at); err != nil {
				return err
			}
		case string(name) == "audio" || mediaKind(name) != 0:
			// An image, clip or file straight in an input item (the
			// Responses API's shape) is priced as a content part.
			if s.peek() == 'n' {
				s.lit("null")
				break
			}
			s.skip()
			k := mediaKind(name)
			if k == 0 { // "audio", a reference to an earlier audio answer
				k = kindAudio
			}
			r.addPart(k, at)
		case foldsTo(name, "content") || foldsTo(name, "audio") || foldsMedia(name):
			return memberError(at, string(name))
		default:
			r.info.PromptBytes += s.cost()
		}
	}
	return nil
}

// content reads a message's content: a string, or an array of parts.
func (r *requestScan) content(at place) *meter.Error {
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
		at.part = i
		if err := r.part(at); err != nil {
			return err
		}
	}
	return nil
}

// Kinds of content part.
const (
	kindText = 1 << iota
	kindImage
	kindAudio
	kindFile
	kindUnknown
)

// partKind returns the kind a part's "type" names.
func partKind(typ []byte) int {
	switch string(typ) {
	case "text", "refusal", "input_text", "output_text", "reasoning_text": // reasoning_text: a Responses reasoning item's content
		return kindText
	case "image_url", "input_image":
		return kindImage
	case "input_audio":
		return kindAudio
	case "file", "input_file":
		return kindFile
	}
	return kindUnknown
}

// mediaKind returns the kind of media a member named name carries, or 0.
func mediaKind(name []byte) int {
	if k := partKind(name); k == kindImage || k == kindAudio || k == kindFile {
		return k
	}
	return 0
}

// foldsMedia reports whether name is another spelling of a media member.
func foldsMedia(name []byte) bool {
	for _, m := range [...]string{"image_url", "input_image", "input_audio", "file", "input_file"} {
		if foldsTo(name, m) {
			return true
		}
	}
	return false
}

// part reads one content part. Text members count by cost, as does every
// member but "type" and the media a non-text part carries: an image,
// audio clip or file is priced by its kind's bound, whatever its bytes.
// A part's kinds are those its type names and those of the media members
// it holds, so that an upstream that reads the member rather than the type
// is covered too; a type paymeter does not know is refused.
func (r *requestScan) part(at place) *meter.Error {
	s := &r.s
	var buf, tbuf [32]byte
	kinds := 0
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		raw, escaped := s.key()
		name := keyName(raw, escaped, buf[:])
		switch k := mediaKind(name); {
		case string(name) == "type":
			typ, ok := r.str(tbuf[:])
			if !ok {
				break // not a string: the upstream refuses it
			}
			if k := partKind(typ); k != kindUnknown {
				kinds |= k
				break
			}
			return unknownPart(at, string(typ))
		case k != 0:
			if s.peek() == 'n' {
				s.lit("null")
				break
			}
			s.skip()
			kinds |= k
		case string(name) == "text":
			r.info.PromptBytes += s.cost()
		case foldsTo(name, "type") || foldsTo(name, "text") || foldsMedia(name):
			return memberError(at, string(name))
		default:
			r.info.PromptBytes += s.cost()
		}
	}
	for _, k := range [...]int{kindImage, kindAudio, kindFile} {
		if kinds&k != 0 {
			r.addPart(k, at)
		}
	}
	return nil
}

func unknownPart(at place, typ string) *meter.Error {
	return meter.Errorf(meter.ECodeContentNotPriced, "content part %s has type %q, which this proxy does not price", at.String(), typ).
		WithDetail("part", at.String()).WithDetail("type", typ)
}

// addPart counts a non-text part, remembering where the first of its kind is.
func (r *requestScan) addPart(kind int, at place) {
	var n *int64
	var where *string
	switch kind {
	case kindImage:
		n, where = &r.info.Images, &r.info.ImagePart
	case kindAudio:
		n, where = &r.info.Audio, &r.info.AudioPart
	default:
		n, where = &r.info.Files, &r.info.FilePart
	}
	if *n == 0 {
		*where = at.String()
	}
	*n++
}

// cost reads any value and returns an upper bound on the bytes it adds to
// a prompt: the decoded length of a string; for anything else its raw
// JSON length plus one per ',' and ':' separator, because chat templates
// commonly re-serialise JSON with Python's ", " and ": " separators.
func (s *scanner) cost() int64 {
	if s.peek() == '"' {
		return decodedLen(s.str())
	}
	start, seps := s.pos, s.seps
	s.skip()
	return int64(s.pos - start + s.seps - seps)
}

// CheckPriced refuses a request that carries a content part of a kind
// p gives no bound for (content_not_priced, naming the first such part).
func (r RequestInfo) CheckPriced(p meter.Price) error {
	if r.HiddenInput && p.MaxInputTokens <= 0 {
		return meter.Errorf(meter.ECodeInputNotBounded,
			"model %q has no max_input_tokens: a request whose input the upstream adds (previous_response_id, conversation) cannot be priced", r.Model).
			WithDetail("model", r.Model)
	}
	for _, k := range [...]struct {
		n, bound int64
		part     string
		typ      string
	}{
		{r.Images, p.MaxImageTokens, r.ImagePart, "image_url"},
		{r.Audio, p.MaxAudioTokens, r.AudioPart, "input_audio"},
		{r.Files, p.MaxFileTokens, r.FilePart, "file"},
	} {
		if k.n > 0 && k.bound <= 0 {
			return meter.Errorf(meter.ECodeContentNotPriced, "content part %s (%s) has no price for model %q", k.part, k.typ, r.Model).
				WithDetail("part", k.part).WithDetail("type", k.typ).WithDetail("model", r.Model)
		}
	}
	return nil
}
