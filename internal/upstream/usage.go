package upstream

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/paymeter/paymeter/internal/meter"
)

// ParseUsage finds the top-level "usage" object of a JSON response body and
// reads prompt_tokens and completion_tokens (embeddings have only
// prompt_tokens). ok is false when there is no usable usage object.
//
// A usable usage object has a non-negative integer prompt_tokens; a missing
// or null completion_tokens reads as 0. Keys match exactly, after
// unescaping, and a repeated key counts from its last occurrence, as in the
// Python and Go decoders. A body that is not valid JSON has no usable usage.
func ParseUsage(body []byte) (u meter.Usage, ok bool) {
	u, _, ok = ParseAnswer(body)
	return u, ok
}

// usage reads the value of a "usage" member: prompt_tokens and
// completion_tokens, and their details' cached_tokens and
// reasoning_tokens. OpenAI's prompt_tokens includes the cached tokens, so
// they are split off (docs/design.md §2): InputTokens is the rest. A
// detail that is not a usable count reads as 0, and each is clamped to its
// total, so that a hostile upstream cannot move tokens to a cheaper rate
// nor make a part negative.
func (s *scanner) usage() (u meter.Usage, ok bool) {
	if s.peek() != '{' {
		s.skip()
		return meter.Usage{}, false
	}
	prompt, completion := countAbsent, countNull
	var cached, reasoning int64
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		key, escaped := s.key()
		switch {
		case rawIs(key, escaped, "prompt_tokens"):
			prompt, u.InputTokens = s.count()
		case rawIs(key, escaped, "completion_tokens"):
			completion, u.OutputTokens = s.count()
		case rawIs(key, escaped, "prompt_tokens_details"):
			cached = s.detail("cached_tokens")
		case rawIs(key, escaped, "completion_tokens_details"):
			reasoning = s.detail("reasoning_tokens")
		default:
			s.skip()
		}
	}
	if prompt != countValid || completion == countInvalid {
		return meter.Usage{}, false
	}
	if completion != countValid {
		u.OutputTokens = 0
	}
	u.CachedInputTokens = min(cached, u.InputTokens)
	u.InputTokens -= u.CachedInputTokens
	u.ReasoningTokens = min(reasoning, u.OutputTokens)
	return u, true
}

// detail reads a usage details object and returns its member name as a
// count: 0 when the object, or the member, is absent, null or not a
// non-negative integer. A repeated member counts from its last occurrence.
func (s *scanner) detail(name string) int64 {
	if s.peek() != '{' {
		s.skip()
		return 0
	}
	var v int64
	s.open('{')
	for i := 0; s.more('}', i); i++ {
		if s.keyIs(name) {
			var state int
			if state, v = s.count(); state != countValid {
				v = 0
			}
		} else {
			s.skip()
		}
	}
	return v
}

// What a token count member held.
const (
	countAbsent = iota
	countNull
	countValid
	countInvalid
)

// count reads a token count: a non-negative integer that fits in an int64.
// The number is parsed from its digits, never through a float.
func (s *scanner) count() (state int, v int64) {
	switch c := s.peek(); {
	case c == 'n':
		if s.lit("null") {
			return countNull, 0
		}
		return countInvalid, 0
	case c == '-' || isDigit(c):
		v, ok := parseCount(s.num())
		if !ok {
			return countInvalid, 0
		}
		return countValid, v
	}
	s.skip()
	return countInvalid, 0
}

// parseCount parses a JSON number that must be a non-negative integer.
// The scanner has already checked the number's syntax, so ParseInt only
// rejects fractions, exponents and overflow here.
func parseCount(raw []byte) (int64, bool) {
	v, err := strconv.ParseInt(string(raw), 10, 64)
	return v, err == nil && v >= 0
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// maxDepth is encoding/json's nesting limit, so that the scanner accepts
// exactly the documents json.Valid accepts.
const maxDepth = 10000

// scanner is a validating JSON reader that does not allocate. Requests,
// responses and every stream chunk go through it, and the proxy needs only
// a handful of fields from each: encoding/json would allocate per chunk,
// and it matches keys case-insensitively, which the upstream does not, so
// a client could make the two read different fields.
//
// Errors are sticky: after the first syntax error bad is set, the position
// jumps to the end, and every later read fails.
type scanner struct {
	data  []byte
	pos   int
	depth int
	// seps counts the ',' and ':' separators read so far; see cost.
	seps int
	bad  bool
}

func (s *scanner) fail() {
	s.bad = true
	s.pos = len(s.data)
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (s *scanner) peek() byte {
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; c {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return c
		}
	}
	return 0
}

// finish reports whether the document was valid and only whitespace is left.
func (s *scanner) finish() bool {
	s.peek()
	return !s.bad && s.pos == len(s.data)
}

// open consumes c, the '{' or '[' that starts a container.
func (s *scanner) open(c byte) bool {
	if s.peek() != c || s.depth >= maxDepth {
		s.fail()
		return false
	}
	s.depth++
	s.pos++
	return true
}

// more reports whether the container being read has another member or
// element, consuming the separating comma, or consumes the closing byte
// and reports false. n is how many members were read before.
func (s *scanner) more(closing byte, n int) bool {
	c := s.peek()
	switch {
	case s.bad:
		return false
	case c == closing:
		s.pos++
		s.depth--
		return false
	case n == 0:
		return true
	case c == ',':
		s.pos++
		s.seps++
		return true
	}
	s.fail()
	return false
}

// key reads a member's key and the colon after it.
func (s *scanner) key() (raw []byte, escaped bool) {
	raw, escaped = s.str()
	if s.peek() != ':' {
		s.fail()
		return nil, false
	}
	s.pos++
	s.seps++
	return raw, escaped
}

// keyIs reads a member's key and reports whether it is name.
func (s *scanner) keyIs(name string) bool {
	raw, escaped := s.key()
	return rawIs(raw, escaped, name)
}

// rawIs reports whether the quoted string raw decodes to name.
func rawIs(raw []byte, escaped bool, name string) bool {
	if len(raw) < 2 {
		return false
	}
	if !escaped {
		return string(raw[1:len(raw)-1]) == name
	}
	var buf [64]byte
	return string(appendUnescaped(buf[:0], raw)) == name
}

// str reads a string and returns it with its quotes, and whether it holds
// escapes. Raw control characters are rejected, as JSON requires; UTF-8
// is not checked here.
func (s *scanner) str() (raw []byte, escaped bool) {
	if s.peek() != '"' {
		s.fail()
		return nil, false
	}
	d := s.data
	for i := s.pos + 1; i < len(d); {
		for i < len(d) && plain[d[i]] {
			i++
		}
		if i == len(d) {
			break
		}
		switch c := d[i]; {
		case c == '"':
			raw, s.pos = d[s.pos:i+1], i+1
			return raw, escaped
		case c == '\\':
			escaped = true
			n := escapeLen(d[i:])
			if n == 0 {
				s.fail()
				return nil, false
			}
			i += n
		case c < 0x20:
			s.fail()
			return nil, false
		default:
			i++
		}
	}
	s.fail()
	return nil, false
}

// plain marks the bytes that stand for themselves inside a JSON string.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// escapeLen returns the length of the escape sequence at the start of b,
// or 0 if it is not a valid one.
func escapeLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if len(b) >= 6 && hex4(b[2:6]) >= 0 {
			return 6
		}
	}
	return 0
}

// hex4 decodes four hex digits, or returns -1.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// num reads a number, checking the JSON number grammar.
func (s *scanner) num() []byte {
	d, i := s.data, s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && isDigit(d[i]):
		i = digits(d, i)
	default:
		s.fail()
		return nil
	}
	if i < len(d) && d[i] == '.' {
		if i+1 >= len(d) || !isDigit(d[i+1]) {
			s.fail()
			return nil
		}
		i = digits(d, i+1)
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			s.fail()
			return nil
		}
		i = digits(d, i)
	}
	raw := d[s.pos:i]
	s.pos = i
	return raw
}

func digits(d []byte, i int) int {
	for i < len(d) && isDigit(d[i]) {
		i++
	}
	return i
}

// lit reads the literal word (true, false or null).
func (s *scanner) lit(word string) bool {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		s.fail()
		return false
	}
	s.pos += len(word)
	return true
}

// skip reads any value.
func (s *scanner) skip() {
	switch c := s.peek(); {
	case c == '"':
		s.str()
	case c == '{':
		s.open('{')
		for i := 0; s.more('}', i); i++ {
			s.key()
			s.skip()
		}
	case c == '[':
		s.open('[')
		for i := 0; s.more(']', i); i++ {
			s.skip()
		}
	case c == 't':
		s.lit("true")
	case c == 'f':
		s.lit("false")
	case c == 'n':
		s.lit("null")
	case c == '-' || isDigit(c):
		s.num()
	default:
		s.fail()
	}
}

// text reads a string value and returns its decoded UTF-8 length; any
// other value is skipped and counts 0.
func (s *scanner) text() int64 {
	if s.peek() != '"' {
		s.skip()
		return 0
	}
	return decodedLen(s.str())
}

// decodedLen returns the UTF-8 length of the quoted JSON string raw once
// its escapes are decoded. A lone surrogate counts 3 bytes, the length of
// both U+FFFD and of the surrogate's own WTF-8 encoding, whichever the
// reader chooses.
func decodedLen(raw []byte, escaped bool) int64 {
	if len(raw) < 2 {
		return 0
	}
	b := raw[1 : len(raw)-1]
	if !escaped {
		return int64(len(b))
	}
	var n int64
	for i := 0; i < len(b); {
		if b[i] != '\\' {
			n++
			i++
			continue
		}
		if b[i+1] != 'u' {
			n++
			i += 2
			continue
		}
		r, size := unescapeRune(b[i:])
		n += int64(utf8.RuneLen(r))
		i += size
	}
	return n
}

// appendUnescaped appends the decoded text of the quoted JSON string raw,
// which the scanner has already checked, to dst.
func appendUnescaped(dst, raw []byte) []byte {
	b := raw[1 : len(raw)-1]
	for i := 0; i < len(b); {
		c := b[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch b[i+1] {
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		case 'u':
			r, size := unescapeRune(b[i:])
			dst = utf8.AppendRune(dst, r)
			i += size
			continue
		default:
			c = b[i+1]
		}
		dst = append(dst, c)
		i += 2
	}
	return dst
}

// unescapeRune decodes the \uXXXX escape at the start of b, joining a
// surrogate pair, and returns the rune and the bytes used. A lone
// surrogate decodes to U+FFFD, as in encoding/json.
func unescapeRune(b []byte) (rune, int) {
	r := hex4(b[2:6])
	if !utf16.IsSurrogate(r) {
		return r, 6
	}
	if len(b) >= 12 && b[6] == '\\' && b[7] == 'u' {
		if r2 := utf16.DecodeRune(r, hex4(b[8:12])); r2 != utf8.RuneError {
			return r2, 12
		}
	}
	return utf8.RuneError, 6
}

// peekPos skips whitespace and returns where the next value starts.
func (s *scanner) peekPos() int {
	s.peek()
	return s.pos
}
