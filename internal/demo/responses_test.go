package demo

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

type responsesReply struct {
	ID                string `json:"id"`
	Object            string `json:"object"`
	Status            string `json:"status"`
	Model             string `json:"model"`
	IncompleteDetails *struct {
		Reason string `json:"reason"`
	} `json:"incomplete_details"`
	Output []struct {
		Type    string `json:"type"`
		Role    string `json:"role"`
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
	} `json:"output"`
	Usage *struct {
		InputTokens        int `json:"input_tokens"`
		InputTokensDetails struct {
			CachedTokens *int `json:"cached_tokens"`
		} `json:"input_tokens_details"`
		OutputTokens        int `json:"output_tokens"`
		OutputTokensDetails struct {
			ReasoningTokens *int `json:"reasoning_tokens"`
		} `json:"output_tokens_details"`
		TotalTokens int `json:"total_tokens"`
	} `json:"usage"`
}

func (r *responsesReply) text() string {
	var b strings.Builder
	for _, o := range r.Output {
		for _, c := range o.Content {
			b.WriteString(c.Text)
		}
	}
	return b.String()
}

func TestResponses(t *testing.T) {
	url := start(t, &Server{}) + "/v1/responses"
	// 3 + (ceil(10/4)+3) for the instructions + (ceil(10/4)+3) for the item.
	status, h, body := do(t, http.MethodPost, url, `{"model":"demo-small","instructions":"Be brief.","input":[{"role":"user","content":[{"type":"input_text","text":"Say hello."}]}]}`)
	var r responsesReply
	if status != http.StatusOK || h.Get("Content-Type") != "application/json" || json.Unmarshal(body, &r) != nil {
		t.Fatalf("status %d, %s", status, body)
	}
	if r.Object != "response" || r.Status != "completed" || r.Model != "demo-small" || r.IncompleteDetails != nil || !strings.HasPrefix(r.ID, "resp_demo_") {
		t.Fatalf("reply %s", body)
	}
	u := r.Usage
	if u == nil || u.InputTokens != 15 || u.OutputTokens != 16 || u.TotalTokens != 31 ||
		u.InputTokensDetails.CachedTokens == nil || *u.InputTokensDetails.CachedTokens != 0 ||
		u.OutputTokensDetails.ReasoningTokens == nil || *u.OutputTokensDetails.ReasoningTokens != 0 {
		t.Fatalf("usage in %s", body)
	}
	if words := strings.Fields(r.text()); len(words) != 16 || !strings.HasSuffix(r.text(), ".") {
		t.Fatalf("text %q, want 16 words", r.text())
	}
	// The same prompt as a plain string, cut short: the same first words.
	_, _, body2 := do(t, http.MethodPost, url, `{"model":"demo-small","instructions":"Be brief.","input":"Say hello.","max_output_tokens":4}`)
	var r2 responsesReply
	if json.Unmarshal(body2, &r2) != nil || r2.Status != "incomplete" || r2.IncompleteDetails == nil ||
		r2.IncompleteDetails.Reason != "max_output_tokens" || r2.Usage.OutputTokens != 4 || r2.Usage.InputTokens != 15 {
		t.Fatalf("reply %s", body2)
	}
	if got, want := strings.Fields(r2.text()), strings.Fields(r.text())[:4]; strings.Join(got[:3], " ") != strings.Join(want[:3], " ") {
		t.Fatalf("cut reply %q, want it to start as %q", got, want)
	}
	for _, bad := range []string{`{"model":"demo-small","input":5}`, `{"model":"demo-small","max_output_tokens":0}`, `{"model":"demo-embed","input":"x"}`} {
		if status, _, body := do(t, http.MethodPost, url, bad); status == http.StatusOK {
			t.Errorf("%s: %d %s, want an error", bad, status, body)
		}
	}
}

func TestResponsesStream(t *testing.T) {
	url := start(t, &Server{}) + "/v1/responses"
	const req = `{"model":"demo-small","instructions":"Be brief.","input":"Say hello.","max_output_tokens":%s,"stream":true}`
	_, _, whole := do(t, http.MethodPost, url, strings.Replace(strings.Replace(req, "%s", "5", 1), `,"stream":true`, "", 1))
	var want responsesReply
	if err := json.Unmarshal(whole, &want); err != nil {
		t.Fatal(err)
	}
	status, h, body := do(t, http.MethodPost, url, strings.Replace(req, "%s", "5", 1))
	if status != http.StatusOK || h.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d %v", status, h)
	}
	events := strings.SplitAfter(string(body), "\n\n")
	if events[len(events)-1] == "" {
		events = events[:len(events)-1]
	}
	var types []string
	var text strings.Builder
	var final responsesReply
	for i, ev := range events {
		name, data, ok := strings.Cut(strings.TrimSuffix(ev, "\n\n"), "\ndata: ")
		var v struct {
			Type     string          `json:"type"`
			Seq      int             `json:"sequence_number"`
			Delta    string          `json:"delta"`
			Response json.RawMessage `json:"response"`
		}
		if !ok || json.Unmarshal([]byte(data), &v) != nil || name != "event: "+v.Type || v.Seq != i {
			t.Fatalf("event %d %q", i, ev)
		}
		types = append(types, v.Type)
		if v.Type == "response.output_text.delta" {
			text.WriteString(v.Delta)
		}
		if v.Type == "response.incomplete" {
			json.Unmarshal(v.Response, &final)
		}
	}
	wantTypes := "response.created response.in_progress response.output_item.added response.content_part.added" +
		strings.Repeat(" response.output_text.delta", 5) +
		" response.output_text.done response.content_part.done response.output_item.done response.incomplete"
	if strings.Join(types, " ") != wantTypes {
		t.Fatalf("events %v", types)
	}
	if text.String() != want.text() || final.text() != want.text() || final.Usage.InputTokens != want.Usage.InputTokens || final.Usage.OutputTokens != want.Usage.OutputTokens || final.Status != "incomplete" {
		t.Fatalf("streamed %q, final %+v; want %q, %+v", text.String(), final, want.text(), want.Usage)
	}
	if strings.Contains(string(body), "[DONE]") {
		t.Fatal("a Responses stream has no [DONE]")
	}
}
