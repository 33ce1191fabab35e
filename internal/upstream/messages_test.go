package upstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

func TestInspectMessages(t *testing.T) {
	// A block counts the per-item allowance, its type, and every member's
	// cost, but an image's or a non-text document's data; a tool its raw
	// JSON, one byte per separator (6 here) and the per-item allowance.
	const a = perItemAllowance
	tool := `{"name":"get_weather","description":"Weather.","input_schema":{"type":"object"}}`
	tools := `[` + tool + `]`
	img := `{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}`
	pdf := `{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="}}`
	tests := []struct {
		name string
		body string
		want RequestInfo
	}{
		{"string content", `{"model":"claude","max_tokens":100,"messages":[{"role":"user","content":"Hello"}]}`,
			RequestInfo{Model: "claude", MaxTokens: 100, N: 1, Messages: 1, PromptBytes: n("user", "Hello")}},
		{"system string and blocks, stream", `{"model":"c","max_tokens":5,"stream":true,"system":"Be brief.","messages":[{"role":"user","content":[{"type":"text","text":"caf\u00e9","cache_control":{"type":"ephemeral"}}]}]}`,
			RequestInfo{Model: "c", Stream: true, MaxTokens: 5, N: 1, Messages: 2,
				PromptBytes: n("Be brief.", "user", "text", "café", `{"type":"ephemeral"}`) + 1 + a}},
		{"system text blocks", `{"model":"c","max_tokens":5,"system":[{"type":"text","text":"S1"},{"type":"text","text":"S2"}],"messages":[]}`,
			RequestInfo{Model: "c", MaxTokens: 5, N: 1, Messages: 1, PromptBytes: n("text", "S1", "text", "S2") + 2*a}},
		{"tools add the tool-use prompt", `{"model":"c","max_tokens":5,"tools":` + tools + `,"tool_choice":{"type":"auto"},"messages":[]}`,
			RequestInfo{Model: "c", MaxTokens: 5, N: 1,
				PromptBytes: n(tool) + 6 + a + n(`{"type":"auto"}`) + 1 + toolsAllowance}},
		{"tool use and result", `{"model":"c","max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{"a":1}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"sunny"},` + img + `]}]}]}`,
			RequestInfo{Model: "c", MaxTokens: 5, N: 1, Messages: 2, Images: 1, ImagePart: "messages[1].content[0]",
				PromptBytes: n("assistant", "tool_use", "t1", "f", `{"a":1}`) + 1 + a +
					n("user", "tool_result", "t1") + a + n("text", "sunny") + a + n("image", "base64", "image/png") + a}},
		{"thinking blocks", `{"model":"c","max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"sig"},{"type":"redacted_thinking","data":"xyz"}]}]}`,
			RequestInfo{Model: "c", MaxTokens: 2048, N: 1, Messages: 1,
				PromptBytes: n("assistant", "thinking", "hmm", "sig", "redacted_thinking", "xyz") + 2*a}},
		{"image and pdf", `{"model":"c","max_tokens":5,"messages":[{"role":"user","content":[` + img + `,` + pdf + `,` + pdf + `]}]}`,
			RequestInfo{Model: "c", MaxTokens: 5, N: 1, Messages: 1, Images: 1, Files: 2,
				ImagePart: "messages[0].content[0]", FilePart: "messages[0].content[1]",
				PromptBytes: n("user", "image", "base64", "image/png") + a + 2*(n("document", "base64", "application/pdf")+a)}},
		{"text document counts its text", `{"model":"c","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"The grass is green."},"title":"T"}]}]}`,
			RequestInfo{Model: "c", MaxTokens: 5, N: 1, Messages: 1, Files: 1, FilePart: "messages[0].content[0]",
				PromptBytes: n("user", "document", "text", "text/plain", "The grass is green.", "T") + a}},
		{"shaping fields", `{"model":"c","max_tokens":5,"temperature":0.5,"top_p":0.9,"top_k":40,"stop_sequences":["x"],"metadata":{"user_id":"u"},"service_tier":"standard_only","inference_geo":"global","speed":null,"cache_control":{"type":"ephemeral"},"messages":[]}`,
			RequestInfo{Model: "c", MaxTokens: 5, N: 1}},
		{"a type twice is priced as both", `{"model":"c","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","type":"text","text":"a","source":{"type":"base64","type":"text","data":"xy"}}]}]}`,
			RequestInfo{Model: "c", MaxTokens: 5, N: 1, Messages: 1, Images: 1, ImagePart: "messages[0].content[0]",
				PromptBytes: n("user", "image", "text", "a", "base64", "text", "xy") + a}},
		{"adaptive thinking, output config", `{"model":"c","max_tokens":5,"thinking":{"type":"adaptive"},"output_config":{"effort":"low"},"messages":[]}`,
			RequestInfo{Model: "c", MaxTokens: 5, N: 1, PromptBytes: n(`{"effort":"low"}`) + 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := InspectRequest([]byte(tt.body), APIMessages)
			if err != nil {
				t.Fatal(err)
			}
			got.api, got.edits = 0, bodyEdits{}
			if got != tt.want {
				t.Fatalf("info=%+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// Each refusal has its code, and names the field or block.
func TestInspectMessagesErrors(t *testing.T) {
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name, body, code, field string
	}{
		{"max_tokens absent", `{"model":"c",` + msgs + `}`, meter.ECodeBadRequest, "max_tokens"},
		{"max_tokens 0", `{"model":"c","max_tokens":0,` + msgs + `}`, meter.ECodeBadRequest, "max_tokens"},
		{"max_tokens null", `{"model":"c","max_tokens":null,` + msgs + `}`, meter.ECodeBadRequest, "max_tokens"},
		{"max_tokens negative", `{"model":"c","max_tokens":-1,` + msgs + `}`, meter.ECodeBadRequest, ""},
		{"max_tokens fraction", `{"model":"c","max_tokens":1.5,` + msgs + `}`, meter.ECodeBadRequest, ""},
		{"model absent", `{"max_tokens":5,` + msgs + `}`, meter.ECodeBadRequest, ""},
		{"folded key", `{"model":"c","max_tokens":5,"Max_Tokens":9,` + msgs + `}`, meter.ECodeAmbiguousField, "Max_Tokens"},
		{"kelvin sign", `{"model":"c","max_to\u212aens":5,` + msgs + `}`, meter.ECodeAmbiguousField, "max_to\u212aens"},
		{"duplicate", `{"model":"c","max_tokens":5,"max_tokens":9,` + msgs + `}`, meter.ECodeAmbiguousField, "max_tokens"},
		{"unknown field", `{"model":"c","max_tokens":5,"n":2,` + msgs + `}`, meter.ECodeUnsupportedField, "n"},
		{"container", `{"model":"c","max_tokens":5,"container":"c1",` + msgs + `}`, meter.ECodeUnsupportedField, "container"},
		{"mcp_servers", `{"model":"c","max_tokens":5,"mcp_servers":[],` + msgs + `}`, meter.ECodeUnsupportedField, "mcp_servers"},
		{"context_management", `{"model":"c","max_tokens":5,"context_management":{},` + msgs + `}`, meter.ECodeUnsupportedField, "context_management"},
		{"server tool", `{"model":"c","max_tokens":5,"tools":[{"type":"web_search_20250305","name":"web_search","max_uses":5}],` + msgs + `}`, meter.ECodeUnsupportedField, "tools[0].type"},
		{"anthropic client tool", `{"model":"c","max_tokens":5,"tools":[{"name":"f"},{"type":"bash_20250124","name":"bash"}],` + msgs + `}`, meter.ECodeUnsupportedField, "tools[1].type"},
		{"tool type folded", `{"model":"c","max_tokens":5,"tools":[{"TYPE":"web_search_20250305","name":"w"}],` + msgs + `}`, meter.ECodeAmbiguousField, "tools[0].TYPE"},
		{"service tier", `{"model":"c","max_tokens":5,"service_tier":"priority",` + msgs + `}`, meter.ECodeUnsupportedField, "service_tier"},
		{"inference geo", `{"model":"c","max_tokens":5,"inference_geo":"us",` + msgs + `}`, meter.ECodeUnsupportedField, "inference_geo"},
		{"fast mode", `{"model":"c","max_tokens":5,"speed":"fast",` + msgs + `}`, meter.ECodeUnsupportedField, "speed"},
		{"thinking type", `{"model":"c","max_tokens":5,"thinking":{"type":"turbo"},` + msgs + `}`, meter.ECodeUnsupportedField, "thinking"},
		{"thinking type twice", `{"model":"c","max_tokens":5,"thinking":{"type":"turbo","type":"enabled"},` + msgs + `}`, meter.ECodeUnsupportedField, "thinking"},
		{"thinking budget", `{"model":"c","max_tokens":5,"thinking":{"type":"enabled","budget_tokens":-3},` + msgs + `}`, meter.ECodeBadRequest, ""},
		{"thinking folded", `{"model":"c","max_tokens":5,"thinking":{"type":"enabled","Budget_Tokens":3},` + msgs + `}`, meter.ECodeAmbiguousField, "thinking.Budget_Tokens"},
		{"server tool block", `{"model":"c","max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"server_tool_use","id":"s","name":"web_search","input":{}}]}]}`, meter.ECodeContentNotPriced, ""},
		{"block without type", `{"model":"c","max_tokens":5,"messages":[{"role":"user","content":[{"source":{"type":"base64","data":"x"}}]}]}`, meter.ECodeBadRequest, ""},
		{"content folded", `{"model":"c","max_tokens":5,"messages":[{"role":"user","Content":"x"}]}`, meter.ECodeAmbiguousField, "messages[0].Content"},
		{"source folded", `{"model":"c","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","Source":{}}]}]}`, meter.ECodeAmbiguousField, "messages[0].content[0].Source"},
		{"source data folded", `{"model":"c","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","DATA":"x"}}]}]}`, meter.ECodeAmbiguousField, "messages[0].content[0].source.DATA"},
		{"not an object", `[1]`, meter.ECodeBadRequest, ""},
		{"invalid JSON", `{"model":"c","max_tokens":5,` + msgs, meter.ECodeBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := InspectRequest([]byte(tt.body), APIMessages)
			var e *meter.Error
			if !errors.As(err, &e) || e.Code != tt.code || e.Message == "" {
				t.Fatalf("err=%v, want %s", err, tt.code)
			}
			if f, _ := e.Details["field"].(string); f != tt.field {
				t.Fatalf("details.field=%q, want %q (%s)", f, tt.field, e.Message)
			}
		})
	}
}

// An image or PDF for a model that does not bound them is refused with
// content_not_priced; bounded, each is held at its kind's bound, and
// max_tokens is the held output, never rewritten.
func TestInspectMessagesPriced(t *testing.T) {
	body := []byte(`{"model":"c","max_tokens":7,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}},{"type":"document","source":{"type":"url","url":"https://x/y.pdf"}}]}]}`)
	info, err := InspectRequest(body, APIMessages)
	if err != nil {
		t.Fatal(err)
	}
	err = info.CheckPriced(meter.Price{MaxFileTokens: 100})
	wantError(t, err, meter.ECodeContentNotPriced, `content part messages[0].content[0] (image_url) has no price for model "c"`)
	p := meter.Price{MaxImageTokens: 1600, MaxFileTokens: 30000, MaxOutputTokens: 99}
	if err := info.CheckPriced(p); err != nil {
		t.Fatal(err)
	}
	// The sources' members count (the URLs, their types), not what they point at.
	blocks := n("image", "url", "https://x/y.png", "document", "url", "https://x/y.pdf") + 2*perItemAllowance
	if got, want := info.InputBound(p), n("user")+blocks+1600+30000+perItemAllowance+perRequestAllowance; got != want {
		t.Fatalf("InputBound=%d, want %d", got, want)
	}
	if got := info.OutputBound(p); got != 7 {
		t.Fatalf("OutputBound=%d, want max_tokens 7", got)
	}
	if out := info.ForwardBody(body, p); !bytes.Equal(out, body) {
		t.Fatalf("ForwardBody changed the body: %s", out)
	}
}

var messagesPrice = meter.Price{
	Input: mustAmount("3"), Output: mustAmount("15"), CachedInput: mustAmount("0.3"),
	CacheWrite: mustAmount("3.75"), CacheWrite1h: mustAmount("6"),
}

func mustAmount(s string) meter.Amount {
	a, err := meter.ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return a
}

func TestParseMessagesAnswer(t *testing.T) {
	fixture := readFixture(t, "messages_message.json")
	tests := []struct {
		name string
		body string
		want meter.Usage
		ok   bool
	}{
		{"fixture", string(fixture), meter.Usage{InputTokens: 472, CachedInputTokens: 2048, CacheWrite1hTokens: 1024, OutputTokens: 89}, true},
		{"no breakdown: all writes are 5m", `{"usage":{"input_tokens":10,"cache_creation_input_tokens":30,"cache_read_input_tokens":null,"output_tokens":4}}`,
			meter.Usage{InputTokens: 10, CacheWriteTokens: 30, OutputTokens: 4}, true},
		{"breakdown split", `{"usage":{"input_tokens":1,"cache_creation_input_tokens":30,"cache_creation":{"ephemeral_5m_input_tokens":10,"ephemeral_1h_input_tokens":20},"output_tokens":1}}`,
			meter.Usage{InputTokens: 1, CacheWriteTokens: 10, CacheWrite1hTokens: 20, OutputTokens: 1}, true},
		{"parts above the total: the parts", `{"usage":{"input_tokens":1,"cache_creation_input_tokens":5,"cache_creation":{"ephemeral_5m_input_tokens":50,"ephemeral_1h_input_tokens":50},"output_tokens":1}}`,
			meter.Usage{InputTokens: 1, CacheWriteTokens: 50, CacheWrite1hTokens: 50, OutputTokens: 1}, true},
		{"total above the parts: the rest is 5m", `{"usage":{"input_tokens":1,"cache_creation_input_tokens":100,"cache_creation":{"ephemeral_1h_input_tokens":20},"output_tokens":1}}`,
			meter.Usage{InputTokens: 1, CacheWriteTokens: 80, CacheWrite1hTokens: 20, OutputTokens: 1}, true},
		{"huge parts saturate", `{"usage":{"input_tokens":1,"cache_creation":{"ephemeral_5m_input_tokens":9223372036854775807,"ephemeral_1h_input_tokens":9223372036854775807},"output_tokens":1}}`,
			meter.Usage{InputTokens: 1, CacheWriteTokens: 0, CacheWrite1hTokens: math.MaxInt64, OutputTokens: 1}, true},
		{"last key wins", `{"usage":{"input_tokens":1,"output_tokens":2,"input_tokens":7},"usage":{"input_tokens":3,"output_tokens":4}}`,
			meter.Usage{InputTokens: 3, OutputTokens: 4}, true},
		{"negative cache read", `{"usage":{"input_tokens":1,"cache_read_input_tokens":-5,"output_tokens":1}}`, meter.Usage{}, false},
		{"overflow", `{"usage":{"input_tokens":99999999999999999999,"output_tokens":1}}`, meter.Usage{}, false},
		{"fraction", `{"usage":{"input_tokens":1,"output_tokens":1.5}}`, meter.Usage{}, false},
		{"no output", `{"usage":{"input_tokens":1}}`, meter.Usage{}, false},
		{"no usage", `{"type":"message"}`, meter.Usage{}, false},
		{"invalid JSON", `{"usage":{"input_tokens":1,"output_tokens":1}`, meter.Usage{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _, ok := ParseResponse(APIMessages, []byte(tt.body))
			if ok != tt.ok || u != tt.want {
				t.Fatalf("usage=%+v ok=%v, want %+v %v", u, ok, tt.want, tt.ok)
			}
		})
	}
	_, model, _ := ParseResponse(APIMessages, fixture)
	if string(model) != "claude-sonnet-4-5-20250929" {
		t.Fatalf("model=%q", model)
	}
	u, _, _ := ParseResponse(APIMessages, fixture)
	if got, want := messagesPrice.Cost(u), mustAmount("0.0095094"); got != want {
		t.Fatalf("cost=%s, want %s", got, want)
	}
}

// The recorded stream formats, each with its exact cost: usage final at
// message_delta (its output cumulative, and with newer API versions its
// input too), text, thinking and tool input delivered, the signature not.
func TestMessagesStreamMeter(t *testing.T) {
	full := meter.Usage{InputTokens: 472, CachedInputTokens: 2048, CacheWrite1hTokens: 1024, OutputTokens: 89}
	delivered := n("The user wants the weather.", `Hello! "usage": café`, " Let me check.", `{"city": "Paris"}`)
	for _, name := range []string{"messages_stream.sse", "messages_stream_crlf.sse", "messages_stream_cumulative.sse"} {
		t.Run(name, func(t *testing.T) {
			m := meterAs(t, APIMessages, readFixture(t, name))
			u, ok := m.Usage()
			if !ok || u != full || m.DeliveredBytes() != delivered || !m.Done() {
				t.Fatalf("usage=%+v ok=%v delivered=%d done=%v, want %+v, %d", u, ok, m.DeliveredBytes(), m.Done(), full, delivered)
			}
			if got, want := messagesPrice.Cost(u), mustAmount("0.0095094"); got != want {
				t.Fatalf("cost=%s, want %s", got, want)
			}
			if string(m.Model()) != "claude-sonnet-4-5-20250929" {
				t.Fatalf("model=%q", m.Model())
			}
		})
	}
	// An error event mid-stream: the usage never became final; the known
	// input is charged exactly. The stream was thinking, so the output is
	// the whole bound held (max_tokens 1000), not the summary it sent.
	m := meterAs(t, APIMessages, readFixture(t, "messages_stream_error.sse"))
	if _, ok := m.Usage(); ok {
		t.Fatal("usage final after an error event")
	}
	if sent := n("The user wants the weather.", `Hello! "usage": café`, " Let me check."); m.DeliveredBytes() != sent {
		t.Fatalf("delivered %d, want %d", m.DeliveredBytes(), sent)
	}
	want := meter.Usage{InputTokens: 472, CachedInputTokens: 2048, CacheWrite1hTokens: 1024, OutputTokens: 1000}
	if got := m.Estimate(RequestInfo{MaxTokens: 1000, N: 1}, messagesPrice); got != want {
		t.Fatalf("estimate=%+v, want %+v", got, want)
	}
	if got, want := messagesPrice.Cost(want), mustAmount("0.0231744"); got != want {
		t.Fatalf("cost=%s, want %s", got, want)
	}
}

// meterAs runs a whole stream through a StreamMeter of api.
func meterAs(tb testing.TB, api API, stream []byte) *StreamMeter {
	tb.Helper()
	events, err := readEvents(bytes.NewReader(stream), 0)
	if err == nil {
		tb.Fatal("stream did not end")
	}
	m := &StreamMeter{API: api}
	for _, ev := range events {
		m.Observe([]byte(ev))
	}
	return m
}

// Usage is final only with message_delta's; a hostile count is not
// believed, and a count that goes down does not lower the charge.
func TestMessagesStreamMeterHostile(t *testing.T) {
	start := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n"
	delta := func(usage string) string {
		return "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":" + usage + "}\n\n"
	}
	tests := []struct {
		name   string
		stream string
		want   meter.Usage
		ok     bool
	}{
		{"start only", start, meter.Usage{}, false},
		{"delta without start or input", delta(`{"output_tokens":5}`), meter.Usage{}, false},
		{"delta with input, no start", delta(`{"input_tokens":3,"output_tokens":5}`), meter.Usage{InputTokens: 3, OutputTokens: 5}, true},
		{"negative output ignored", start + delta(`{"output_tokens":-5}`), meter.Usage{}, false},
		{"last delta wins, never lower", start + delta(`{"output_tokens":50}`) + delta(`{"output_tokens":20,"input_tokens":4}`),
			meter.Usage{InputTokens: 10, OutputTokens: 50}, true},
		{"type after usage", "data: {\"usage\":{\"output_tokens\":7},\"type\":\"message_delta\"}\n\n" + start,
			meter.Usage{}, false},
		{"usage in a ping is not usage", start + "data: {\"type\":\"ping\",\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}\n\n", meter.Usage{}, false},
		{"hostile start, input in delta", strings.Replace(start, "10", "-10", 1) + delta(`{"output_tokens":5,"input_tokens":3}`),
			meter.Usage{InputTokens: 3, OutputTokens: 5}, true},
		{"hostile start, no input in delta", strings.Replace(start, "10", "1e3", 1) + delta(`{"output_tokens":5}`), meter.Usage{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &StreamMeter{API: APIMessages}
			for _, ev := range splitSSE(tt.stream) {
				m.Observe([]byte(ev))
			}
			u, ok := m.Usage()
			if ok != tt.ok || u != tt.want {
				t.Fatalf("usage=%+v ok=%v, want %+v %v", u, ok, tt.want, tt.ok)
			}
		})
	}
	// Without a believable message_start, the estimate is the request's
	// own bound (EstimateUsage), not the hostile count.
	m := &StreamMeter{API: APIMessages}
	m.Observe([]byte(strings.Replace(start, "10", "-10", 1)))
	info := RequestInfo{PromptBytes: 100, Messages: 1}
	if got, want := m.Estimate(info, messagesPrice), EstimateUsage(info, messagesPrice, 0); got != want {
		t.Fatalf("estimate=%+v, want %+v", got, want)
	}
}

func splitSSE(s string) []string {
	var out []string
	for _, ev := range strings.SplitAfter(s, "\n\n") {
		if ev != "" {
			out = append(out, ev)
		}
	}
	return out
}

func TestMessagesWithCost(t *testing.T) {
	cost := mustAmount("0.0095094")
	tests := []struct{ name, in, want string }{
		{"message_delta", "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":89}}\n\n",
			"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":89,\"paymeter_cost\":\"0.0095094\"}}\n\n"},
		{"CRLF", "event: message_delta\r\ndata:{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":89} }\r\n\r\n",
			"event: message_delta\r\ndata:{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":89,\"paymeter_cost\":\"0.0095094\"} }\r\n\r\n"},
		{"empty usage", "data: {\"usage\":{}}\n\n", "data: {\"usage\":{\"paymeter_cost\":\"0.0095094\"}}\n\n"},
		{"whole message", `{"id":"m","usage":{"input_tokens":1,"output_tokens":2},"content":[{"type":"text","text":"\"usage\":{}"}]}`,
			`{"id":"m","usage":{"input_tokens":1,"output_tokens":2,"paymeter_cost":"0.0095094"},"content":[{"type":"text","text":"\"usage\":{}"}]}`},
		{"nested usage is not the message's", `{"message":{"usage":{"input_tokens":1}}}`, `{"message":{"usage":{"input_tokens":1}}}`},
		// The event's data is its lines joined, as StreamMeter reads it.
		{"two data lines", "data: {\"usage\":\ndata: {}}\n\n", "data: {\"usage\":\ndata: {\"paymeter_cost\":\"0.0095094\"}}\n\n"},
		{"upstream's cost dropped", `{"id":"m","usage":{"paymeter_cost":"1","input_tokens":1,"output_tokens":2,"paymeter_cost":"2"}}`,
			`{"id":"m","usage":{"input_tokens":1,"output_tokens":2,"paymeter_cost":"0.0095094"}}`},
		{"invalid JSON", "data: {\"usage\":{}\n\n", "data: {\"usage\":{}\n\n"},
		{"usage null", "data: {\"usage\":null}\n\n", "data: {\"usage\":null}\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			got := WithCost(APIMessages, in, cost)
			if string(got) != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
			if string(in) != tt.in {
				t.Fatal("input modified")
			}
		})
	}
	// Every event of the fixtures stays valid, with the cost only in message_delta.
	for _, ev := range splitSSE(string(readFixture(t, "messages_stream.sse"))) {
		got := string(WithCost(APIMessages, []byte(ev), cost))
		if strings.Contains(ev, "message_delta") != (got != ev) {
			t.Fatalf("event %q became %q", ev, got)
		}
	}
}

// FuzzInspectMessages: no panic; a refusal is a request refusal; an
// accepted body is valid JSON, names the model and max_tokens encoding/json
// reads, and counts no less text than it holds.
func FuzzInspectMessages(f *testing.F) {
	f.Add([]byte(`{"model":"c","max_tokens":5,"system":"s","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image","source":{"type":"base64","data":"x"}}]}]}`))
	f.Add([]byte(`{"model":"c","max_tokens":5,"tools":[{"name":"f","input_schema":{}}],"messages":[{"role":"user","content":[{"type":"tool_result","content":[{"type":"document","source":{"type":"text","data":"d"}}]}]}]}`))
	f.Add([]byte(`{"model":"c","max_tokens":5,"thinking":{"type":"enabled","budget_tokens":3},"messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"t"}]}]}`))
	f.Add([]byte(`{"model":"c","MAX_TOKENS":5,"max_tokens":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		info, err := InspectRequest(body, APIMessages)
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
		var v struct {
			Model     string
			MaxTokens *int64 `json:"max_tokens"`
			Stream    bool
			System    json.RawMessage
			Messages  []struct{ Content json.RawMessage }
		}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("accepted a body encoding/json refuses: %v", err)
		}
		if v.Model != info.Model || v.MaxTokens == nil || *v.MaxTokens != info.MaxTokens || info.MaxTokens <= 0 || v.Stream != info.Stream || info.N != 1 {
			t.Fatalf("encoding/json reads %+v, priced %+v", v, info)
		}
		var low int64
		for _, raw := range append([]json.RawMessage{v.System}, func() (c []json.RawMessage) {
			for _, m := range v.Messages {
				c = append(c, m.Content)
			}
			return c
		}()...) {
			var s string
			var blocks []struct{ Text string }
			if json.Unmarshal(raw, &s) == nil {
				low += int64(len(s))
			} else if json.Unmarshal(raw, &blocks) == nil {
				for _, b := range blocks {
					low += int64(len(b.Text))
				}
			}
		}
		if info.PromptBytes < low || info.Images < 0 || info.Files < 0 {
			t.Fatalf("PromptBytes=%d, want at least %d (%+v)", info.PromptBytes, low, info)
		}
	})
}

// FuzzMessagesStreamMeter: no panic; usage, once final, is never
// negative, and the estimate stays at least one output token.
func FuzzMessagesStreamMeter(f *testing.F) {
	for _, name := range []string{"messages_stream.sse", "messages_stream_crlf.sse", "messages_stream_cumulative.sse", "messages_stream_error.sse"} {
		f.Add(readFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		events, _ := readEvents(bytes.NewReader(stream), 0)
		m := &StreamMeter{API: APIMessages}
		for _, ev := range events {
			m.Observe([]byte(ev))
			if m.UsageEvent() {
				if got := WithCost(APIMessages, []byte(ev), 1); !bytes.Contains(got, []byte(`"paymeter_cost":"0.000000001"`)) && len(got) != len(ev) {
					t.Fatalf("WithCost changed %q into %q", ev, got)
				}
			}
		}
		u, ok := m.Usage()
		if ok && (u.InputTokens < 0 || u.OutputTokens < 0 || u.CachedInputTokens < 0 || u.CacheWriteTokens < 0 || u.CacheWrite1hTokens < 0) {
			t.Fatalf("usage=%+v", u)
		}
		if e := m.Estimate(RequestInfo{}, messagesPrice); e.OutputTokens < 1 || e.CacheWriteTokens < 0 {
			t.Fatalf("estimate=%+v", e)
		}
		if m.DeliveredBytes() < 0 {
			t.Fatal("negative delivered")
		}
	})
}

func TestCheckAnthropicBeta(t *testing.T) {
	for _, ok := range []string{"", "prompt-caching-2024-07-31", "interleaved-thinking-2025-05-14, files-api-2025-04-14"} {
		if err := CheckAnthropicBeta(ok); err != nil {
			t.Fatalf("%q: %v", ok, err)
		}
	}
	err := CheckAnthropicBeta("files-api-2025-04-14, Context-1M-2025-08-07")
	wantError(t, err, meter.ECodeUnsupportedField, `anthropic-beta "context-1m-2025-08-07" is not supported: it bills at other prices than this proxy's`)
}
