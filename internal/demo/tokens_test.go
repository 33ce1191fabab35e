package demo

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// randomText mixes ASCII, JSON-escaped characters and multi-byte runes, so
// decoded byte lengths differ from the bytes on the wire.
func randomText(rng *rand.Rand) string {
	const pieces = "abcdefghij KLMNOP 0123456789.,\"\\\n\t\x01"
	runes := []string{"é", "漢", "🙂", "\u2028"}
	var b strings.Builder
	for range rng.IntN(200) {
		if rng.IntN(8) == 0 {
			b.WriteString(runes[rng.IntN(len(runes))])
		} else {
			b.WriteByte(pieces[rng.IntN(len(pieces))])
		}
	}
	return b.String()
}

type part struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// TestPromptTokensBound checks, for many random prompts, the promise
// paymeter's worst-case reservation relies on: prompt_tokens never exceeds
// the prompt's text bytes + 8 per message + 16. It also pins the formula.
func TestPromptTokensBound(t *testing.T) {
	url := start(t, &Server{})
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		var messages []map[string]any
		textBytes, want := 0, 3
		for range 1 + rng.IntN(6) {
			var content any
			n := 0
			if rng.IntN(3) == 0 {
				var parts []part
				for range rng.IntN(3) {
					p := part{"text", randomText(rng)}
					parts, n = append(parts, p), n+len(p.Text)
				}
				content = parts
			} else {
				s := randomText(rng)
				content, n = s, len(s)
			}
			messages = append(messages, map[string]any{"role": "user", "content": content})
			textBytes, want = textBytes+n, want+(n+3)/4+3
		}
		body, _ := json.Marshal(map[string]any{"model": "demo-small", "messages": messages, "max_tokens": 1})
		checkPromptTokens(t, url+"/v1/chat/completions", string(body), want, textBytes+8*len(messages)+16)

		var items []string
		textBytes, want = 0, 0
		for range 1 + rng.IntN(4) {
			s := randomText(rng)
			items, textBytes, want = append(items, s), textBytes+len(s), want+(len(s)+3)/4
		}
		want = max(want, 1)
		body, _ = json.Marshal(map[string]any{"model": "demo-small", "prompt": items, "max_tokens": 1})
		checkPromptTokens(t, url+"/v1/completions", string(body), want, textBytes+8*len(items)+16)
		body, _ = json.Marshal(map[string]any{"model": "demo-embed", "input": items})
		checkPromptTokens(t, url+"/v1/embeddings", string(body), want, textBytes+8*len(items)+16)
		if t.Failed() {
			t.Fatalf("stopped after prompt %d", i)
		}
	}
}

func checkPromptTokens(t *testing.T, url, body string, want, bound int) {
	t.Helper()
	status, _, reply := do(t, "POST", url, body)
	if status != http.StatusOK {
		t.Fatalf("status=%d, want 200: %s\nrequest: %s", status, reply, body)
	}
	got := decode[chatReply](t, reply).Usage.PromptTokens
	if got != want || got > bound {
		t.Errorf("prompt_tokens=%d, want %d and at most %d\nrequest: %s", got, want, bound, body)
	}
}

// FuzzChatCompletion feeds arbitrary bodies to the chat route: the server
// must not panic, must answer JSON with a 200, 400 or 404, and a 200 must
// keep prompt_tokens within the bound, counted by an independent decoding.
func FuzzChatCompletion(f *testing.F) {
	for _, seed := range []string{
		helloChat + "}",
		helloChat + `,"max_tokens":3,"max_completion_tokens":2}`,
		`{"model":"demo-small","messages":[{"role":"user","content":[{"type":"text","text":"a\u00e9"},{"type":"image_url"}]}]}`,
		`{"model":"demo-small","messages":[{"role":"assistant","content":null},{"role":"user","content":"\ud83d\ude42"}]}`,
		`{"model":"demo-small","messages":[{"content":"\xff"}]}`,
		`{"model":`,
	} {
		f.Add(seed)
	}
	s := &Server{}
	f.Fuzz(func(t *testing.T, body string) {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(body)))
		if w.Code != 200 && w.Code != 400 && w.Code != 404 {
			t.Fatalf("status=%d, want 200, 400 or 404", w.Code)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("reply is not JSON: %s", w.Body)
		}
		if w.Code != 200 {
			return
		}
		var req struct {
			Messages []struct {
				Content any `json:"content"`
			} `json:"messages"`
		}
		if err := json.Unmarshal([]byte(body), &req); err != nil {
			t.Fatalf("served 200 for a body encoding/json rejects: %v", err)
		}
		textBytes := 0
		for _, m := range req.Messages {
			switch c := m.Content.(type) {
			case string:
				textBytes += len(c)
			case []any:
				for _, p := range c {
					if p, ok := p.(map[string]any); ok {
						text, _ := p["text"].(string)
						textBytes += len(text)
					}
				}
			}
		}
		var reply chatReply
		if err := json.Unmarshal(w.Body.Bytes(), &reply); err != nil || reply.Usage == nil {
			t.Fatalf("200 reply without usage: %s", w.Body)
		}
		if got, bound := reply.Usage.PromptTokens, textBytes+8*len(req.Messages)+16; got > bound {
			t.Fatalf("prompt_tokens=%d, want at most %d", got, bound)
		}
	})
}
