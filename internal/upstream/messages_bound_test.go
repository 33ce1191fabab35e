package upstream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// A search_result's "source" is a string, rendered for its citations: it
// counts its text, as every member the scanner does not price apart does.
func TestInspectMessages_SearchResultSourceCounted(t *testing.T) {
	mk := func(src string) []byte {
		return []byte(`{"model":"c","max_tokens":1,"messages":[{"role":"user","content":[{"type":"search_result","source":"` + src +
			`","title":"t","content":[{"type":"text","text":"x"}]}]}]}`)
	}
	small, err := InspectRequest(mk("a"), APIMessages)
	if err != nil {
		t.Fatal(err)
	}
	if want := n("user", "search_result", "a", "t", "text", "x") + 2*perItemAllowance; small.PromptBytes != want {
		t.Fatalf("PromptBytes=%d, want %d", small.PromptBytes, want)
	}
	src := strings.Repeat("word ", 180_000) // 900 KB
	big, err := InspectRequest(mk(src), APIMessages)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := big.PromptBytes-small.PromptBytes, int64(len(src)-1); got != want {
		t.Fatalf("900 KB source counted %d bytes, want %d", got, want)
	}
	// Members paymeter does not know, in a block or its source, count too:
	// none is ever free.
	odd, err := InspectRequest([]byte(`{"model":"c","max_tokens":1,"messages":[{"role":"user","content":[`+
		`{"type":"text","text":"x","citations":[{"cited_text":"abc"}],"new_member":"hello"},`+
		`{"type":"document","source":{"type":"text","data":"d","extra":{"k":"v"}},"context":"ctx"},`+
		`{"type":"image","source":{"type":"base64","data":"AAAA","note":"n"}},`+
		`{"type":"search_result","source":{"type":"base64","data":"tx"},"title":"t","content":[]}]}]}`), APIMessages)
	if err != nil {
		t.Fatal(err)
	}
	want := n("user") + 4*perItemAllowance +
		n("text", "x", `[{"cited_text":"abc"}]`, "hello") + 1 + // the raw JSON's ':'
		n("document", "text", "d", `{"k":"v"}`, "ctx") + 1 +
		n("image", "base64", "n") + // the image's data is priced at its bound
		n("search_result", "base64", "tx", "t") // not an image or a document: its data is text; no blocks
	if odd.PromptBytes != want || odd.Images != 1 || odd.Files != 1 {
		t.Fatalf("PromptBytes=%d images=%d files=%d, want %d, 1, 1", odd.PromptBytes, odd.Images, odd.Files, want)
	}
}

// Each tool counts its raw JSON (keys, quotes and braces), one byte per
// ',' and ':' separator, and the per-item allowance, as chat's tools do.
func TestInspectMessages_ToolsCountRawJSON(t *testing.T) {
	var tools strings.Builder
	const count = 10_000
	var raw int64
	tools.WriteByte('[')
	for i := range count {
		if i > 0 {
			tools.WriteByte(',')
		}
		tool := fmt.Sprintf(`{"name":"t%04d","type":"custom","input_schema":{}}`, i)
		raw += int64(len(tool))
		tools.WriteString(tool)
	}
	tools.WriteByte(']')
	body := `{"model":"c","max_tokens":1,"tools":` + tools.String() + `,"messages":[{"role":"user","content":"hi"}]}`
	info, err := InspectRequest([]byte(body), APIMessages)
	if err != nil {
		t.Fatal(err)
	}
	const seps = 5 // three ':' and two ','
	want := n("user", "hi") + raw + count*(seps+perItemAllowance) + toolsAllowance
	if info.PromptBytes != want {
		t.Fatalf("PromptBytes=%d, want %d (raw JSON %d)", info.PromptBytes, want, raw)
	}
}

// A tool_use and its tool_result each count the per-item allowance (the
// upstream's call and result markup), their type, and their members: the
// input's raw JSON, the ids, the result's content.
func TestInspectMessages_ToolUsePairAllowance(t *testing.T) {
	body := func(pairs int) string {
		var u, r strings.Builder
		for i := range pairs {
			if i > 0 {
				u.WriteByte(',')
				r.WriteByte(',')
			}
			fmt.Fprintf(&u, `{"type":"tool_use","id":"a%d","name":"f","input":{"q":[1,2]}}`, i)
			fmt.Fprintf(&r, `{"type":"tool_result","tool_use_id":"a%d","content":"x","is_error":false}`, i)
		}
		return `{"model":"c","max_tokens":1,"tools":[{"name":"f","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"go"},{"role":"assistant","content":[` +
			u.String() + `]},{"role":"user","content":[` + r.String() + `]}]}`
	}
	few, err := InspectRequest([]byte(body(10)), APIMessages)
	if err != nil {
		t.Fatal(err)
	}
	many, err := InspectRequest([]byte(body(1010)), APIMessages)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for i := 10; i < 1010; i++ {
		id := "a" + strconv.Itoa(i)
		want += perItemAllowance + n("tool_use", id, "f", `{"q":[1,2]}`) + 2 +
			perItemAllowance + n("tool_result", id, "x", "false")
	}
	if got := many.PromptBytes - few.PromptBytes; got != want {
		t.Fatalf("1000 pairs add %d bytes, want %d", got, want)
	}
}

const thinkingStart = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"c\",\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n"

// A redacted_thinking block's data is delivered output; and once a stream
// started thinking, a cut before message_delta is charged the whole output
// bound that was held (Claude 4 bills the full thinking, streams a summary).
func TestMessagesStreamMeter_RedactedThinkingEstimate(t *testing.T) {
	data := strings.Repeat("A", 40_000)
	red := "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"redacted_thinking\",\"data\":\"" + data + "\"}}\n\n"
	m := meterAs(t, APIMessages, []byte(thinkingStart+red))
	if got := m.DeliveredBytes(); got != 40_000 {
		t.Fatalf("delivered %d, want 40000", got)
	}
	// No output bound: the delivered data, at four bytes a token.
	if got, want := m.Estimate(RequestInfo{}, meter.Price{Input: 1, Output: 1}), (meter.Usage{InputTokens: 10, OutputTokens: 10_000}); got != want {
		t.Fatalf("estimate=%+v, want %+v", got, want)
	}
	info := RequestInfo{MaxTokens: 32_000, N: 1}
	if got, want := m.Estimate(info, messagesPrice), (meter.Usage{InputTokens: 10, OutputTokens: 32_000}); got != want {
		t.Fatalf("estimate=%+v, want %+v", got, want)
	}
}

func TestMessagesStreamMeter_ThinkingSummaryEstimate(t *testing.T) {
	summary := "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"Summary: weigh the options.\"}}\n\n"
	text := "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Sunny.\"}}\n\n"
	info := RequestInfo{MaxTokens: 16_000, N: 1, PromptBytes: 100, Messages: 1}
	tests := []struct {
		name   string
		stream string
		want   meter.Usage
		cost   string
	}{
		// 10 input at $3/M, 16 000 output at $15/M.
		{"thinking, input known", thinkingStart + summary + text, meter.Usage{InputTokens: 10, OutputTokens: 16_000}, "0.24003"},
		// The input bound (100 + 8 + 16 tokens at the 1h write's $6/M) and the output bound.
		{"thinking, no message_start", summary, meter.Usage{CacheWrite1hTokens: 124, OutputTokens: 16_000}, "0.240744"},
		// No thinking: the delivered text (6 bytes, 2 tokens).
		{"text only", thinkingStart + text, meter.Usage{InputTokens: 10, OutputTokens: 2}, "0.00006"},
		// message_delta's output is final: no estimate.
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &StreamMeter{API: APIMessages}
			for _, ev := range splitSSE(tt.stream) {
				m.Observe([]byte(ev))
			}
			if _, ok := m.Usage(); ok {
				t.Fatal("usage final")
			}
			got := m.Estimate(info, messagesPrice)
			if got != tt.want || messagesPrice.Cost(got) != mustAmount(tt.cost) {
				t.Fatalf("estimate=%+v cost %s, want %+v %s", got, messagesPrice.Cost(got), tt.want, tt.cost)
			}
		})
	}
	// Usage that became final is charged as reported, thinking or not.
	m := &StreamMeter{API: APIMessages}
	for _, ev := range splitSSE(thinkingStart + summary + "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":900}}\n\n") {
		m.Observe([]byte(ev))
	}
	if u, ok := m.Usage(); !ok || u != (meter.Usage{InputTokens: 10, OutputTokens: 900}) {
		t.Fatalf("usage=%+v ok=%v, want 10 in, 900 out", u, ok)
	}
}

// An upstream's own paymeter_cost (a paymeter upstream, or a spoof) is
// dropped: the member is there once, with this proxy's charge.
func TestMessagesWithCost_UpstreamCostDropped(t *testing.T) {
	in := []byte(`{"id":"m","usage":{"input_tokens":1,"output_tokens":2,"paymeter_cost":"0.000001"}}`)
	if got, want := string(WithCost(APIMessages, in, 5_000_000_000)), `{"id":"m","usage":{"input_tokens":1,"output_tokens":2,"paymeter_cost":"5"}}`; got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	ev := []byte("event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"paymeter_cost\":\"0.000001\",\"output_tokens\":2}}\n\n")
	want := "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":2,\"paymeter_cost\":\"5\"}}\n\n"
	if got := string(WithCost(APIMessages, ev, 5_000_000_000)); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

// FuzzMessagesWithCost: a whole Message or an event's data stays valid
// JSON exactly when it was, and an edit leaves exactly one paymeter_cost
// in the usage, with this proxy's cost; nothing else changes.
func FuzzMessagesWithCost(f *testing.F) {
	f.Add([]byte(`{"id":"m","usage":{"input_tokens":1,"output_tokens":2}}`))
	f.Add([]byte(`{"id":"m","usage":{"paymeter_cost":"1","input_tokens":1,"paymeter_cost":2}}`))
	f.Add([]byte("event: message_delta\r\ndata:{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":89} }\r\n\r\n"))
	f.Add([]byte("data: {\"usage\":{ }}\n\n"))
	f.Add([]byte("data: {\"usage\":\ndata: {\"paymeter_cost\":\"1\"}}\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		out := WithCost(APIMessages, in, 12345)
		if !bytes.Equal(in, orig) {
			t.Fatal("input modified")
		}
		if bytes.Equal(out, in) {
			return
		}
		doc, edited := in, out
		if !json.Valid(in) {
			doc, edited = sseData(in), sseData(out)
		}
		if !json.Valid(doc) || !json.Valid(edited) {
			t.Fatalf("edited: valid in=%v out=%v\n%q\n%q", json.Valid(doc), json.Valid(edited), in, out)
		}
		if costs, last := usageCosts(t, edited); costs != 1 || last != "0.000012345" {
			t.Fatalf("%d paymeter_cost members, the last %q:\n%q\n%q", costs, last, in, out)
		}
	})
}

// sseData is an event's data lines joined with "\n", as StreamMeter reads them.
func sseData(event []byte) []byte {
	var lines [][]byte
	for _, line := range bytes.Split(bytes.TrimPrefix(event, []byte(bom)), []byte("\n")) {
		line = bytes.TrimSuffix(line, []byte("\r"))
		if v, ok := bytes.CutPrefix(line, []byte("data")); ok && (len(v) == 0 || v[0] == ':') {
			v = bytes.TrimPrefix(bytes.TrimPrefix(v, []byte(":")), []byte(" "))
			lines = append(lines, v)
		}
	}
	return bytes.Join(lines, []byte("\n"))
}

// usageCosts counts the paymeter_cost members of doc's last top-level
// usage object, duplicates included, and returns the last one's value.
func usageCosts(t *testing.T, doc []byte) (n int, last string) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		t.Fatalf("%q: %v", doc, err)
	}
	d := json.NewDecoder(bytes.NewReader(top["usage"]))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("usage %s is not an object", top["usage"])
	}
	for d.More() {
		key, _ := d.Token()
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if key == costField {
			n++
			json.Unmarshal(v, &last)
		}
	}
	return n, last
}
