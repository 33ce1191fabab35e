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
		body string
		want RequestInfo
	}{
		{"chat fixture", string(readFixture(t, "chat_request.json")), RequestInfo{
			Model: "gpt-4.1-mini", Stream: true, MaxTokens: 256, N: 1, Messages: 2,
			PromptBytes: n("system", "You are a helpful assistant.", "user",
				"What is the weather like in Paris today? Answer in one sentence, please."),
		}},
		{"chat parts fixture", string(readFixture(t, "chat_request_parts.json")), RequestInfo{
			Model: "gpt-4.1", MaxTokens: 100, N: 1, Messages: 4,
			PromptBytes: n("developer", "Answer tersely.",
				"user", "alice", "What is in this image, and what’s the weather there?",
				`{"type": "image_url", "image_url": {"url": "https://example.com/paris.jpg", "detail": "low"}}`, "::,::,",
				"assistant", "null",
				"\n      \n    ", // the tool_calls array's line breaks
				`[{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris\"}"}}]`, ":,:,::,:",
				"tool", "call_1", "18°C, sunny",
				`[{"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city", "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}]`,
				"::,::,:,::::,::", "\n    \n  "),
		}},
		{"completions fixture", string(readFixture(t, "completions_request.json")), RequestInfo{
			Model: "gpt-3.5-turbo-instruct", MaxTokens: 7, N: 3, Messages: 2,
			PromptBytes: n("Say this is a test", "Once upon a time", " The end."),
		}},
		{"embeddings fixture", string(readFixture(t, "embeddings_request.json")), RequestInfo{
			Model: "text-embedding-3-small", N: 1, Messages: 2, PromptBytes: 6,
		}},
		{"minimal", `{"model":"m"}`, RequestInfo{Model: "m", N: 1}},
		{"whitespace", " \r\n\t{ \"model\" : \"m\" , \"messages\" : [ { \"content\" : \"hi\" } ] } \n",
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 2}},
		{"escaped key and model", `{"mod\u0065l":"gpt\u002d4"}`, RequestInfo{Model: "gpt-4", N: 1}},
		{"escapes count decoded", `{"model":"m","messages":[{"content":"caf\u00e9\n\"\\"}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("café\n\"\\")}},
		{"surrogate pair", `{"model":"m","prompt":"\ud83d\ude00"}`, RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 4}},
		{"lone surrogate", `{"model":"m","prompt":"\ud800x"}`, RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 4}},
		{"raw utf8", `{"model":"m","prompt":"日本"}`, RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 6}},
		{"image part counts its JSON", `{"model":"m","messages":[{"content":[{"type":"text","text":"look"},` + imagePart + `]}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("look", imagePart, ":::,")}},
		{"text part extra members", `{"model":"m","messages":[{"content":[{"text":"ab","type":"text","cache_control":{"type":"ephemeral"}}]}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("ab", `{"type":"ephemeral"}`, ":")}},
		{"part with escaped type is still text", `{"model":"m","messages":[{"content":[{"type":"t\u0065xt","text":"ab"}]}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 2}},
		{"string parts", `{"model":"m","messages":[{"content":["ab","c"]}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 3}},
		{"duplicate content counts both", `{"model":"m","messages":[{"content":"ab","content":"cde"}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 5}},
		{"tools and functions", `{"model":"m","tools":` + tools + `,"functions":[],"tool_choice":"auto"}`,
			RequestInfo{Model: "m", N: 1, PromptBytes: n(tools, "::::,,", "[]")}},
		{"response_format", `{"model":"m","response_format":{"type":"json_object"}}`,
			RequestInfo{Model: "m", N: 1, PromptBytes: n(`{"type":"json_object"}`, ":")}},
		{"prompt tokens", `{"model":"m","prompt":[1,2,3]}`, RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 3}},
		{"prompt token arrays", `{"model":"m","prompt":[[1,2],[3],[]]}`, RequestInfo{Model: "m", N: 1, Messages: 3, PromptBytes: 3}},
		{"prompt strings", `{"model":"m","prompt":["ab","","c"]}`, RequestInfo{Model: "m", N: 1, Messages: 3, PromptBytes: 3}},
		{"prompt null", `{"model":"m","prompt":null}`, RequestInfo{Model: "m", N: 1}},
		{"input string", `{"model":"m","input":"hello"}`, RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 5}},
		{"input items", `{"model":"m","input":[{"role":"user","content":"hi"}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 6}},
		{"max_completion_tokens wins", `{"model":"m","max_completion_tokens":5,"max_tokens":9}`,
			RequestInfo{Model: "m", N: 1, MaxTokens: 5}},
		{"null max_completion_tokens", `{"model":"m","max_completion_tokens":null,"max_tokens":9}`,
			RequestInfo{Model: "m", N: 1, MaxTokens: 9}},
		{"max_tokens zero", `{"model":"m","max_tokens":0}`, RequestInfo{Model: "m", N: 1}},
		{"max_tokens minus zero", `{"model":"m","max_tokens":-0}`, RequestInfo{Model: "m", N: 1}},
		{"max int64", `{"model":"m","max_tokens":9223372036854775807}`,
			RequestInfo{Model: "m", N: 1, MaxTokens: 9223372036854775807}},
		{"n", `{"model":"m","n":128}`, RequestInfo{Model: "m", N: 128}},
		{"n null", `{"model":"m","n":null}`, RequestInfo{Model: "m", N: 1}},
		{"best_of below n", `{"model":"m","n":4,"best_of":2}`, RequestInfo{Model: "m", N: 4}},
		{"stream false", `{"model":"m","stream":false}`, RequestInfo{Model: "m", N: 1}},
		{"stream null", `{"model":"m","stream":null}`, RequestInfo{Model: "m", N: 1}},
		{"include_usage", `{"model":"m","stream":true,"stream_options":{"include_usage":true}}`,
			RequestInfo{Model: "m", Stream: true, N: 1, IncludeUsage: true}},
		{"include_usage last wins", `{"model":"m","stream_options":{"include_usage":true,"include_usage":false}}`,
			RequestInfo{Model: "m", N: 1}},
		{"stream_options null", `{"model":"m","stream_options":null}`, RequestInfo{Model: "m", N: 1}},
		{"unknown fields skipped", `{"model":"m","x":[{"a":[1,2.5e-3,true,false,null,"s"]}],"Model":"other"}`,
			RequestInfo{Model: "m", N: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := InspectRequest([]byte(tt.body))
			if err != nil {
				t.Fatalf("err=%v, want nil", err)
			}
			if got != tt.want {
				t.Fatalf("info=%+v,\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestInspectRequestErrors(t *testing.T) {
	deep := `{"model":"m","x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`
	tests := []struct {
		name string
		body string
		want string
	}{
		{"empty", ``, "request body must be a JSON object"},
		{"array", `[]`, "request body must be a JSON object"},
		{"string", `"model"`, "request body must be a JSON object"},
		{"garbage", `model=x`, "request body must be a JSON object"},
		{"invalid utf8", "{\"model\":\"m\xff\"}", "request body is not valid UTF-8"},
		{"trailing comma", `{"model":"m",}`, "request body is not valid JSON"},
		{"unterminated", `{"model":"m"`, "request body is not valid JSON"},
		{"trailing data", `{"model":"m"} {}`, "request body is not valid JSON"},
		{"bad escape", `{"model":"m","x":"\q"}`, "request body is not valid JSON"},
		{"control char", "{\"model\":\"m\",\"x\":\"a\tb\"}", "request body is not valid JSON"},
		{"bad number", `{"model":"m","x":01}`, "request body is not valid JSON"},
		{"too deep", deep, "request body is not valid JSON"},
		{"missing model", `{"messages":[]}`, `"model" is required`},
		{"model case", `{"Model":"m"}`, `"model" is required`},
		{"empty model", `{"model":""}`, `"model" must be a non-empty string`},
		{"null model", `{"model":null}`, `"model" must be a non-empty string`},
		{"number model", `{"model":4}`, `"model" must be a non-empty string`},
		{"model broken value", `{"model":tru}`, "request body is not valid JSON"},
		{"duplicate model", `{"model":"cheap","model":"dear"}`, `"model" must appear only once`},
		{"duplicate escaped max_tokens", `{"model":"m","max_tokens":1,"max_tok\u0065ns":9}`, `"max_tokens" must appear only once`},
		{"negative max_tokens", `{"model":"m","max_tokens":-1}`, `"max_tokens" must be a non-negative integer`},
		{"fractional max_tokens", `{"model":"m","max_tokens":1.5}`, `"max_tokens" must be a non-negative integer`},
		{"float max_tokens", `{"model":"m","max_tokens":100.0}`, `"max_tokens" must be a non-negative integer`},
		{"exponent max_tokens", `{"model":"m","max_tokens":1e3}`, `"max_tokens" must be a non-negative integer`},
		{"string max_tokens", `{"model":"m","max_tokens":"100"}`, `"max_tokens" must be a non-negative integer`},
		{"overflowing max_tokens", `{"model":"m","max_tokens":9223372036854775808}`, `"max_tokens" must be a non-negative integer`},
		{"bad max_completion_tokens", `{"model":"m","max_completion_tokens":[]}`, `"max_completion_tokens" must be a non-negative integer`},
		{"stream string", `{"model":"m","stream":"true"}`, `"stream" must be a boolean`},
		{"stream number", `{"model":"m","stream":1}`, `"stream" must be a boolean`},
		{"n zero", `{"model":"m","n":0}`, `"n" must be an integer from 1 to 128`},
		{"n too big", `{"model":"m","n":129}`, `"n" must be an integer from 1 to 128`},
		{"best_of too big", `{"model":"m","best_of":1000}`, `"best_of" must be an integer from 1 to 128`},
		{"stream_options array", `{"model":"m","stream_options":[]}`, `"stream_options" must be an object`},
		{"include_usage string", `{"model":"m","stream_options":{"include_usage":"yes"}}`, `"stream_options.include_usage" must be a boolean`},
		{"messages object", `{"model":"m","messages":{}}`, `"messages" must be an array of objects`},
		{"message string", `{"model":"m","messages":["hi"]}`, `"messages" must be an array of objects`},
		{"prompt object", `{"model":"m","prompt":{}}`, `"prompt" must be a string or an array`},
		{"input number", `{"model":"m","input":5}`, `"input" must be a string or an array`},
		{"duplicate messages", `{"model":"m","messages":[],"messages":[]}`, `"messages" must appear only once`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := InspectRequest([]byte(tt.body))
			wantBadRequest(t, err, tt.want)
		})
	}
}

func wantBadRequest(t *testing.T, err error, msg string) {
	t.Helper()
	var e *meter.Error
	if !errors.As(err, &e) {
		t.Fatalf("err=%v, want *meter.Error %q", err, msg)
	}
	if e.Code != meter.ECodeBadRequest || e.Message != msg {
		t.Fatalf("err=%s %q, want %s %q", e.Code, e.Message, meter.ECodeBadRequest, msg)
	}
}

func TestWithStreamUsage(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"added", `{"model":"m","stream":true}`, `{"model":"m","stream":true,"stream_options":{"include_usage":true}}`},
		{"added to empty object", `{}`, `{"stream_options":{"include_usage":true}}`},
		{"added before whitespace", "{ \"model\" : \"m\" }\n", "{ \"model\" : \"m\",\"stream_options\":{\"include_usage\":true} }\n"},
		{"null replaced", `{"stream_options":null,"model":"m"}`, `{"stream_options":{"include_usage":true},"model":"m"}`},
		{"false replaced", `{"stream_options": {"include_usage": false, "x": 1.50}}`, `{"stream_options": {"include_usage": true, "x": 1.50}}`},
		{"null value replaced", `{"stream_options":{"include_usage":null}}`, `{"stream_options":{"include_usage":true}}`},
		{"true kept", `{"stream_options":{"include_usage":true}}`, `{"stream_options":{"include_usage":true}}`},
		{"member added", `{"stream_options":{"continuous_usage_stats":true},"n":1}`,
			`{"stream_options":{"continuous_usage_stats":true,"include_usage":true},"n":1}`},
		{"member added to empty", `{"stream_options":{ }}`, `{"stream_options":{"include_usage":true }}`},
		{"every duplicate set", `{"stream_options":{"include_usage":false,"a":"\u00e9","include_usage":0}}`,
			`{"stream_options":{"include_usage":true,"a":"\u00e9","include_usage":true}}`},
		{"escaped keys", `{"stream_\u006fptions":{"include_\u0075sage":false}}`, `{"stream_\u006fptions":{"include_\u0075sage":true}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.body)
			got, err := WithStreamUsage(in)
			if err != nil {
				t.Fatalf("err=%v, want nil", err)
			}
			if string(got) != tt.want {
				t.Fatalf("body=%s, want %s", got, tt.want)
			}
			if string(in) != tt.body {
				t.Fatalf("input modified to %s", in)
			}
		})
	}
}

func TestWithStreamUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"not an object", `[]`, "request body must be a JSON object"},
		{"invalid", `{"stream_options":{"include_usage":true}`, "request body is not valid JSON"},
		{"invalid member", `{"stream_options":{"include_usage":tru}}`, "request body is not valid JSON"},
		{"array", `{"stream_options":[]}`, `"stream_options" must be an object`},
		{"duplicate", `{"stream_options":{},"stream_options":null}`, `"stream_options" must appear only once`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := WithStreamUsage([]byte(tt.body))
			wantBadRequest(t, err, tt.want)
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

func FuzzInspectRequest(f *testing.F) {
	for _, b := range fixtures(f, "*_request.json") {
		f.Add(b)
	}
	f.Add([]byte(`{"model":"m","messages":[{"content":[{"type":"text","text":"a\u00e9"}]}],"n":2}`))
	f.Add([]byte(`{"model":"m","prompt":[[1,2],"x",3],"stream_options":{"include_usage":false}}`))
	f.Add([]byte(`{"model":"m","input":"\ud83d\ude00","max_tokens":1e3}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		info, err := InspectRequest(body)
		if err != nil {
			var e *meter.Error
			if !errors.As(err, &e) || e.Code != meter.ECodeBadRequest || e.Message == "" {
				t.Fatalf("err=%#v, want *meter.Error with code %s", err, meter.ECodeBadRequest)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if info.Model == "" || info.PromptBytes < 0 || info.Messages < 0 || info.MaxTokens < 0 || info.N < 1 || info.N > maxChoices {
			t.Fatalf("info=%+v out of range", info)
		}
		if low := promptLowerBound(body); info.PromptBytes < low {
			t.Fatalf("PromptBytes=%d, want at least %d", info.PromptBytes, low)
		}
		out, err := WithStreamUsage(body)
		if err != nil {
			t.Fatalf("WithStreamUsage: err=%v, want nil", err)
		}
		if !json.Valid(out) {
			t.Fatalf("WithStreamUsage made invalid JSON %q", out)
		}
		got, err := InspectRequest(out)
		if err != nil {
			t.Fatalf("InspectRequest(WithStreamUsage): err=%v, want nil", err)
		}
		want := info
		want.IncludeUsage = true
		if got != want {
			t.Fatalf("after WithStreamUsage info=%+v, want %+v", got, want)
		}
	})
}

func BenchmarkInspectRequest(b *testing.B) {
	body := readFixture(b, "chat_request.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := InspectRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}
