package upstream

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

func TestParseUsage(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		want   meter.Usage
		wantOK bool
	}{
		{"chat fixture", string(readFixture(t, "chat_completion.json")), meter.Usage{InputTokens: 19, OutputTokens: 10}, true},
		{"embeddings fixture", string(readFixture(t, "embeddings.json")), meter.Usage{InputTokens: 5}, true},
		{"minimal", `{"usage":{"prompt_tokens":1,"completion_tokens":2}}`, meter.Usage{InputTokens: 1, OutputTokens: 2}, true},
		{"whitespace", " {\n \"usage\" : { \"completion_tokens\" : 2 , \"prompt_tokens\" : 1 } }\r\n", meter.Usage{InputTokens: 1, OutputTokens: 2}, true},
		{"escaped keys", `{"us\u0061ge":{"prompt_t\u006fkens":3,"completion_tokens":4}}`, meter.Usage{InputTokens: 3, OutputTokens: 4}, true},
		{"completion null", `{"usage":{"prompt_tokens":3,"completion_tokens":null}}`, meter.Usage{InputTokens: 3}, true},
		{"zero", `{"usage":{"prompt_tokens":0,"completion_tokens":0}}`, meter.Usage{}, true},
		{"minus zero", `{"usage":{"prompt_tokens":-0}}`, meter.Usage{}, true},
		{"max int64", `{"usage":{"prompt_tokens":9223372036854775807}}`, meter.Usage{InputTokens: 9223372036854775807}, true},
		{"last usage wins", `{"usage":{"prompt_tokens":1},"x":1,"usage":{"prompt_tokens":2,"completion_tokens":3}}`, meter.Usage{InputTokens: 2, OutputTokens: 3}, true},
		{"last count wins", `{"usage":{"prompt_tokens":1,"prompt_tokens":5}}`, meter.Usage{InputTokens: 5}, true},
		{"nested usage ignored", `{"choices":[{"usage":{"prompt_tokens":99}}],"usage":{"prompt_tokens":1}}`, meter.Usage{InputTokens: 1}, true},
		{"usage in string ignored", `{"content":"\"usage\":{\"prompt_tokens\":99}","usage":{"prompt_tokens":1}}`, meter.Usage{InputTokens: 1}, true},
		{"cached and reasoning", `{"usage":{"prompt_tokens":100,"completion_tokens":40,"prompt_tokens_details":{"cached_tokens":64,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":32}}}`,
			meter.Usage{InputTokens: 36, CachedInputTokens: 64, OutputTokens: 40, ReasoningTokens: 32}, true},
		{"details before totals", `{"usage":{"completion_tokens_details":{"reasoning_tokens":3},"prompt_tokens_details":{"cached_tokens":2},"prompt_tokens":5,"completion_tokens":4}}`,
			meter.Usage{InputTokens: 3, CachedInputTokens: 2, OutputTokens: 4, ReasoningTokens: 3}, true},
		{"cached above prompt clamped", `{"usage":{"prompt_tokens":10,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":11}}}`,
			meter.Usage{CachedInputTokens: 10, OutputTokens: 1}, true},
		{"reasoning above completion clamped", `{"usage":{"prompt_tokens":1,"completion_tokens":5,"completion_tokens_details":{"reasoning_tokens":9223372036854775807}}}`,
			meter.Usage{InputTokens: 1, OutputTokens: 5, ReasoningTokens: 5}, true},
		{"reasoning without completion", `{"usage":{"prompt_tokens":1,"completion_tokens_details":{"reasoning_tokens":2}}}`,
			meter.Usage{InputTokens: 1}, true},
		{"negative cached reads 0", `{"usage":{"prompt_tokens":10,"prompt_tokens_details":{"cached_tokens":-4}}}`,
			meter.Usage{InputTokens: 10}, true},
		{"cached string reads 0", `{"usage":{"prompt_tokens":10,"prompt_tokens_details":{"cached_tokens":"4"}}}`,
			meter.Usage{InputTokens: 10}, true},
		{"details null", `{"usage":{"prompt_tokens":10,"prompt_tokens_details":null,"completion_tokens_details":[1]}}`,
			meter.Usage{InputTokens: 10}, true},
		{"last cached wins", `{"usage":{"prompt_tokens":10,"prompt_tokens_details":{"cached_tokens":4,"cached_tokens":6}}}`,
			meter.Usage{InputTokens: 4, CachedInputTokens: 6}, true},
		{"last details wins", `{"usage":{"prompt_tokens":10,"prompt_tokens_details":{"cached_tokens":4},"prompt_tokens_details":{}}}`,
			meter.Usage{InputTokens: 10}, true},
		{"escaped detail key", `{"usage":{"prompt_tokens":10,"prompt_tokens_details":{"cached_t\u006fkens":4}}}`,
			meter.Usage{InputTokens: 6, CachedInputTokens: 4}, true},
		{"detail key case", `{"usage":{"prompt_tokens":10,"Prompt_tokens_details":{"cached_tokens":4},"prompt_tokens_details":{"Cached_tokens":4}}}`,
			meter.Usage{InputTokens: 10}, true},
		{"invalid details make the body invalid", `{"usage":{"prompt_tokens":10,"prompt_tokens_details":{"cached_tokens":4,}}}`,
			meter.Usage{}, false},
		{"other counts ignored", `{"usage":{"total_tokens":"x","prompt_tokens":1,"prompt_tokens_details":{"cached_tokens":1.5}}}`, meter.Usage{InputTokens: 1}, true},

		{"no usage", `{"id":"x"}`, meter.Usage{}, false},
		{"only nested usage", `{"data":{"usage":{"prompt_tokens":1}}}`, meter.Usage{}, false},
		{"only in string", `{"content":"{\"usage\":{\"prompt_tokens\":1}}"}`, meter.Usage{}, false},
		{"usage null", `{"usage":null}`, meter.Usage{}, false},
		{"later usage null", `{"usage":{"prompt_tokens":1},"usage":null}`, meter.Usage{}, false},
		{"usage array", `{"usage":[{"prompt_tokens":1}]}`, meter.Usage{}, false},
		{"usage key case", `{"Usage":{"prompt_tokens":1}}`, meter.Usage{}, false},
		{"no prompt tokens", `{"usage":{"completion_tokens":1}}`, meter.Usage{}, false},
		{"prompt null", `{"usage":{"prompt_tokens":null}}`, meter.Usage{}, false},
		{"negative", `{"usage":{"prompt_tokens":-1}}`, meter.Usage{}, false},
		{"negative completion", `{"usage":{"prompt_tokens":1,"completion_tokens":-2}}`, meter.Usage{}, false},
		{"fraction", `{"usage":{"prompt_tokens":1.0}}`, meter.Usage{}, false},
		{"exponent", `{"usage":{"prompt_tokens":1e2}}`, meter.Usage{}, false},
		{"string", `{"usage":{"prompt_tokens":"1"}}`, meter.Usage{}, false},
		{"overflow", `{"usage":{"prompt_tokens":9223372036854775808}}`, meter.Usage{}, false},
		{"invalid after usage", `{"usage":{"prompt_tokens":1},}`, meter.Usage{}, false},
		{"truncated", `{"usage":{"prompt_tokens":1}`, meter.Usage{}, false},
		{"trailing data", `{"usage":{"prompt_tokens":1}}x`, meter.Usage{}, false},
		{"not an object", `[{"usage":{"prompt_tokens":1}}]`, meter.Usage{}, false},
		{"empty", ``, meter.Usage{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseUsage([]byte(tt.body))
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("ParseUsage=%+v, %t, want %+v, %t", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// referenceUsage reads usage with encoding/json, with ParseUsage's rules:
// exact keys (maps, not structs, whose keys match case-insensitively),
// last duplicate wins, integers parsed from their text. decoded is false
// when encoding/json rejects the body.
func referenceUsage(body []byte) (u meter.Usage, ok, decoded bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return meter.Usage{}, false, false
	}
	var usage map[string]json.RawMessage
	raw, found := top["usage"]
	if !found || json.Unmarshal(raw, &usage) != nil || usage == nil {
		return meter.Usage{}, false, true
	}
	count := func(raw json.RawMessage, found bool) (int64, bool, bool) { // value, null or absent, valid
		raw = bytes.TrimSpace(raw)
		if !found || string(raw) == "null" {
			return 0, true, true
		}
		if bytes.ContainsAny(raw, ".eE") {
			return 0, false, false
		}
		v, err := strconv.ParseInt(string(raw), 10, 64)
		return v, false, err == nil && v >= 0
	}
	prompt, promptFound := usage["prompt_tokens"]
	in, inNull, inOK := count(prompt, promptFound)
	completion, completionFound := usage["completion_tokens"]
	out, _, outOK := count(completion, completionFound)
	if inNull || !inOK || !outOK {
		return meter.Usage{}, false, true
	}
	detail := func(object, name string) int64 {
		var details map[string]json.RawMessage
		if json.Unmarshal(usage[object], &details) != nil {
			return 0
		}
		raw, found := details[name]
		v, _, ok := count(raw, found)
		if !ok {
			return 0
		}
		return v
	}
	cached := min(detail("prompt_tokens_details", "cached_tokens"), in)
	reasoning := min(detail("completion_tokens_details", "reasoning_tokens"), out)
	return meter.Usage{InputTokens: in - cached, CachedInputTokens: cached, OutputTokens: out, ReasoningTokens: reasoning}, true, true
}

func FuzzParseUsage(f *testing.F) {
	for _, b := range fixtures(f, "*.json") {
		f.Add(b)
	}
	for _, b := range fixtures(f, "*.sse") {
		for line := range strings.SplitSeq(string(b), "\n") {
			if data, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
				f.Add([]byte(data))
			}
		}
	}
	f.Add([]byte(`{"usage":{"prompt_tokens":1,"completion_tokens":null},"Usage":null}`))
	f.Add([]byte(`{"usage":{"prompt_tokens":-0,"completion_tokens":1e2}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := ParseUsage(body)
		if ok && (got.InputTokens < 0 || got.OutputTokens < 0) {
			t.Fatalf("ParseUsage=%+v, want non-negative counts", got)
		}
		if ok && !json.Valid(body) {
			t.Fatalf("ParseUsage accepted invalid JSON %q", body)
		}
		s := scanner{data: body}
		s.skip()
		if valid, want := s.finish(), json.Valid(body); valid != want {
			t.Fatalf("scanner valid=%t, want %t (json.Valid)", valid, want)
		}
		want, wantOK, decoded := referenceUsage(body)
		if !decoded {
			return
		}
		if got != want || ok != wantOK {
			t.Fatalf("ParseUsage=%+v, %t, want %+v, %t (encoding/json)", got, ok, want, wantOK)
		}
	})
}

// TestScannerAgreesWithValid checks the scanner's validation against
// encoding/json on awkward documents.
func TestScannerAgreesWithValid(t *testing.T) {
	docs := []string{
		`{}`, `{"a":[]}`, `{"a":[1,]}`, `{"a":{"b":}}`, `{"a" 1}`, `{"a":1 "b":2}`, `{,}`, `{"a":-}`,
		`{"a":-0.5e+10}`, `{"a":0.}`, `{"a":.5}`, `{"a":1e}`, `{"a":"\u12"}`, `{"a":"\u12g4"}`, `{"a":"\/"}`,
		`{"a":nul}`, `{"a":truee}`, `{"a":[true,false,null]}`, "{\"a\":\"\x00\"}", "{\"a\":\"\x7f\"}",
		`{"a":"\ud800\udc00"}`, `{"a":1}}`, `{"a":[[]]]}`, `{"a":{}`,
		`{"x":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`,
		`{"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	}
	for i, doc := range docs {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			s := scanner{data: []byte(doc)}
			s.skip()
			if got, want := s.finish(), json.Valid([]byte(doc)); got != want {
				t.Fatalf("valid=%t, want %t (json.Valid) for %.60q", got, want, doc)
			}
		})
	}
}

func BenchmarkParseUsage(b *testing.B) {
	body := readFixture(b, "chat_completion.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, ok := ParseUsage(body); !ok {
			b.Fatal("no usage")
		}
	}
}
