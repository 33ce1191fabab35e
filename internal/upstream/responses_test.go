package upstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// jsonCost is what scanner.cost counts for a raw JSON value that is not a
// string: its length, plus one per ',' and ':' outside strings.
func jsonCost(raw string) int64 {
	n, in, esc := int64(len(raw)), false, false
	for _, c := range []byte(raw) {
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case !in && (c == ',' || c == ':'):
			n++
		}
	}
	return n
}

// rawMember returns the raw JSON of a top-level member of body.
func rawMember(tb testing.TB, body []byte, key string) string {
	tb.Helper()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		tb.Fatal(err)
	}
	return string(top[key])
}

func TestInspectResponses(t *testing.T) {
	fixture := readFixture(t, "responses_request.json")
	fn := `{"type":"function","name":"f","parameters":{}}`
	tests := []struct {
		name string
		body string
		want RequestInfo
	}{
		{"SDK fixture", string(fixture), RequestInfo{
			Model: "gpt-5-mini", Stream: true, MaxTokens: 256, N: 1, Messages: 5,
			PromptBytes: n("You are terse.", "user", "What is the weather in Paris? Here is a photo.",
				"user", "Is it this sunny?", "auto", // the image's detail
				"call_Xy12", "get_weather", `{"city":"Paris"}`, "call_Xy12", "18°C, sunny", "auto") +
				jsonCost(rawMember(t, fixture, "tools")) + jsonCost(rawMember(t, fixture, "text")),
			Images: 1, ImagePart: "input[1].content[1]",
		}},
		{"minimal", `{"model":"m"}`, RequestInfo{Model: "m", N: 1}},
		{"input string and instructions", `{"model":"m","instructions":"Be brief.","input":"caf\u00e9"}`,
			RequestInfo{Model: "m", N: 1, Messages: 2, PromptBytes: n("Be brief.", "café")}},
		{"null input and instructions", `{"model":"m","instructions":null,"input":null}`, RequestInfo{Model: "m", N: 1}},
		{"max_output_tokens", `{"model":"m","max_output_tokens":100}`, RequestInfo{Model: "m", N: 1, MaxTokens: 100}},
		{"max_output_tokens zero", `{"model":"m","max_output_tokens":0}`, RequestInfo{Model: "m", N: 1}},
		{"max_output_tokens null", `{"model":"m","max_output_tokens":null}`, RequestInfo{Model: "m", N: 1}},
		{"previous_response_id", `{"model":"m","previous_response_id":"resp_1","input":"more"}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 4, HiddenInput: true}},
		{"null previous_response_id", `{"model":"m","previous_response_id":null}`, RequestInfo{Model: "m", N: 1}},
		{"conversation id", `{"model":"m","conversation":"conv_1"}`, RequestInfo{Model: "m", N: 1, HiddenInput: true}},
		{"conversation object", `{"model":"m","conversation":{"id":"conv_1"}}`, RequestInfo{Model: "m", N: 1, HiddenInput: true}},
		{"item_reference", `{"model":"m","input":[{"type":"item_reference","id":"msg_1"}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("msg_1"), HiddenInput: true}},
		{"compaction item", `{"model":"m","input":[{"type":"compaction","encrypted_content":"gAAA"}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("gAAA"), HiddenInput: true}},
		{"encrypted reasoning", `{"model":"m","input":[{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"gAAA"}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("rs_1", "[]", "gAAA"), HiddenInput: true}},
		// Without encrypted content, the upstream rehydrates the reasoning
		// its id names from its store (docs/design.md §2a).
		{"reasoning by id without encrypted content", `{"model":"m","input":[{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"hm"}],"encrypted_content":null,"content":[{"type":"reasoning_text","text":"ab"}]}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("rs_1", `[{"type":"summary_text","text":"hm"}]`, ",::", "null", "ab"), HiddenInput: true}},
		{"output message replayed", `{"model":"m","input":[{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hi","annotations":[]},{"type":"refusal","refusal":"no"}]}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("assistant", "Hi", "[]", "no")}},
		{"type after content", `{"model":"m","input":[{"content":"x","type":"message"}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: 1}},
		{"tool output with parts", `{"model":"m","input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_text","text":"ab"},{"type":"input_image","file_id":"file_1"},{"type":"input_file","file_data":"QUJD"}]}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("c", "ab", "file_1", "QUJD"), Images: 1, Files: 1,
				ImagePart: "input[0].content[1]", FilePart: "input[0].content[2]"}},
		{"custom tool call and output", `{"model":"m","input":[{"type":"custom_tool_call","call_id":"c","name":"sh","input":"ls"},{"type":"custom_tool_call_output","call_id":"c","output":"a.txt"}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 2, PromptBytes: n("c", "sh", "ls", "c", "a.txt")}},
		{"function and custom tools", `{"model":"m","tools":[` + fn + `,{"type":"custom","name":"sh"}]}`,
			RequestInfo{Model: "m", N: 1, PromptBytes: jsonCost(`[` + fn + `,{"type":"custom","name":"sh"}]`)}},
		{"tool choices", `{"model":"m","tool_choice":"required"}`, RequestInfo{Model: "m", N: 1, PromptBytes: n("required")}},
		{"function tool choice", `{"model":"m","tool_choice":{"type":"function","name":"f"}}`,
			RequestInfo{Model: "m", N: 1, PromptBytes: jsonCost(`{"type":"function","name":"f"}`)}},
		{"allowed tools", `{"model":"m","tool_choice":{"type":"allowed_tools","mode":"auto","tools":[{"type":"function","name":"f"}]}}`,
			RequestInfo{Model: "m", N: 1, PromptBytes: jsonCost(`{"type":"allowed_tools","mode":"auto","tools":[{"type":"function","name":"f"}]}`)}},
		{"text format", `{"model":"m","text":{"format":{"type":"json_schema","name":"x","schema":{}}}}`,
			RequestInfo{Model: "m", N: 1, PromptBytes: jsonCost(`{"format":{"type":"json_schema","name":"x","schema":{}}}`)}},
		{"shaping and storage fields", `{"model":"m","temperature":0.2,"top_p":1,"top_logprobs":3,"parallel_tool_calls":false,` +
			`"max_tool_calls":2,"reasoning":{"effort":"high","summary":"auto"},"truncation":"auto","user":"u","safety_identifier":"s",` +
			`"prompt_cache_key":"k","metadata":{"a":"b"},"store":false,"include":["reasoning.encrypted_content"],` +
			`"background":false,"service_tier":"default","stream_options":{"include_obfuscation":false},"stream":true}`,
			RequestInfo{Model: "m", N: 1, Stream: true}},
		{"null options", `{"model":"m","service_tier":null,"stream_options":null,"background":null,"tools":null}`, RequestInfo{Model: "m", N: 1}},
		{"service tier auto", `{"model":"m","service_tier":"auto"}`, RequestInfo{Model: "m", N: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := InspectRequest([]byte(tt.body), APIResponses)
			if err != nil {
				t.Fatalf("err=%v, want nil", err)
			}
			tt.want.api, tt.want.edits = APIResponses, got.edits
			if got != tt.want {
				t.Fatalf("info=%+v,\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestInspectResponsesRefusals(t *testing.T) {
	const m = `"model":"m",`
	tests := []struct {
		name, body, code, field string
	}{
		{"folded model", `{"model":"m","MODEL":"x"}`, meter.ECodeAmbiguousField, "MODEL"},
		{"folded input", `{` + m + `"Input":"x"}`, meter.ECodeAmbiguousField, "Input"},
		{"kelvin sign", `{` + m + `"max_output_tokens":16,"max_output_to\u212aens":9999}`, meter.ECodeAmbiguousField, "max_output_to\u212aens"},
		{"escaped folded key", `{` + m + `"\u0050revious_response_id":"r"}`, meter.ECodeAmbiguousField, "Previous_response_id"},
		{"duplicate model", `{"model":"m","mod\u0065l":"n"}`, meter.ECodeAmbiguousField, "model"},
		{"duplicate max_output_tokens", `{` + m + `"max_output_tokens":16,"max_output_tokens":9999}`, meter.ECodeAmbiguousField, "max_output_tokens"},
		{"chat's max_tokens", `{` + m + `"max_tokens":16}`, meter.ECodeUnsupportedField, "max_tokens"},
		{"chat's messages", `{` + m + `"messages":[]}`, meter.ECodeUnsupportedField, "messages"},
		{"unknown field", `{` + m + `"n":2}`, meter.ECodeUnsupportedField, "n"},
		{"stored prompt", `{` + m + `"prompt":{"id":"pmpt_1"}}`, meter.ECodeUnsupportedField, "prompt"},
		{"context management", `{` + m + `"context_management":[{"type":"compaction"}]}`, meter.ECodeUnsupportedField, "context_management"},
		{"background", `{` + m + `"background":true}`, meter.ECodeUnsupportedField, "background"},
		{"priority tier", `{` + m + `"service_tier":"priority"}`, meter.ECodeUnsupportedField, "service_tier"},
		{"flex tier", `{` + m + `"service_tier":"flex"}`, meter.ECodeUnsupportedField, "service_tier"},
		{"web search", `{` + m + `"tools":[{"type":"function","name":"f"},{"type":"web_search"}]}`, meter.ECodeUnsupportedField, "tools[1]"},
		{"file search", `{` + m + `"tools":[{"type":"file_search","vector_store_ids":["vs"]}]}`, meter.ECodeUnsupportedField, "tools[0]"},
		{"code interpreter", `{` + m + `"tools":[{"container":{"type":"auto"},"type":"code_interpreter"}]}`, meter.ECodeUnsupportedField, "tools[0]"},
		{"image generation", `{` + m + `"tools":[{"type":"image_generation"}]}`, meter.ECodeUnsupportedField, "tools[0]"},
		{"computer use", `{` + m + `"tools":[{"type":"computer_use_preview","display_width":1024}]}`, meter.ECodeUnsupportedField, "tools[0]"},
		{"mcp", `{` + m + `"tools":[{"type":"mcp","server_label":"x"}]}`, meter.ECodeUnsupportedField, "tools[0]"},
		{"shell", `{` + m + `"tools":[{"type":"local_shell"}]}`, meter.ECodeUnsupportedField, "tools[0]"},
		{"tool type twice", `{` + m + `"tools":[{"type":"function","type":"web_search"}]}`, meter.ECodeAmbiguousField, "tools[0].type"},
		{"tool type folded", `{` + m + `"tools":[{"type":"function","Type":"web_search"}]}`, meter.ECodeAmbiguousField, "tools[0].Type"},
		{"built-in tool choice", `{` + m + `"tool_choice":{"type":"web_search_preview"}}`, meter.ECodeUnsupportedField, "tool_choice"},
		{"mcp tool choice", `{` + m + `"tool_choice":{"type":"mcp","server_label":"x"}}`, meter.ECodeUnsupportedField, "tool_choice"},
		{"built-in tool call item", `{` + m + `"input":[{"role":"user","content":"hi"},{"type":"web_search_call","id":"ws_1","status":"completed"}]}`,
			meter.ECodeContentNotPriced, ""},
		{"screenshot item", `{` + m + `"input":[{"type":"computer_call_output","call_id":"c","output":{"type":"computer_screenshot","image_url":"data:"}}]}`,
			meter.ECodeContentNotPriced, ""},
		{"item type twice", `{` + m + `"input":[{"type":"message","content":"x","type":"item_reference"}]}`, meter.ECodeAmbiguousField, "input[0].type"},
		{"item content folded", `{` + m + `"input":[{"role":"user","content":"x","Content":"` + strings.Repeat("y", 100) + `"}]}`,
			meter.ECodeAmbiguousField, "input[0].Content"},
		{"item output folded", `{` + m + `"input":[{"type":"function_call_output","call_id":"c","OUTPUT":"x"}]}`, meter.ECodeAmbiguousField, "input[0].OUTPUT"},
		{"item encrypted content folded", `{` + m + `"input":[{"type":"reasoning","Encrypted_Content":"x"}]}`, meter.ECodeAmbiguousField, "input[0].Encrypted_Content"},
		{"unknown part", `{` + m + `"input":[{"role":"user","content":[{"type":"input_video","url":"x"}]}]}`, meter.ECodeContentNotPriced, ""},
		{"part type folded", `{` + m + `"input":[{"role":"user","content":[{"type":"input_text","TEXT":"x"}]}]}`, meter.ECodeAmbiguousField, "input[0].content[0].TEXT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := InspectRequest([]byte(tt.body), APIResponses)
			var e *meter.Error
			if !errors.As(err, &e) || e.Code != tt.code {
				t.Fatalf("err=%v, want code %s", err, tt.code)
			}
			if tt.field != "" && e.Details["field"] != tt.field {
				t.Fatalf("details=%v, want field %q", e.Details, tt.field)
			}
		})
	}
}

func TestInspectResponsesNotPricedNamesTheItem(t *testing.T) {
	_, err := InspectRequest([]byte(`{"model":"m","input":["x",{"status":"completed","type":"file_search_call"}]}`), APIResponses)
	var e *meter.Error
	if !errors.As(err, &e) || e.Code != meter.ECodeContentNotPriced || e.Details["part"] != "input[1]" || e.Details["type"] != "file_search_call" {
		t.Fatalf("err=%v (%+v), want content_not_priced naming input[1] and its type", err, e)
	}
	_, err = InspectRequest([]byte(`{"model":"m","input":[{"content":[{"type":"input_video"}]}]}`), APIResponses)
	if !errors.As(err, &e) || e.Code != meter.ECodeContentNotPriced || e.Details["part"] != "input[0].content[0]" || e.Details["type"] != "input_video" {
		t.Fatalf("err=%v (%+v), want content_not_priced naming input[0].content[0]", err, e)
	}
}

func TestInspectResponsesBadRequests(t *testing.T) {
	for _, body := range []string{
		``, `[]`, `{"model":"m"`, `{"model":"m",}`, `{"input":"x"}`, `{"model":""}`, `{"model":1}`,
		`{"model":"m","max_output_tokens":-1}`, `{"model":"m","max_output_tokens":1.5}`, `{"model":"m","max_output_tokens":"9"}`,
		`{"model":"m","input":1}`, `{"model":"m","input":{}}`, `{"model":"m","instructions":["x"]}`,
		`{"model":"m","stream":"yes"}`, `{"model":"m","background":1}`, `{"model":"m","previous_response_id":5}`,
		`{"model":"m","conversation":[]}`, `{"model":"m","stream_options":"x"}`, `{"model":"m","tools":{}}`,
		`{"model":"m","tools":[{"type":1}]}`, `{"model":"m","input":[{"type":null}]}`, `{"model":"m","input":[{"content":"x",}]}`,
		`{"model":"m","tools":[{"type":"function",}]}`, `{"model":"m","temperature":01}`, "{\"model\":\"m\",\"input\":\"\xff\"}",
	} {
		_, err := InspectRequest([]byte(body), APIResponses)
		if code := meter.ErrorCode(err); code != meter.ECodeBadRequest {
			t.Errorf("%s: err=%v, want bad_request", body, err)
		}
	}
}

func TestResponsesForwardBody(t *testing.T) {
	price := meter.Price{MaxOutputTokens: 77}
	tests := []struct{ name, body, want string }{
		{"absent", `{"model":"m","input":"hi"}`, `{"model":"m","input":"hi","max_output_tokens":77}`},
		{"zero", `{"model":"m","max_output_tokens":0,"input":"hi"}`, `{"model":"m","max_output_tokens":77,"input":"hi"}`},
		{"null", `{ "model" : "m" , "max_output_tokens" : null }`, `{ "model" : "m" , "max_output_tokens" : 77 }`},
		{"stream gets no stream_options", `{"model":"m","stream":true}`, `{"model":"m","stream":true,"max_output_tokens":77}`},
		{"own limit kept", `{"model":"m","max_output_tokens":5,"stream":true}`, `{"model":"m","max_output_tokens":5,"stream":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			info, err := InspectRequest(body, APIResponses)
			if err != nil {
				t.Fatal(err)
			}
			if got := info.ForwardBody(body, price); string(got) != tt.want {
				t.Fatalf("forwarded %s, want %s", got, tt.want)
			}
			if string(body) != tt.body {
				t.Fatalf("body modified: %s", body)
			}
		})
	}
	// Without a cap and without a limit there is nothing to write.
	body := []byte(`{"model":"m"}`)
	info, _ := InspectRequest(body, APIResponses)
	if got := info.ForwardBody(body, meter.Price{}); string(got) != string(body) {
		t.Fatalf("forwarded %s, want the body as it is", got)
	}
}

// gpt5mini is a price with every input rate, as OpenAI's gpt-5-mini.
func gpt5mini(tb testing.TB) meter.Price {
	tb.Helper()
	p := meter.Price{Input: credits(tb, "0.25"), CachedInput: credits(tb, "0.025"), Output: credits(tb, "2")}
	return p
}

func credits(tb testing.TB, s string) meter.Amount {
	tb.Helper()
	a, err := meter.ParseAmount(s)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func TestParseResponsesAnswer(t *testing.T) {
	u, model, ok := ParseResponse(APIResponses, readFixture(t, "responses_answer.json"))
	want := meter.Usage{InputTokens: 2006 - 1920, CachedInputTokens: 1920, OutputTokens: 75, ReasoningTokens: 64}
	if !ok || u != want || string(model) != "gpt-5-mini-2025-08-07" {
		t.Fatalf("usage=%+v ok=%t model=%q, want %+v from gpt-5-mini-2025-08-07", u, ok, model, want)
	}
	// 86 × 0.25 + 1920 × 0.025 + 75 × 2 credits per million.
	if got, want := gpt5mini(t).Cost(u), credits(t, "0.0002195"); got != want {
		t.Fatalf("cost=%s, want %s", got, want)
	}

	tests := []struct {
		name string
		body string
		want meter.Usage
		ok   bool
	}{
		{"plain", `{"usage":{"input_tokens":10,"output_tokens":3}}`, meter.Usage{InputTokens: 10, OutputTokens: 3}, true},
		{"cached above input is cut", `{"usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":99},"output_tokens":3}}`,
			meter.Usage{CachedInputTokens: 10, OutputTokens: 3}, true},
		{"negative cached reads 0", `{"usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":-5},"output_tokens":3}}`,
			meter.Usage{InputTokens: 10, OutputTokens: 3}, true},
		{"cached as a string reads 0", `{"usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":"9"},"output_tokens":3}}`,
			meter.Usage{InputTokens: 10, OutputTokens: 3}, true},
		{"last cached wins", `{"usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":8,"cached_tokens":2}}}`,
			meter.Usage{InputTokens: 8, CachedInputTokens: 2}, true},
		{"reasoning above output is cut", `{"usage":{"input_tokens":1,"output_tokens":3,"output_tokens_details":{"reasoning_tokens":7}}}`,
			meter.Usage{InputTokens: 1, OutputTokens: 3, ReasoningTokens: 3}, true},
		{"null output", `{"usage":{"input_tokens":4,"output_tokens":null}}`, meter.Usage{InputTokens: 4}, true},
		{"no input", `{"usage":{"output_tokens":4}}`, meter.Usage{}, false},
		{"negative input", `{"usage":{"input_tokens":-4,"output_tokens":4}}`, meter.Usage{}, false},
		{"fractional output", `{"usage":{"input_tokens":4,"output_tokens":4.5}}`, meter.Usage{}, false},
		{"huge input", `{"usage":{"input_tokens":99999999999999999999}}`, meter.Usage{}, false},
		{"null usage", `{"usage":null}`, meter.Usage{}, false},
		{"last usage wins", `{"usage":{"input_tokens":1},"usage":{"input_tokens":2}}`, meter.Usage{InputTokens: 2}, true},
		{"chat's names are not read", `{"usage":{"prompt_tokens":5,"completion_tokens":5}}`, meter.Usage{}, false},
		{"nested usage ignored", `{"output":[{"usage":{"input_tokens":9}}]}`, meter.Usage{}, false},
		{"invalid JSON", `{"usage":{"input_tokens":1}`, meter.Usage{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _, ok := ParseResponse(APIResponses, []byte(tt.body))
			if u != tt.want || ok != tt.ok {
				t.Fatalf("usage=%+v ok=%t, want %+v %t", u, ok, tt.want, tt.ok)
			}
		})
	}
}

// meterResponses runs a whole Responses stream through an EventReader and a
// StreamMeter, and returns the meter and the events that carried usage.
func meterResponses(tb testing.TB, stream []byte) (*StreamMeter, []string) {
	tb.Helper()
	events, err := readEvents(bytes.NewReader(stream), 0)
	if err != nil && err.Error() != "EOF" {
		tb.Fatalf("err=%v, want EOF", err)
	}
	m := &StreamMeter{API: APIResponses}
	var usageEvents []string
	for _, ev := range events {
		m.Observe([]byte(ev))
		if m.UsageEvent() {
			usageEvents = append(usageEvents, ev)
		}
	}
	return m, usageEvents
}
