package upstream

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// perM is a price per million tokens from its decimal spelling.
func perM(tb testing.TB, s string) meter.Amount {
	tb.Helper()
	a, err := meter.ParseAmount(s)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// TestChatUsageFixtures reads recorded chat answers whose usage has cached
// and reasoning tokens, in a chunk that carries content too, and repeated
// cumulatively in every chunk (vLLM's continuous_usage_stats): the last
// usage wins, and the cost of each is exact.
func TestChatUsageFixtures(t *testing.T) {
	o4mini := meter.Price{Input: perM(t, "1.10"), CachedInput: perM(t, "0.275"), Output: perM(t, "4.40")}
	qwen := meter.Price{Input: perM(t, "0.5"), CachedInput: perM(t, "0.1"), Output: perM(t, "1.5")}
	tests := []struct {
		name          string
		fixture       string
		price         meter.Price
		want          meter.Usage
		wantDelivered int64
		wantCost      meter.Amount // nano-credits
	}{
		// 128 × 1100 + 1920 × 275 + 300 × 4400 nano-credits.
		{"usage in the chunk with content", "chat_stream_usage_in_content.sse", o4mini,
			meter.Usage{InputTokens: 128, CachedInputTokens: 1920, OutputTokens: 300, ReasoningTokens: 256}, n("Forty", "-two."), 1_988_800},
		{"whole answer", "chat_completion_cached.json", o4mini,
			meter.Usage{InputTokens: 128, CachedInputTokens: 1920, OutputTokens: 300, ReasoningTokens: 256}, 0, 1_988_800},
		// 8 × 500 + 32 × 100 + 3 × 1500 nano-credits, CRLF line ends.
		{"cumulative usage in every chunk", "chat_stream_continuous_usage.sse", qwen,
			meter.Usage{InputTokens: 8, CachedInputTokens: 32, OutputTokens: 3}, n("Hi", " there", "!"), 11_700},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := readFixture(t, tt.fixture)
			var u meter.Usage
			if strings.HasSuffix(tt.fixture, ".json") {
				var ok bool
				if u, _, ok = ParseResponse(APIChat, body); !ok {
					t.Fatal("no usage")
				}
			} else {
				m := meterStream(t, body)
				var ok bool
				if u, ok = m.Usage(); !ok {
					t.Fatal("no usage")
				}
				if got := m.DeliveredBytes(); got != tt.wantDelivered {
					t.Fatalf("delivered=%d, want %d", got, tt.wantDelivered)
				}
			}
			if u != tt.want {
				t.Fatalf("usage=%+v, want %+v", u, tt.want)
			}
			if got := tt.price.Cost(u); got != tt.wantCost {
				t.Fatalf("cost=%d, want %d nano-credits", got, tt.wantCost)
			}
		})
	}
}

// TestStreamMeterUsageEvents checks which events carry the usage that
// stands (where the relay writes the cost): every one that reports usable
// usage, the chunk with content included.
func TestStreamMeterUsageEvents(t *testing.T) {
	events, err := readEvents(bytes.NewReader(readFixture(t, "chat_stream_usage_in_content.sse")), 0)
	if err != io.EOF {
		t.Fatal(err)
	}
	var m StreamMeter
	var got []bool
	for _, ev := range events {
		m.Observe([]byte(ev))
		got = append(got, m.UsageEvent())
	}
	if want := []bool{false, false, true, false}; !equalBools(got, want) {
		t.Fatalf("usage events=%v, want %v", got, want)
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestChatWithCost(t *testing.T) {
	const cost = meter.Amount(1_988_800) // "0.0019888"
	tests := []struct{ name, in, want string }{
		{"whole body", `{"id":"x","usage":{"prompt_tokens":1,"completion_tokens":2}}`,
			`{"id":"x","usage":{"prompt_tokens":1,"completion_tokens":2,"paymeter_cost":"0.0019888"}}`},
		{"pretty body keeps its layout", "{\n  \"usage\": {\n    \"prompt_tokens\": 1\n  }\n}\n",
			"{\n  \"usage\": {\n    \"prompt_tokens\": 1,\"paymeter_cost\":\"0.0019888\"\n  }\n}\n"},
		{"empty usage", `{"usage":{ }}`, `{"usage":{"paymeter_cost":"0.0019888" }}`},
		{"last usage", `{"usage":{"a":1},"usage":{"b":2}}`, `{"usage":{"a":1},"usage":{"b":2,"paymeter_cost":"0.0019888"}}`},
		{"nested usage untouched", `{"choices":[{"usage":{}}],"usage":{"a":1}}`, `{"choices":[{"usage":{}}],"usage":{"a":1,"paymeter_cost":"0.0019888"}}`},
		{"escaped usage key", `{"us\u0061ge":{"a":1}}`, `{"us\u0061ge":{"a":1,"paymeter_cost":"0.0019888"}}`},
		{"upstream's cost replaced", `{"usage":{"a":1,"paymeter_cost":"9","b":2}}`, `{"usage":{"a":1,"b":2,"paymeter_cost":"0.0019888"}}`},
		{"upstream's costs first and last", `{"usage":{"paymeter_cost":1, "paymeter_c\u006fst":2 ,"a":1,"paymeter_cost":3}}`,
			`{"usage":{"a":1,"paymeter_cost":"0.0019888"}}`},
		{"only the upstream's cost", `{"usage":{ "paymeter_cost":"1" , "paymeter_cost":{} }}`, `{"usage":{"paymeter_cost":"0.0019888"  }}`},
		{"embeddings", `{"object":"list","data":[],"model":"e","usage":{"prompt_tokens":5,"total_tokens":5}}`,
			`{"object":"list","data":[],"model":"e","usage":{"prompt_tokens":5,"total_tokens":5,"paymeter_cost":"0.0019888"}}`},
		{"event", "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\n\n",
			"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"paymeter_cost\":\"0.0019888\"}}\n\n"},
		{"event CRLF", "data: {\"usage\":{\"prompt_tokens\":1}}\r\n\r\n", "data: {\"usage\":{\"prompt_tokens\":1,\"paymeter_cost\":\"0.0019888\"}}\r\n\r\n"},
		{"event without space, other fields", "event: chunk\r\nid: 7\r\n: hi\r\ndata:{\"usage\":{}}\r\n\r\n",
			"event: chunk\r\nid: 7\r\n: hi\r\ndata:{\"usage\":{\"paymeter_cost\":\"0.0019888\"}}\r\n\r\n"},
		{"event BOM", "\xef\xbb\xbfdata: {\"usage\":{}}\n\n", "\xef\xbb\xbfdata: {\"usage\":{\"paymeter_cost\":\"0.0019888\"}}\n\n"},
		{"event split over lines", "data: {\"usage\":\ndata: {\"prompt_tokens\":1}\ndata: }\n\n",
			"data: {\"usage\":\ndata: {\"prompt_tokens\":1,\"paymeter_cost\":\"0.0019888\"}\ndata: }\n\n"},
		{"event without final newline", `data: {"usage":{}}`, `data: {"usage":{"paymeter_cost":"0.0019888"}}`},

		{"usage null", `{"usage":null}`, `{"usage":null}`},
		{"usage array", `{"usage":[]}`, `{"usage":[]}`},
		{"no usage", `{"id":"x"}`, `{"id":"x"}`},
		{"invalid", `{"usage":{},}`, `{"usage":{},}`},
		{"trailing data", `{"usage":{}}x`, `{"usage":{}}x`},
		{"not an object", `[{"usage":{}}]`, `[{"usage":{}}]`},
		{"DONE", "data: [DONE]\n\n", "data: [DONE]\n\n"},
		{"no data", ": ping\n\n", ": ping\n\n"},
		{"deletion across lines not made", "data: {\"usage\":{\"a\":1,\ndata: \"paymeter_cost\":1}}\n\n", "data: {\"usage\":{\"a\":1,\ndata: \"paymeter_cost\":1}}\n\n"},
		{"empty", ``, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			got := WithCost(APIChat, in, cost)
			if string(got) != tt.want {
				t.Fatalf("WithCost=\n%q, want\n%q", got, tt.want)
			}
			if string(in) != tt.in {
				t.Fatalf("input modified: %q", in)
			}
			if got := WithCost(APIEmbeddings, in, cost); string(got) != tt.want {
				t.Fatalf("embeddings: WithCost=%q, want %q", got, tt.want)
			}
		})
	}
}

// costMembers returns the values of the paymeter_cost members of the last
// top-level "usage" object of doc, read with encoding/json's tokenizer
// (which keeps duplicate keys), and whether doc has a usage object.
func costMembers(t *testing.T, doc []byte) (values []string, found bool) {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	for d.More() {
		key, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		if key != "usage" {
			continue
		}
		values, found = nil, false
		u := json.NewDecoder(bytes.NewReader(raw))
		if tok, _ := u.Token(); tok != json.Delim('{') {
			continue
		}
		found = true
		for u.More() {
			k, _ := u.Token()
			var v json.RawMessage
			if err := u.Decode(&v); err != nil {
				t.Fatal(err)
			}
			if k == costField {
				values = append(values, string(v))
			}
		}
	}
	return values, found
}

// withoutCost decodes a document's top-level members and its usage's,
// without paymeter_cost: what WithCost must leave as it was.
func withoutCost(doc []byte) (top, usage map[string]json.RawMessage) {
	if json.Unmarshal(doc, &top) != nil {
		return nil, nil
	}
	json.Unmarshal(top["usage"], &usage)
	delete(top, "usage")
	delete(usage, costField)
	return top, usage
}

func FuzzChatWithCost(f *testing.F) {
	for _, b := range fixtures(f, "chat_*.json") {
		f.Add(b, int64(1_988_800))
	}
	for _, b := range fixtures(f, "chat_*.sse") {
		for line := range strings.SplitSeq(string(b), "\n") {
			if data, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
				f.Add([]byte(data), int64(7))
			}
		}
	}
	f.Add([]byte(`{"usage":{"paymeter_cost":1,"a":{},"paymeter_cost":2}}`), int64(-3))
	f.Add([]byte(`{"usage":{},"usage":{"paymeter_cost":"x"}}`), int64(0))
	f.Fuzz(func(t *testing.T, body []byte, cost int64) {
		if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
			return // read as an SSE event: the event form is checked below
		}
		out := chatWithCost(body, meter.Amount(cost))
		if json.Valid(out) != json.Valid(body) {
			t.Fatalf("valid=%t for %q, input valid=%t", json.Valid(out), out, json.Valid(body))
		}
		var values []string
		placed := json.Valid(body)
		if placed {
			_, placed = costMembers(t, body)
		}
		if !placed {
			if !bytes.Equal(out, body) {
				t.Fatalf("changed %q to %q, want it as it was", body, out)
			}
			return
		}
		want := `"` + meter.Amount(cost).String() + `"`
		if values, _ = costMembers(t, out); len(values) != 1 || values[0] != want {
			t.Fatalf("cost members %v in %q, want [%s]", values, out, want)
		}
		top, usage := withoutCost(body)
		gotTop, gotUsage := withoutCost(out)
		if !equalRaw(top, gotTop) || !equalRaw(usage, gotUsage) {
			t.Fatalf("members changed: %q became %q", body, out)
		}
		// In an event, LF or CRLF, the chunk gets the same edits.
		for _, eol := range []string{"\n", "\r\n"} {
			event := append(append([]byte("data: "), body...), eol+eol...)
			if !bytes.ContainsAny(body, "\r\n") {
				wantEvent := "data: " + string(out) + eol + eol
				if got := chatWithCost(event, meter.Amount(cost)); string(got) != wantEvent {
					t.Fatalf("event %q became %q, want %q", event, got, wantEvent)
				}
			}
		}
	})
}

func equalRaw(a, b map[string]json.RawMessage) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

// TestStreamMeterUsageOnly tells a chunk that only reports usage (which a
// client that did not ask for usage need not get) from one that carries
// choices too.
func TestStreamMeterUsageOnly(t *testing.T) {
	for _, tt := range []struct {
		event string
		want  bool
	}{
		{`data: {"choices":[],"usage":{"prompt_tokens":1}}`, true},
		{`data: {"choices":[ ],"usage":{"prompt_tokens":1}}`, true},
		{`data: {"usage":{"prompt_tokens":1}}`, true},
		{`data: {"choices":null,"usage":{"prompt_tokens":1}}`, true},
		{`data: {"choices":[{"delta":{}, "finish_reason":"stop"}],"usage":{"prompt_tokens":1}}`, false},
		{`data: {"usage":{"prompt_tokens":1},"choices":[{"delta":{"content":"a"}}]}`, false},
		{`data: {"choices":[{"delta":{"content":"a"}}]}`, false},
		{`data: {"choices":[],"usage":null}`, false},
		{`data: [DONE]`, false},
	} {
		var m StreamMeter
		m.Observe([]byte(tt.event + "\n\n"))
		if got := m.UsageOnly(); got != tt.want {
			t.Errorf("%s: UsageOnly=%t, want %t", tt.event, got, tt.want)
		}
	}
}
