package upstream

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// fixtures returns the contents of the testdata files matching pattern.
func fixtures(tb testing.TB, pattern string) [][]byte {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(names) == 0 {
		tb.Fatalf("no fixtures match %s: %v", pattern, err)
	}
	var out [][]byte
	for _, name := range names {
		out = append(out, readFixture(tb, filepath.Base(name)))
	}
	return out
}

// n is the length of s, for writing expected byte counts as the texts they
// count.
func n(s ...string) int64 {
	var total int
	for _, x := range s {
		total += len(x)
	}
	return int64(total)
}

func TestInspectRequest(t *testing.T) {
	imagePart := `{"type":"image_url","image_url":{"url":"https://x/y.png"}}`
	tools := `[{"type":"function","function":{"name":"f","parameters":{}}}]`
	tests := []struct {
		name string
		api  API
		body string
		want RequestInfo
	}{
		{"chat fixture", APIChat, string(readFixture(t, "chat_request.json")), RequestInfo{
			Model: "gpt-4.1-mini", Stream: true, MaxTokens: 256, N: 1, Messages: 2,
			PromptBytes: n("system", "You are a helpful assistant.", "user",
				"What is the weather like in Paris today? Answer in one sentence, please."),
		}},
		{"chat parts fixture", APIChat, string(readFixture(t, "chat_request_parts.json")), RequestInfo{
			Model: "gpt-4.1", MaxTokens: 100, N: 1, Messages: 4,
			PromptBytes: n("developer", "Answer tersely.",
				"user", "alice", "What is in this image, and what’s the weather there?",
				"assistant", "null",
				"\n      \n    ", // the tool_calls array's line breaks
				`[{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris\"}"}}]`, ":,:,::,:",
				"tool", "call_1", "18°C, sunny",
				`[{"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city", "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}]`,
				"::,::,:,::::,::", "\n    \n  "),
			Images: 1, ImagePart: "messages[1].content[1]",
		}},
		{"completions fixture", APICompletions, string(readFixture(t, "completions_request.json")), RequestInfo{
			Model: "gpt-3.5-turbo-instruct", MaxTokens: 7, N: 3, Messages: 2,
			PromptBytes: n("Say this is a test", "Once upon a time", " The end."),
		}},
		{"embeddings fixture", APIEmbeddings, string(readFixture(t, "embeddings_request.json")), RequestInfo{
			Model: "text-embedding-3-small", N: 1, Messages: 2, PromptBytes: 6,
		}},
		{"minimal", APIChat, `{"model":"m"}`, RequestInfo{Model: "m", N: 1}},
		{"whitespace", APIChat, " \r\n\t{ \"model\" : \"m\" , \"messages\" : [ { \"content\" : \"hi\" } ] } \n",
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 2}},
		{"escaped key and model", APIChat, `{"mod\u0065l":"gpt\u002d4"}`, RequestInfo{Model: "gpt-4", N: 1}},
		{"escapes count decoded", APIChat, `{"model":"m","messages":[{"content":"caf\u00e9\n\"\\"}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("café\n\"\\")}},
		{"surrogate pair", APICompletions, `{"model":"m","prompt":"\ud83d\ude00"}`, RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 4}},
		{"lone surrogate", APICompletions, `{"model":"m","prompt":"\ud800x"}`, RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 4}},
		{"raw utf8", APICompletions, `{"model":"m","prompt":"日本"}`, RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 6}},
		{"image part counted by kind", APIChat, `{"model":"m","messages":[{"content":[{"type":"text","text":"look"},` + imagePart + `]}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("look"), Images: 1, ImagePart: "messages[0].content[1]"}},
		{"every kind, media bytes not counted", APIChat, `{"model":"m","messages":[{"role":"user","content":"a"},{"content":[` +
			`{"type":"input_audio","input_audio":{"data":"` + strings.Repeat("A", 1000) + `"}},{"type":"file","file":{"file_data":"QUJD"}},` +
			imagePart + `,` + imagePart + `]},{"role":"assistant","audio":{"id":"audio_1"}}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 3, PromptBytes: n("user", "a", "assistant"), Images: 2, Audio: 2, Files: 1,
				ImagePart: "messages[1].content[2]", AudioPart: "messages[1].content[0]", FilePart: "messages[1].content[1]"}},
		{"media member in a text part", APIChat, `{"model":"m","messages":[{"content":[{"type":"text","text":"ab","image_url":{"url":"x"}}]}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 2, Images: 1, ImagePart: "messages[0].content[0]"}},
		{"media straight in an input item", APIEmbeddings, `{"model":"m","input":[{"type":"input_image","image_url":"https://x/y.png"},{"input_file":{"file_id":"f"}}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 2, PromptBytes: n("input_image"), Images: 1, Files: 1, ImagePart: "input[0]", FilePart: "input[1]"}},
		{"null media and audio", APIChat, `{"model":"m","messages":[{"audio":null,"content":[{"type":"text","text":"ab","image_url":null}]}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 2}},
		{"service tier and modalities", APIChat, `{"model":"m","service_tier":"default","modalities":["text"]}`, RequestInfo{Model: "m", N: 1}},
		{"shaping fields", APIChat, `{"model":"m","temperature":0.5,"top_p":1,"stop":["\n"],"seed":3,"user":"u","logprobs":true,"top_logprobs":2}`,
			RequestInfo{Model: "m", N: 1}},
		{"text part extra members", APIChat, `{"model":"m","messages":[{"content":[{"text":"ab","type":"text","cache_control":{"type":"ephemeral"}}]}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("ab", `{"type":"ephemeral"}`, ":")}},
		{"part with escaped type is still text", APIChat, `{"model":"m","messages":[{"content":[{"type":"t\u0065xt","text":"ab"}]}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 2}},
		{"string parts", APIChat, `{"model":"m","messages":[{"content":["ab","c"]}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 3}},
		{"duplicate content counts both", APIChat, `{"model":"m","messages":[{"content":"ab","content":"cde"}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 5}},
		{"tools and functions", APIChat, `{"model":"m","tools":` + tools + `,"functions":[],"tool_choice":"auto"}`,
			RequestInfo{Model: "m", N: 1, PromptBytes: n(tools, "::::,,", "[]", "auto")}},
		{"response_format", APIChat, `{"model":"m","response_format":{"type":"json_object"}}`,
			RequestInfo{Model: "m", N: 1, PromptBytes: n(`{"type":"json_object"}`, ":")}},
		{"prompt tokens", APICompletions, `{"model":"m","prompt":[1,2,3]}`, RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 3}},
		{"prompt token arrays", APICompletions, `{"model":"m","prompt":[[1,2],[3],[]]}`, RequestInfo{Model: "m", N: 1, Messages: 3, PromptBytes: 3}},
		{"prompt strings", APICompletions, `{"model":"m","prompt":["ab","","c"]}`, RequestInfo{Model: "m", N: 1, Messages: 3, PromptBytes: 3}},
		{"prompt null", APICompletions, `{"model":"m","prompt":null}`, RequestInfo{Model: "m", N: 1}},
		{"input string", APIEmbeddings, `{"model":"m","input":"hello"}`, RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 5}},
		{"input items", APIEmbeddings, `{"model":"m","input":[{"role":"user","content":"hi"}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 6}},
		{"the larger limit counts", APIChat, `{"model":"m","max_completion_tokens":5,"max_tokens":9}`,
			RequestInfo{Model: "m", N: 1, MaxTokens: 9}},
		{"the larger limit counts, either way", APIChat, `{"model":"m","max_completion_tokens":9,"max_tokens":5}`,
			RequestInfo{Model: "m", N: 1, MaxTokens: 9}},
		{"null max_completion_tokens", APIChat, `{"model":"m","max_completion_tokens":null,"max_tokens":9}`,
			RequestInfo{Model: "m", N: 1, MaxTokens: 9}},
		{"max_tokens zero", APIChat, `{"model":"m","max_tokens":0}`, RequestInfo{Model: "m", N: 1}},
		{"max_tokens minus zero", APIChat, `{"model":"m","max_tokens":-0}`, RequestInfo{Model: "m", N: 1}},
		{"max int64", APIChat, `{"model":"m","max_tokens":9223372036854775807}`,
			RequestInfo{Model: "m", N: 1, MaxTokens: 9223372036854775807}},
		{"n", APIChat, `{"model":"m","n":128}`, RequestInfo{Model: "m", N: 128}},
		{"n null", APIChat, `{"model":"m","n":null}`, RequestInfo{Model: "m", N: 1}},
		{"best_of below n", APICompletions, `{"model":"m","n":4,"best_of":2}`, RequestInfo{Model: "m", N: 4}},
		{"stream false", APIChat, `{"model":"m","stream":false}`, RequestInfo{Model: "m", N: 1}},
		{"stream null", APIChat, `{"model":"m","stream":null}`, RequestInfo{Model: "m", N: 1}},
		{"include_usage", APIChat, `{"model":"m","stream":true,"stream_options":{"include_usage":true}}`,
			RequestInfo{Model: "m", Stream: true, N: 1, IncludeUsage: true}},
		{"include_usage last wins", APIChat, `{"model":"m","stream_options":{"include_usage":true,"include_usage":false}}`,
			RequestInfo{Model: "m", N: 1}},
		{"stream_options null", APIChat, `{"model":"m","stream_options":null}`, RequestInfo{Model: "m", N: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := InspectRequest([]byte(tt.body), tt.api)
			if err != nil {
				t.Fatalf("err=%v, want nil", err)
			}
			tt.want.api, tt.want.edits = tt.api, got.edits
			if got != tt.want {
				t.Fatalf("info=%+v,\nwant %+v", got, tt.want)
			}
		})
	}
}

// promptLowerBound is the decoded text of the messages' string content and
// text parts, and of string prompts and inputs, read with encoding/json:
// InspectRequest must never count less.
func promptLowerBound(body []byte) int64 {
	var req struct {
		Messages []map[string]json.RawMessage
		Prompt   json.RawMessage
		Input    json.RawMessage
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return 0
	}
	json.Unmarshal(top["messages"], &req.Messages)
	var total int64
	for _, m := range req.Messages {
		var s string
		var parts []struct{ Text string }
		if json.Unmarshal(m["content"], &s) == nil {
			total += int64(len(s))
		} else if json.Unmarshal(m["content"], &parts) == nil {
			for _, p := range parts {
				total += int64(len(p.Text))
			}
		}
	}
	for _, key := range []string{"prompt", "input"} {
		var s string
		var ss []string
		if json.Unmarshal(top[key], &s) == nil {
			total += int64(len(s))
		} else if json.Unmarshal(top[key], &ss) == nil {
			for _, s := range ss {
				total += int64(len(s))
			}
		}
	}
	return total
}

// goView is what an upstream built on Go's encoding/json (case-insensitive
// keys under Unicode folding, the last match winning) reads from a body.
type goView struct {
	Model               string
	MaxTokens           *int64 `json:"max_tokens"`
	MaxCompletionTokens *int64 `json:"max_completion_tokens"`
	Stream              bool
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

func FuzzInspectRequest(f *testing.F) {
	for i, b := range fixtures(f, "*_request.json") {
		f.Add(b, uint8(i))
	}
	f.Add([]byte(`{"model":"m","messages":[{"content":[{"type":"text","text":"a\u00e9"}]}],"n":2}`), uint8(APIChat))
	f.Add([]byte(`{"model":"m","prompt":[[1,2],"x",3],"stream":true,"stream_options":{"include_usage":false}}`), uint8(APICompletions))
	f.Add([]byte(`{"model":"m","input":"\ud83d\ude00","max_tokens":1e3}`), uint8(APIEmbeddings))
	f.Add([]byte(`{"model":"a","MODEL":"b","max_tokens":1,"max_to\u212aens":9,"stream":true}`), uint8(APIChat))
	f.Add([]byte(`{"model":"a","max_tokens":0,"max_completion_tokens":null,"stream":true,"stream_options":{"Include_Usage":false}}`), uint8(APIChat))
	f.Add([]byte(`{"model":"m","messages":[{"content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`), uint8(APIChat))
	price := meter.Price{MaxOutputTokens: 77, MaxImageTokens: 5, MaxAudioTokens: 6, MaxFileTokens: 7}
	f.Fuzz(func(t *testing.T, body []byte, apiByte uint8) {
		api := API(apiByte % 3)
		info, err := InspectRequest(body, api)
		if err != nil {
			var e *meter.Error
			if !errors.As(err, &e) || e.Message == "" {
				t.Fatalf("err=%#v, want *meter.Error", err)
			}
			switch e.Code {
			case meter.ECodeBadRequest, meter.ECodeAmbiguousField, meter.ECodeUnsupportedField, meter.ECodeContentNotPriced:
			default:
				t.Fatalf("code %s, want a request refusal", e.Code)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if info.Model == "" || info.PromptBytes < 0 || info.Messages < 0 || info.MaxTokens < 0 || info.N < 1 || info.N > maxChoices ||
			info.Images < 0 || info.Audio < 0 || info.Files < 0 {
			t.Fatalf("info=%+v out of range", info)
		}
		if low := promptLowerBound(body); info.PromptBytes < low {
			t.Fatalf("PromptBytes=%d, want at least %d", info.PromptBytes, low)
		}
		// What Go's decoder reads is what was priced.
		var v goView
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("accepted a body encoding/json refuses: %v", err)
		}
		if v.Model != info.Model || v.Stream != info.Stream {
			t.Fatalf("encoding/json reads model %q stream %v, priced %q %v", v.Model, v.Stream, info.Model, info.Stream)
		}
		out := info.ForwardBody(body, price)
		if !json.Valid(out) {
			t.Fatalf("ForwardBody made invalid JSON %q", out)
		}
		v = goView{}
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("forwarded body refused by encoding/json: %v", err)
		}
		if bound := info.OutputBound(price); bound > 0 {
			for _, l := range []*int64{v.MaxTokens, v.MaxCompletionTokens} {
				if l != nil && (*l <= 0 || *l > bound) {
					t.Fatalf("forwarded limit %d, want 1…%d", *l, bound)
				}
			}
			if v.MaxTokens == nil && v.MaxCompletionTokens == nil {
				t.Fatalf("forwarded %s with no output limit, want %d", out, bound)
			}
		}
		if info.Stream && (v.StreamOptions == nil || !v.StreamOptions.IncludeUsage) {
			t.Fatalf("forwarded stream %s does not ask for usage", out)
		}
		got, err := InspectRequest(out, api)
		if err != nil {
			t.Fatalf("InspectRequest(ForwardBody): err=%v, want nil", err)
		}
		want := info
		want.IncludeUsage = info.IncludeUsage || info.Stream
		if api != APIEmbeddings && want.MaxTokens == 0 {
			want.MaxTokens = price.MaxOutputTokens
		}
		got.edits, want.edits = bodyEdits{}, bodyEdits{}
		if got != want {
			t.Fatalf("after ForwardBody info=%+v, want %+v", got, want)
		}
	})
}

func BenchmarkInspectRequest(b *testing.B) {
	body := readFixture(b, "chat_request.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := InspectRequest(body, APIChat); err != nil {
			b.Fatal(err)
		}
	}
}
