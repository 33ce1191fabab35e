package demo

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// words is the demo vocabulary. Every word is lower-case ASCII letters, so
// answers never need JSON escaping and a word is capitalised by clearing
// one bit. A power-of-two length makes the pick a mask, not a division.
var words = [...]string{
	"the", "quick", "meter", "counts", "every", "token", "before", "credit",
	"moves", "between", "accounts", "while", "streams", "flow", "through", "proxy",
	"models", "answer", "small", "large", "questions", "with", "careful", "words",
	"and", "prices", "stay", "exact", "in", "minor", "units", "so",
	"nothing", "rounds", "the", "wrong", "way", "each", "hold", "becomes",
	"a", "capture", "or", "release", "when", "usage", "arrives", "from",
	"upstream", "servers", "that", "speak", "plain", "json", "over", "http",
	"demo", "replies", "are", "always", "the", "same", "for", "you",
}

// Fails to compile unless len(words) is a power of two.
var _ = [1]struct{}{}[len(words)&(len(words)-1)]

// maxAnswerTokens caps max_tokens the way a real model's output limit does,
// so one request cannot make the demo build a response of unbounded size.
const maxAnswerTokens = 16384

// countTokens is the demo tokenizer: a quarter token per byte, rounded up.
// Rounding up keeps short texts non-free; a quarter keeps the count below
// the byte length, which paymeter's worst-case bound assumes.
func countTokens(textBytes int) int {
	return (textBytes + 3) / 4
}

// hashText is 64-bit FNV-1a, written out so hashing allocates nothing,
// then mixed once more so that similar short texts get unrelated ids.
func hashText(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return splitmix64(&h)
}

// splitmix64 advances state and returns the next pseudo-random value; it is
// tiny, fast and good enough to make different prompts read differently.
func splitmix64(state *uint64) uint64 {
	*state += 0x9e3779b97f4a7c15
	z := *state
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// answer yields the words of one deterministic reply: each word followed by
// a space, the last by a period, the first capitalised.
type answer struct {
	state uint64
	i, n  int
}

func newAnswer(seed uint64, n int) answer {
	return answer{state: seed, n: n}
}

// appendNext appends the next word (one token) to b.
func (a *answer) appendNext(b []byte) []byte {
	w := words[splitmix64(&a.state)&uint64(len(words)-1)]
	if a.i == 0 {
		b = append(b, w[0]&^0x20)
		w = w[1:]
	}
	b = append(b, w...)
	a.i++
	if a.i == a.n {
		return append(b, '.')
	}
	return append(b, ' ')
}

func (a *answer) done() bool { return a.i >= a.n }

// appendHex appends v as 16 lower-case hex digits.
func appendHex(b []byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, digits[v>>uint(shift)&0xf])
	}
	return b
}

var errContent = errors.New("content must be a string or an array of content parts")

// contentText returns the text of a chat message's content: a string, an
// array of parts whose "text" fields are concatenated, or null (an assistant
// message carrying only tool calls). A plain string without escapes is
// returned as a slice of raw, which is the common case and costs nothing.
func contentText(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	switch raw[0] {
	case '"':
		if body := raw[1 : len(raw)-1]; bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
			return body, nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errContent
		}
		return []byte(s), nil
	case '[':
		var parts []struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(raw, &parts); err != nil {
			return nil, errContent
		}
		var text []byte
		for _, p := range parts {
			text = append(text, p.Text...)
		}
		return text, nil
	}
	return nil, errContent
}

var errPrompt = errors.New("must be a string or an array of strings")

// promptItems decodes a completions prompt or an embeddings input: a string
// or a non-empty array of strings. Token arrays are refused, since the demo
// has no tokenizer to turn them back into text.
func promptItems(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errPrompt
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errPrompt
		}
		return []string{s}, nil
	case '[':
		var items []string
		if err := json.Unmarshal(raw, &items); err != nil || len(items) == 0 {
			return nil, errPrompt
		}
		return items, nil
	}
	return nil, errPrompt
}

// itemTokens counts the prompt tokens of completions and embeddings inputs:
// ceil(bytes/4) per item, at least 1 in all.
func itemTokens(items []string) int {
	n := 0
	for _, s := range items {
		n += countTokens(len(s))
	}
	return max(n, 1)
}
