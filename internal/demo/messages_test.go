package demo

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

const helloMessages = `{"model":"demo-claude","max_tokens":8,"system":"Be brief.","messages":[{"role":"user","content":"Say hello."}]`

type messageReply struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Role    string `json:"role"`
	Model   string `json:"model"`
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	StopReason string `json:"stop_reason"`
	Usage      struct {
		InputTokens              int `json:"input_tokens"`
		CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
		CacheReadInputTokens     int `json:"cache_read_input_tokens"`
		OutputTokens             int `json:"output_tokens"`
	} `json:"usage"`
}

// A Message answers with one text block and Anthropic's usage; the
// streamed answer has the same text, in Anthropic's event order, and the
// same usage, its output in message_delta. The key may come as x-api-key.
func TestMessages(t *testing.T) {
	url := start(t, &Server{APIKey: "k"}) + "/v1/messages"
	status, _, body := do(t, "POST", url, helloMessages+"}", "X-Api-Key", "k")
	if status != http.StatusOK {
		t.Fatalf("status=%d: %s", status, body)
	}
	var m messageReply
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	// "Be brief." 9 bytes → 3 tokens + 3; "Say hello." 10 bytes → 3 + 3.
	if m.Type != "message" || m.Role != "assistant" || m.Model != "demo-claude" || len(m.Content) != 1 ||
		m.StopReason != "max_tokens" || m.Usage.InputTokens != 12 || m.Usage.OutputTokens != 8 ||
		len(strings.Fields(m.Content[0].Text)) != 8 {
		t.Fatalf("reply %+v", m)
	}

	status, h, body := do(t, "POST", url, helloMessages+`,"stream":true}`, "Authorization", "Bearer k")
	if status != http.StatusOK || h.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status=%d type=%q", status, h.Get("Content-Type"))
	}
	var names []string
	var text string
	var in, out int
	for _, ev := range strings.SplitAfter(string(body), "\n\n") {
		if ev == "" {
			continue
		}
		name, rest, _ := strings.Cut(strings.TrimPrefix(ev, "event: "), "\ndata: ")
		var d struct {
			Type    string `json:"type"`
			Message messageReply
			Delta   struct{ Text string }
			Usage   struct {
				OutputTokens int `json:"output_tokens"`
			}
		}
		if err := json.Unmarshal([]byte(rest), &d); err != nil || d.Type != name {
			t.Fatalf("event %q: type %q, err %v", ev, d.Type, err)
		}
		if len(names) == 0 || names[len(names)-1] != name {
			names = append(names, name)
		}
		text += d.Delta.Text
		if name == "message_start" {
			in = d.Message.Usage.InputTokens
		}
		if name == "message_delta" {
			out = d.Usage.OutputTokens
		}
	}
	want := "message_start content_block_start ping content_block_delta content_block_stop message_delta message_stop"
	if strings.Join(names, " ") != want || text != m.Content[0].Text || in != 12 || out != 8 {
		t.Fatalf("events %v text %q in %d out %d; want %s, %q, 12, 8", names, text, in, out, want, m.Content[0].Text)
	}

	for _, tt := range []struct{ body, key string }{
		{`{"model":"demo-small","messages":[{"role":"user","content":"x"}]}`, "k"},
		{helloMessages + "}", "wrong"},
	} {
		if status, _, body := do(t, "POST", url, tt.body, "X-Api-Key", tt.key); status < 400 {
			t.Fatalf("status=%d for %s: %s", status, tt.body, body)
		}
	}
}
