package upstream

import (
	"errors"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// Input named by id (docs/design.md §2a): the Responses API's item
// reference has an optional type (ItemReferenceParam: type
// "item_reference" | null, only id required; openai-node 7.55
// ResponseInputItem.ItemReference `type?: 'item_reference' | null`), so an
// item with only an "id" is a reference to a stored item, input the
// upstream adds from its own state.
func TestInspectResponses_TypelessItemReferenceIsHiddenInput(t *testing.T) {
	for _, body := range []string{
		`{"model":"m","input":[{"id":"msg_0123456789"}]}`,
		`{"model":"m","input":[{"id":"rs_0123456789"},{"role":"user","content":"and now?"}]}`,
	} {
		info, err := InspectRequest([]byte(body), APIResponses)
		if err != nil {
			continue // refused: fine too
		}
		if !info.HiddenInput {
			t.Errorf("%s: HiddenInput=false, PromptBytes=%d: a stored item referenced by id is priced as %d bytes",
				body, info.PromptBytes, info.PromptBytes)
		}
	}
}

// A reasoning item passed back by id with store=true (the default) is
// rehydrated from the upstream's store: its reasoning (the whole chain of
// thought, billed as input) is not in the body, exactly as with
// encrypted_content.
func TestInspectResponses_ReasoningItemByIDIsHiddenInput(t *testing.T) {
	body := `{"model":"m","input":[{"role":"user","content":"q"},{"type":"reasoning","id":"rs_68af0123","summary":[]},` +
		`{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"1"}]}`
	info, err := InspectRequest([]byte(body), APIResponses)
	if err != nil {
		return
	}
	if !info.HiddenInput {
		t.Fatalf("HiddenInput=false, PromptBytes=%d: the stored reasoning rs_68af0123 stands for is not bounded", info.PromptBytes)
	}
}

// Items by id, with exact counts: what is hidden, what is only named by
// its id, and what counts its bytes.
func TestInspectResponses_ItemsByID(t *testing.T) {
	tests := []struct {
		name, body string
		want       RequestInfo
	}{
		{"typeless reference", `{"model":"m","input":[{"id":"msg_1"}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("msg_1"), HiddenInput: true}},
		{"typeless reference with other members", `{"model":"m","input":[{"id":"msg_1","status":"completed"}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("msg_1", "completed"), HiddenInput: true}},
		{"typeless message with an id", `{"model":"m","input":[{"role":"user","content":"hi","id":"msg_1"}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("user", "hi", "msg_1"), HiddenInput: true}},
		{"typeless message, null id", `{"model":"m","input":[{"role":"user","content":"hi","id":null}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("user", "hi", "null")}},
		{"typeless message", `{"model":"m","input":[{"content":"hi","role":"user"}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("hi", "user")}},
		{"reasoning by id", `{"model":"m","input":[{"type":"reasoning","id":"rs_1","summary":[]}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("rs_1", "[]"), HiddenInput: true}},
		{"reasoning, id after summary", `{"model":"m","input":[{"summary":[],"id":"rs_1","type":"reasoning"}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("[]", "rs_1"), HiddenInput: true}},
		{"reasoning without id or encrypted content", `{"model":"m","input":[{"type":"reasoning","summary":[],"id":null}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 1, PromptBytes: n("[]", "null")}},
		{"output message and function call by id are echoed", `{"model":"m","input":[` +
			`{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Hi","annotations":[]}]},` +
			`{"type":"function_call","id":"fc_1","call_id":"c","name":"f","arguments":"{}"}]}`,
			RequestInfo{Model: "m", N: 1, Messages: 2, PromptBytes: n("msg_1", "assistant", "completed", "Hi", "[]", "fc_1", "c", "f", "{}")}},
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

// A typeless item that is neither a message (role and content) nor a
// reference (id) is refused, and a spelling of id or role is ambiguous;
// a built-in tool's item is refused even if it carries encrypted content.
func TestInspectResponses_ItemsByIDRefused(t *testing.T) {
	tests := []struct{ name, body, code, field string }{
		{"typeless, no role", `{"model":"m","input":[{"content":"hi"}]}`, meter.ECodeBadRequest, ""},
		{"typeless, no content", `{"model":"m","input":[{"role":"user"}]}`, meter.ECodeBadRequest, ""},
		{"typeless, null content", `{"model":"m","input":[{"role":"user","content":null}]}`, meter.ECodeBadRequest, ""},
		{"empty item", `{"model":"m","input":[{}]}`, meter.ECodeBadRequest, ""},
		{"folded id", `{"model":"m","input":[{"role":"user","content":"hi","ID":"msg_1"}]}`, meter.ECodeAmbiguousField, "input[0].ID"},
		{"folded role", `{"model":"m","input":[{"Role":"user","content":"hi"}]}`, meter.ECodeAmbiguousField, "input[0].Role"},
		{"not priced despite encrypted content", `{"model":"m","input":[{"type":"web_search_call","encrypted_content":"x"}]}`,
			meter.ECodeContentNotPriced, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := InspectRequest([]byte(tt.body), APIResponses)
			var e *meter.Error
			if !errors.As(err, &e) || e.Code != tt.code || tt.field != "" && e.Details["field"] != tt.field {
				t.Fatalf("err=%v (%+v), want code %s field %q", err, e, tt.code, tt.field)
			}
		})
	}
}

// openai-node 7.55 documents reasoning.mode ('standard' | 'pro', "the
// reasoning execution mode") and effort up to 'max': a pro execution mode
// is the pro models' price, outside the price table.
func TestInspectResponses_ReasoningModeProRefused(t *testing.T) {
	_, err := InspectRequest([]byte(`{"model":"m","input":"x","reasoning":{"mode":"pro","effort":"max"}}`), APIResponses)
	if err == nil {
		t.Fatal(`"reasoning":{"mode":"pro"} accepted and forwarded unread`)
	}
}

func TestInspectResponses_Reasoning(t *testing.T) {
	for _, body := range []string{
		`{"model":"m","reasoning":null}`,
		`{"model":"m","reasoning":{}}`,
		`{"model":"m","reasoning":{"effort":"max","summary":"auto","generate_summary":null,"mode":"standard","context":"all_turns"}}`,
		`{"model":"m","reasoning":{"mode":null,"effort":null}}`,
	} {
		got, err := InspectRequest([]byte(body), APIResponses)
		want := RequestInfo{api: APIResponses, Model: "m", N: 1, edits: got.edits}
		if err != nil || got != want {
			t.Errorf("%s: info=%+v err=%v, want %+v", body, got, err, want)
		}
	}
	for _, tt := range []struct{ body, code, field string }{
		{`{"model":"m","reasoning":{"mode":"pro"}}`, meter.ECodeUnsupportedField, "reasoning.mode"},
		{`{"model":"m","reasoning":{"mode":"standard","mode":"pro"}}`, meter.ECodeUnsupportedField, "reasoning.mode"},
		{`{"model":"m","reasoning":{"mode":"Standard"}}`, meter.ECodeUnsupportedField, "reasoning.mode"},
		{`{"model":"m","reasoning":{"Mode":"pro"}}`, meter.ECodeAmbiguousField, "reasoning.Mode"},
		{`{"model":"m","reasoning":{"mod\u0065":"pro"}}`, meter.ECodeUnsupportedField, "reasoning.mode"},
		{`{"model":"m","reasoning":{"EFFORT":"low"}}`, meter.ECodeAmbiguousField, "reasoning.EFFORT"},
		{`{"model":"m","reasoning":{"budget":1}}`, meter.ECodeUnsupportedField, "reasoning.budget"},
		{`{"model":"m","reasoning":{"mode":1}}`, meter.ECodeBadRequest, ""},
		{`{"model":"m","reasoning":"high"}`, meter.ECodeBadRequest, ""},
		{`{"model":"m","reasoning":{"effort":"low",}}`, meter.ECodeBadRequest, ""},
	} {
		_, err := InspectRequest([]byte(tt.body), APIResponses)
		var e *meter.Error
		if !errors.As(err, &e) || e.Code != tt.code || tt.field != "" && e.Details["field"] != tt.field {
			t.Errorf("%s: err=%v (%+v), want code %s field %q", tt.body, err, e, tt.code, tt.field)
		}
	}
}

// tool_choice allowed_tools lists tools of its own: built-in ones are
// refused as they are in tools.
func TestInspectResponses_AllowedToolsListsOnlyPricedTools(t *testing.T) {
	_, err := InspectRequest([]byte(`{"model":"m","input":"x","tools":[{"type":"function","name":"f","parameters":{}}],`+
		`"tool_choice":{"type":"allowed_tools","mode":"required","tools":[{"type":"image_generation"},{"type":"web_search"}]}}`), APIResponses)
	if err == nil {
		t.Fatal("allowed_tools naming image_generation and web_search accepted")
	}
	for _, tt := range []struct{ body, code, field string }{
		{`{"model":"m","tool_choice":{"tools":[{"type":"function","name":"f"},{"type":"mcp","server_label":"x"}],"type":"allowed_tools"}}`,
			meter.ECodeUnsupportedField, "tool_choice.tools[1]"},
		{`{"model":"m","tool_choice":{"type":"allowed_tools","tools":[{"type":"custom","name":"c"}],"tools":[{"type":"web_search"}]}}`,
			meter.ECodeUnsupportedField, "tool_choice.tools[0]"},
		{`{"model":"m","tool_choice":{"type":"allowed_tools","Tools":[{"type":"web_search"}]}}`, meter.ECodeAmbiguousField, "tool_choice.Tools"},
		{`{"model":"m","tool_choice":{"type":"allowed_tools","tools":[{"type":"function","TYPE":"web_search"}]}}`,
			meter.ECodeAmbiguousField, "tool_choice.tools[0].TYPE"},
		{`{"model":"m","tools":[{"type":"function","name":"f"},{"type":"function","name":"g"},{"type":"file_search"}]}`,
			meter.ECodeUnsupportedField, "tools[2]"},
	} {
		_, err := InspectRequest([]byte(tt.body), APIResponses)
		var e *meter.Error
		if !errors.As(err, &e) || e.Code != tt.code || e.Details["field"] != tt.field {
			t.Errorf("%s: err=%v (%+v), want code %s field %q", tt.body, err, e, tt.code, tt.field)
		}
	}
	choice := `{"type":"allowed_tools","mode":"auto","tools":[{"type":"function","name":"f"},{"type":"custom","name":"c"}]}`
	got, err := InspectRequest([]byte(`{"model":"m","tool_choice":`+choice+`}`), APIResponses)
	want := RequestInfo{api: APIResponses, Model: "m", N: 1, PromptBytes: jsonCost(choice), edits: got.edits}
	if err != nil || got != want {
		t.Fatalf("info=%+v err=%v, want %+v", got, err, want)
	}
}

// The tool list builds no name for a tool it accepts.
func TestInspectResponses_ToolsAllocateNothingPerTool(t *testing.T) {
	body := []byte(`{"model":"m","tools":[` + strings.Repeat(`{"type":"function","name":"f","parameters":{}},`, 50) + `{"type":"custom","name":"c"}]}`)
	one := []byte(`{"model":"m","tools":[{"type":"custom","name":"c"}]}`)
	many := testing.AllocsPerRun(50, func() { _, _ = InspectRequest(body, APIResponses) })
	few := testing.AllocsPerRun(50, func() { _, _ = InspectRequest(one, APIResponses) })
	if many != few {
		t.Fatalf("%v allocations for 51 tools, %v for one", many, few)
	}
}

// A Responses stream of a reasoning model that paymeter cuts (its time
// limit, shutdown) after the reasoning item started, before any visible
// token, is charged the whole output bound held, as a Messages stream
// with thinking is: OpenAI streams no reasoning text (only an optional
// summary) and bills all of it.
func TestResponsesStream_ReasoningCutIsChargedTheHeldOutput(t *testing.T) {
	info, err := InspectRequest([]byte(`{"model":"gpt-5","input":"prove it","reasoning":{"effort":"high"},"max_output_tokens":32000,"stream":true}`), APIResponses)
	if err != nil {
		t.Fatal(err)
	}
	p := meter.Price{Input: credits(t, "1.25"), Output: credits(t, "10")}
	m := &StreamMeter{API: APIResponses}
	for _, ev := range []string{
		`{"type":"response.created","response":{"id":"resp_1","model":"gpt-5","usage":null}}`,
		`{"type":"response.in_progress","response":{"id":"resp_1","model":"gpt-5","usage":null}}`,
		`{"type":"response.output_item.added","output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[]}}`,
	} {
		m.Observe([]byte("event: x\ndata: " + ev + "\n\n"))
	}
	u := m.Estimate(info, p)
	if u.OutputTokens < 32000 {
		t.Fatalf("estimate %+v: %d output tokens for a stream cut mid-reasoning (held 32000)", u, u.OutputTokens)
	}
	if want := (meter.Usage{InputTokens: n("prove it") + 8 + 16, OutputTokens: 32000}); u != want {
		t.Fatalf("estimate %+v, want %+v", u, want)
	}
}

// What marks a Responses stream as reasoning, exactly.
func TestResponsesStream_ReasoningEstimate(t *testing.T) {
	ev := func(data string) string { return "data: " + data + "\n\n" }
	info, err := InspectRequest([]byte(`{"model":"m","input":"hi","max_output_tokens":500,"stream":true}`), APIResponses)
	if err != nil {
		t.Fatal(err)
	}
	p := meter.Price{Input: credits(t, "1"), Output: credits(t, "2"), MaxOutputTokens: 9000}
	input := n("hi") + 8 + 16
	tests := []struct {
		name, events string
		output       int64
	}{
		{"nothing", "", 1},
		{"text only", ev(`{"type":"response.output_item.added","item":{"type":"message","id":"msg_1"}}`) +
			ev(`{"type":"response.output_text.delta","delta":"abcdefghi"}`), 3},
		{"reasoning item, type last", ev(`{"item":{"summary":[],"type":"reasoning"},"type":"response.output_item.added"}`), 500},
		{"reasoning item done", ev(`{"type":"response.output_item.done","item":{"type":"reasoning","id":"rs_1"}}`), 500},
		{"summary part", ev(`{"type":"response.reasoning_summary_part.added","part":{"type":"summary_text","text":""}}`), 500},
		{"summary delta after text", ev(`{"type":"response.output_text.delta","delta":"abcdefghi"}`) +
			ev(`{"type":"response.reasoning_summary_text.delta","delta":"hm"}`), 500},
		{"reasoning text delta", ev(`{"type":"response.reasoning_text.delta","delta":"x"}`), 500},
		{"item type repeated, last not reasoning", ev(`{"type":"response.output_item.added","item":{"type":"reasoning","type":"message"}}`), 1},
		{"reasoning in a string", ev(`{"type":"response.output_text.delta","delta":"response.reasoning \"type\":\"reasoning\""}`), 10},
		{"invalid event", ev(`{"type":"response.reasoning_text.delta","delta":"x",}`), 1},
		{"message item with reasoning content", ev(`{"type":"response.output_item.added","item":{"type":"message","content":[{"type":"reasoning"}]}}`), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &StreamMeter{API: APIResponses}
			r := NewEventReader(strings.NewReader(tt.events), 0)
			for {
				e, err := r.Next()
				if err != nil {
					break
				}
				m.Observe(e)
			}
			if got, want := m.Estimate(info, p), (meter.Usage{InputTokens: input, OutputTokens: tt.output}); got != want {
				t.Fatalf("estimate %+v, want %+v", got, want)
			}
		})
	}
}
