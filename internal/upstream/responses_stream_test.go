package upstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

func TestResponsesStreamMeter(t *testing.T) {
	gpt41 := meter.Price{Input: credits(t, "2"), CachedInput: credits(t, "0.5"), Output: credits(t, "8")}
	mini := meter.Price{Input: credits(t, "0.15"), CachedInput: credits(t, "0.075"), Output: credits(t, "0.6")}
	tests := []struct {
		name      string
		stream    string
		price     meter.Price
		usage     meter.Usage
		ok        bool
		delivered int64
		model     string
		cost      string
	}{
		{"reasoning summary and text, completed with its output", string(readFixture(t, "responses_stream.sse")), gpt5mini(t),
			meter.Usage{InputTokens: 166, CachedInputTokens: 1152, OutputTokens: 212, ReasoningTokens: 192}, true,
			n("**Answering", " the greeting**\n\nThe user says hello; reply briefly.",
				"Hello", "!", " How", " can", " I", " help", " you", " today", "? ", "Café", " ☕"),
			"gpt-5-mini-2025-08-07", "0.0004943"},
		{"CRLF", string(readFixture(t, "responses_stream_crlf.sse")), gpt5mini(t),
			meter.Usage{InputTokens: 166, CachedInputTokens: 1152, OutputTokens: 212, ReasoningTokens: 192}, true, 105,
			"gpt-5-mini-2025-08-07", "0.0004943"},
		{"incomplete function call", string(readFixture(t, "responses_stream_incomplete.sse")), gpt41,
			meter.Usage{InputTokens: 87, OutputTokens: 16}, true, n(`{"`, "city", `":"`, "Paris, Île", "-de-Fr"),
			"gpt-4.1-2025-04-14", "0.000302"},
		{"failed refusal", string(readFixture(t, "responses_stream_failed.sse")), mini,
			meter.Usage{InputTokens: 8, CachedInputTokens: 32, OutputTokens: 9}, true, n("I can", "’t help", " with that"),
			"gpt-4o-mini-2024-07-18", "0.000009"},
		{"error mid-stream", string(readFixture(t, "responses_stream_error.sse")), mini,
			meter.Usage{}, false, n("Once", " upon", " a"), "gpt-4o-mini-2024-07-18", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, usageEvents := meterResponses(t, []byte(tt.stream))
			u, ok := m.Usage()
			if u != tt.usage || ok != tt.ok {
				t.Fatalf("usage=%+v %t, want %+v %t", u, ok, tt.usage, tt.ok)
			}
			if got := m.DeliveredBytes(); got != tt.delivered {
				t.Fatalf("delivered=%d, want %d", got, tt.delivered)
			}
			if string(m.Model()) != tt.model || !m.Done() {
				t.Fatalf("model=%q done=%t, want %q and done", m.Model(), m.Done(), tt.model)
			}
			if got := tt.price.Cost(u); got != credits(t, tt.cost) {
				t.Fatalf("cost=%s, want %s", got, tt.cost)
			}
			if want := map[bool]int{true: 1, false: 0}[tt.ok]; len(usageEvents) != want {
				t.Fatalf("%d events carried the usage, want %d", len(usageEvents), want)
			}
		})
	}
}

// Without usage, the error fixture is charged the estimate: the prompt's
// bound and what was delivered.
func TestResponsesStreamErrorEstimate(t *testing.T) {
	mini := meter.Price{Input: credits(t, "0.15"), CachedInput: credits(t, "0.075"), Output: credits(t, "0.6")}
	info, err := InspectRequest([]byte(`{"model":"gpt-4o-mini","input":"Tell a story."}`), APIResponses)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := meterResponses(t, readFixture(t, "responses_stream_error.sse"))
	u := EstimateUsage(info, mini, m.DeliveredBytes())
	// 13 prompt bytes + 8 for the item + 16 for the request at 0.15; 11 bytes → 3 tokens at 0.6.
	if want := (meter.Usage{InputTokens: 37, OutputTokens: 3}); u != want {
		t.Fatalf("estimate %+v, want %+v", u, want)
	}
	if got, want := mini.Cost(u), credits(t, "0.00000735"); got != want {
		t.Fatalf("cost=%s, want %s", got, want)
	}
}

func TestResponsesStreamMeterEvents(t *testing.T) {
	ev := func(data string) string { return "event: x\ndata: " + data + "\n\n" }
	final := `{"type":"response.completed","response":{"usage":{"input_tokens":5,"output_tokens":2}}}`
	tests := []struct {
		name      string
		stream    string
		usage     meter.Usage
		ok        bool
		delivered int64
		done      bool
	}{
		{"usage before the end is not final", ev(`{"type":"response.in_progress","response":{"usage":{"input_tokens":5,"output_tokens":2}}}`),
			meter.Usage{}, false, 0, false},
		{"a delta with a response is only a delta", ev(`{"type":"response.output_text.delta","delta":"ab","response":{"usage":{"input_tokens":5}}}`),
			meter.Usage{}, false, 2, false},
		{"type after delta", ev(`{"delta":"abc","type":"response.output_text.delta"}`), meter.Usage{}, false, 3, false},
		{"escaped type", ev(`{"type":"response.output_text.d\u0065lta","delta":"caf\u00e9"}`), meter.Usage{}, false, 5, false},
		{"last type wins", ev(`{"type":"response.output_text.delta","type":"response.output_text.done","delta":"ab"}`), meter.Usage{}, false, 0, false},
		{"done events count nothing", ev(`{"type":"response.output_text.done","text":"abc"}`) +
			ev(`{"type":"response.content_part.done","part":{"type":"output_text","text":"abc"}}`) +
			ev(`{"type":"response.output_item.done","item":{"content":[{"text":"abc"}]}}`) +
			ev(`{"type":"response.function_call_arguments.done","arguments":"{}"}`), meter.Usage{}, false, 0, false},
		{"every delta kind", ev(`{"type":"response.refusal.delta","delta":"a"}`) + ev(`{"type":"response.reasoning_text.delta","delta":"b"}`) +
			ev(`{"type":"response.function_call_arguments.delta","delta":"c"}`) + ev(`{"type":"response.custom_tool_call_input.delta","delta":"d"}`) +
			ev(`{"type":"response.reasoning_summary_text.delta","delta":"e"}`) + ev(`{"type":"response.audio.delta","delta":"ZZZZ"}`),
			meter.Usage{}, false, 5, false},
		{"a delta that is not a string", ev(`{"type":"response.output_text.delta","delta":{"text":"abc"}}`), meter.Usage{}, false, 0, false},
		{"final usage", ev(final), meter.Usage{InputTokens: 5, OutputTokens: 2}, true, 0, true},
		{"the last final wins", ev(final) + ev(`{"type":"response.incomplete","response":{"usage":{"input_tokens":7,"output_tokens":9}}}`),
			meter.Usage{InputTokens: 7, OutputTokens: 9}, true, 0, true},
		{"a final without usage keeps the last", ev(final) + ev(`{"type":"response.failed","response":{"usage":null}}`),
			meter.Usage{InputTokens: 5, OutputTokens: 2}, true, 0, true},
		{"unusable final usage", ev(`{"type":"response.completed","response":{"usage":{"input_tokens":-1}}}`), meter.Usage{}, false, 0, true},
		{"DONE is not JSON", "data: [DONE]\n\n", meter.Usage{}, false, 0, false},
		{"data without a type", ev(`{"delta":"abc","response":{"usage":{"input_tokens":5}}}`), meter.Usage{}, false, 0, false},
		{"invalid JSON counts nothing", ev(`{"type":"response.output_text.delta","delta":"ab",}`), meter.Usage{}, false, 0, false},
		{"data on two lines", "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\ndata: \"delta\":\"ab\"}\n\n",
			meter.Usage{}, false, 2, false},
		{"chat chunk", `data: {"choices":[{"delta":{"content":"ab"}}],"usage":{"prompt_tokens":1}}` + "\n\n", meter.Usage{}, false, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := meterResponses(t, []byte(tt.stream))
			u, ok := m.Usage()
			if u != tt.usage || ok != tt.ok || m.DeliveredBytes() != tt.delivered || m.Done() != tt.done {
				t.Fatalf("usage=%+v %t delivered=%d done=%t, want %+v %t %d %t",
					u, ok, m.DeliveredBytes(), m.Done(), tt.usage, tt.ok, tt.delivered, tt.done)
			}
		})
	}
}

// costIn returns the paymeter_cost of the usage in a Response body, or in
// the response of a stream event's data.
func costIn(tb testing.TB, doc []byte) string {
	tb.Helper()
	var v struct {
		Usage    map[string]any `json:"usage"`
		Response struct {
			Usage map[string]any `json:"usage"`
		} `json:"response"`
	}
	if err := json.Unmarshal(doc, &v); err != nil {
		tb.Fatalf("%s: %v", doc, err)
	}
	if v.Usage == nil {
		v.Usage = v.Response.Usage
	}
	s, _ := v.Usage["paymeter_cost"].(string)
	return s
}

func TestResponsesWithCost(t *testing.T) {
	cost := credits(t, "0.0004943")
	body := readFixture(t, "responses_answer.json")
	orig := bytes.Clone(body)
	out := WithCost(APIResponses, body, cost)
	if !bytes.Equal(body, orig) {
		t.Fatal("WithCost modified its input")
	}
	if got := costIn(t, out); got != "0.0004943" {
		t.Fatalf("paymeter_cost=%q in %s", got, out)
	}
	if back := strings.Replace(string(out), `,"paymeter_cost":"0.0004943"`, "", 1); back != string(body) {
		t.Fatalf("body changed elsewhere:\n%s", out)
	}

	for _, name := range []string{"responses_stream.sse", "responses_stream_crlf.sse", "responses_stream_incomplete.sse", "responses_stream_failed.sse"} {
		t.Run(name, func(t *testing.T) {
			_, usageEvents := meterResponses(t, readFixture(t, name))
			ev := []byte(usageEvents[0])
			out := WithCost(APIResponses, ev, cost)
			if back := strings.Replace(string(out), `,"paymeter_cost":"0.0004943"`, "", 1); back != string(ev) {
				t.Fatalf("event changed elsewhere:\n%q", out)
			}
			// Still one whole event with its own line ends, that a meter reads the same.
			events, err := readEvents(bytes.NewReader(out), 0)
			if err != io.EOF || len(events) != 1 || !strings.HasPrefix(events[0], "event: response.") {
				t.Fatalf("events %q, %v", events, err)
			}
			crlf := strings.Contains(name, "crlf")
			if strings.HasSuffix(string(out), "\r\n\r\n") != crlf || strings.Count(string(out), "\r") != strings.Count(string(ev), "\r") {
				t.Fatalf("line ends changed: %q", out[len(out)-8:])
			}
			var m, want StreamMeter
			m.API, want.API = APIResponses, APIResponses
			m.Observe(out)
			want.Observe(ev)
			if u, _ := m.Usage(); u != func() meter.Usage { u, _ := want.Usage(); return u }() {
				t.Fatalf("usage with cost %+v differs", u)
			}
			data, _ := m.eventData(out)
			if got := costIn(t, data); got != "0.0004943" {
				t.Fatalf("paymeter_cost=%q in %s", got, data)
			}
		})
	}

	unchanged := []string{
		"event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"usage\":null}}\n\n",
		"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"x\"}\n\n",
		"event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":1}}\n\n",
		`{"usage":null}`, `{"usage":{"input_tokens":1}`, `{"output":[{"usage":{}}]}`, `[]`, ``,
	}
	for _, in := range unchanged {
		if out := WithCost(APIResponses, []byte(in), cost); string(out) != in {
			t.Errorf("WithCost(%q)=%q, want it unchanged", in, out)
		}
	}

	for _, tt := range []struct{ in, want string }{
		{`{"usage":{}}`, `{"usage":{"paymeter_cost":"0.0004943"}}`},
		{`{"usage":{"input_tokens":1},"usage":{ "input_tokens":2 } }`, `{"usage":{"input_tokens":1},"usage":{ "input_tokens":2,"paymeter_cost":"0.0004943" } }`},
		// An upstream's own paymeter_cost is dropped: the member says what this proxy charged.
		{`{"usage":{"paymeter_cost":"0","input_tokens":1,"paymeter_cost":"0"}}`, `{"usage":{"input_tokens":1,"paymeter_cost":"0.0004943"}}`},
		{"event: response.completed\ndata: {\"type\":\"response.completed\",\ndata: \"response\":{\"usage\":{\"input_tokens\":1}}}\n\n",
			"event: response.completed\ndata: {\"type\":\"response.completed\",\ndata: \"response\":{\"usage\":{\"input_tokens\":1,\"paymeter_cost\":\"0.0004943\"}}}\n\n"},
		{"data: {\"response\":{\"usage\":{\"input_tokens\":1}},\"response\":{\"usage\":null}}\n\n", "data: {\"response\":{\"usage\":{\"input_tokens\":1}},\"response\":{\"usage\":null}}\n\n"},
		{`{"usage":{"input_tokens":1},"usage":null}`, `{"usage":{"input_tokens":1},"usage":null}`},
		{"\xef\xbb\xbfevent: response.completed\r\ndata:{\"response\":{\"usage\":{\"input_tokens\":1}},\"type\":\"response.completed\"}\r\n\r\n",
			"\xef\xbb\xbfevent: response.completed\r\ndata:{\"response\":{\"usage\":{\"input_tokens\":1,\"paymeter_cost\":\"0.0004943\"}},\"type\":\"response.completed\"}\r\n\r\n"},
		{"id: 7\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":1}}}\n\n",
			"id: 7\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":1,\"paymeter_cost\":\"0.0004943\"}}}\n\n"},
	} {
		if out := WithCost(APIResponses, []byte(tt.in), cost); string(out) != tt.want {
			t.Errorf("WithCost(%q)=%q, want %q", tt.in, out, tt.want)
		}
	}
}

func FuzzInspectResponses(f *testing.F) {
	f.Add(readFixture(f, "responses_request.json"))
	f.Add([]byte(`{"model":"m","input":[{"type":"reasoning","encrypted_content":"x"},{"content":[{"type":"input_image","image_url":"u"}]}]}`))
	f.Add([]byte(`{"model":"m","max_output_tokens":0,"tools":[{"type":"function","Type":"mcp"}],"stream":true}`))
	f.Add([]byte(`{"model":"m","previous_response_id":"r","MODEL":"x","input":"\ud83d\ude00"}`))
	f.Add([]byte(`{"model":"m","input":[{"id":"msg_1"},{"type":"reasoning","id":"rs_1","summary":[]},{"role":"user","content":"q","id":null}],"reasoning":{"mode":"standard","effort":"max"}}`))
	f.Add([]byte(`{"model":"m","tool_choice":{"type":"allowed_tools","tools":[{"type":"function","name":"f"},{"type":"web_search"}]},"reasoning":{"Mode":"pro"}}`))
	f.Add([]byte(`{"model":"m","max_output_tokens":null,"tool_choice":{"type":"allowed_tools","tools":[]},"input":[{"type":"function_call_output","output":[{"type":"input_file","file_data":"QQ"}]}]}`))
	price := meter.Price{MaxOutputTokens: 77, MaxInputTokens: 1000, MaxImageTokens: 5, MaxAudioTokens: 6, MaxFileTokens: 7}
	f.Fuzz(func(t *testing.T, body []byte) {
		info, err := InspectRequest(body, APIResponses)
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
		if info.Model == "" || info.PromptBytes < 0 || info.Messages < 0 || info.MaxTokens < 0 || info.N != 1 ||
			info.Images < 0 || info.Audio < 0 || info.Files < 0 || info.InputBound(price) < 0 {
			t.Fatalf("info=%+v out of range", info)
		}
		var v struct {
			Model           string
			Stream          bool
			Input           json.RawMessage
			Instructions    *string
			MaxOutputTokens *int64 `json:"max_output_tokens"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("accepted a body encoding/json refuses: %v", err)
		}
		if v.Model != info.Model || v.Stream != info.Stream {
			t.Fatalf("encoding/json reads model %q stream %v, priced %q %v", v.Model, v.Stream, info.Model, info.Stream)
		}
		var text string
		low := int64(0)
		if v.Instructions != nil {
			low += int64(len(*v.Instructions))
		}
		if json.Unmarshal(v.Input, &text) == nil {
			low += int64(len(text))
		}
		if info.PromptBytes < low {
			t.Fatalf("PromptBytes=%d, want at least %d", info.PromptBytes, low)
		}
		out := info.ForwardBody(body, price)
		v.MaxOutputTokens = nil
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("forwarded body %q refused by encoding/json: %v", out, err)
		}
		if bound := info.OutputBound(price); v.MaxOutputTokens == nil || *v.MaxOutputTokens != bound {
			t.Fatalf("forwarded %s, want max_output_tokens %d", out, bound)
		}
		got, err := InspectRequest(out, APIResponses)
		if err != nil {
			t.Fatalf("InspectRequest(ForwardBody): %v", err)
		}
		want := info
		want.MaxTokens = info.OutputBound(price)
		got.edits, want.edits = bodyEdits{}, bodyEdits{}
		if got != want {
			t.Fatalf("after ForwardBody info=%+v, want %+v", got, want)
		}
	})
}

func FuzzResponsesStreamMeter(f *testing.F) {
	for _, b := range fixtures(f, "responses_stream*.sse") {
		f.Add(b, []byte{3, 200, 7})
	}
	f.Add([]byte("event: response.completed\r\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":9,\"input_tokens_details\":{\"cached_tokens\":99}}}}\r\n\r\n"), []byte{1})
	f.Add([]byte("data: {\"item\":{\"type\":\"reasoning\"},\"type\":\"response.output_item.added\"}\n\ndata: {\"type\":\"response.reasoning_summary_text.delta\",\"delta\":\"hm\"}\n\n"), []byte{5, 1})
	price := meter.Price{Input: 3, CachedInput: 1, Output: 5}
	f.Fuzz(func(t *testing.T, stream, sizes []byte) {
		whole := responsesRun(t, bytes.NewReader(stream), price)
		if whole.delivered < 0 || whole.delivered > int64(len(stream)) {
			t.Fatalf("delivered=%d of a %d-byte stream", whole.delivered, len(stream))
		}
		u := whole.usage
		if u.InputTokens < 0 || u.CachedInputTokens < 0 || u.OutputTokens < 0 || u.ReasoningTokens < 0 ||
			u.ReasoningTokens > u.OutputTokens || u.CacheWriteTokens != 0 || price.Cost(u) < 0 {
			t.Fatalf("usage %+v out of range", u)
		}
		if got := responsesRun(t, &pieceReader{data: stream, sizes: sizes}, price); got != whole {
			t.Fatalf("in pieces %v: %+v, want %+v", sizes, got, whole)
		}
	})
}

type responsesResult struct {
	usage     meter.Usage
	ok        bool
	delivered int64
	done      bool
	model     string
	reasoning bool // the estimate is the held output bound
}

// responsesRun meters a stream and checks that the cost written into each
// event that carried the usage is where a client reads it.
func responsesRun(t *testing.T, r io.Reader, price meter.Price) responsesResult {
	er := NewEventReader(r, 0)
	m := StreamMeter{API: APIResponses}
	for {
		ev, err := er.Next()
		if err != nil {
			break
		}
		orig := bytes.Clone(ev)
		m.Observe(ev)
		if !m.UsageEvent() {
			continue
		}
		u, _ := m.Usage()
		out := WithCost(APIResponses, ev, price.Cost(u))
		if !bytes.Equal(ev, orig) {
			t.Fatal("WithCost modified the event")
		}
		check := StreamMeter{API: APIResponses}
		check.Observe(out)
		if got, _ := check.Usage(); got != u || !check.UsageEvent() {
			t.Fatalf("event with cost %q reads %+v, want %+v", out, got, u)
		}
		if len(out) != len(ev) {
			data, _ := check.eventData(out)
			if got := costIn(t, data); got != price.Cost(u).String() {
				t.Fatalf("paymeter_cost=%q, want %s", got, price.Cost(u))
			}
		}
	}
	u, ok := m.Usage()
	// A request bounded at 1000 output tokens, and at 10 for a price
	// without the model's cap: the estimate is one of its two kinds.
	info := RequestInfo{api: APIResponses, N: 1, MaxTokens: 1000}
	est := m.Estimate(info, price)
	if plain := EstimateUsage(info, price, m.DeliveredBytes()); est != plain && est.OutputTokens != max(1000, plain.OutputTokens) {
		t.Fatalf("estimate %+v: neither %+v nor the held output bound", est, plain)
	}
	return responsesResult{u, ok, m.DeliveredBytes(), m.Done(), string(m.Model()), m.responses.reasoning}
}

func BenchmarkInspectResponses(b *testing.B) {
	body := readFixture(b, "responses_request.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := InspectRequest(body, APIResponses); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResponsesStreamMeter(b *testing.B) {
	stream := readFixture(b, "responses_stream.sse")
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	r := bytes.NewReader(stream)
	for b.Loop() {
		r.Reset(stream)
		er := NewEventReader(r, 0)
		m := StreamMeter{API: APIResponses}
		for {
			ev, err := er.Next()
			if err != nil {
				break
			}
			m.Observe(ev)
		}
		if _, ok := m.Usage(); !ok {
			b.Fatal("no usage")
		}
	}
}
