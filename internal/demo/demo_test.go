package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// start serves s on loopback for the length of the test.
func start(t *testing.T, s *Server) string {
	t.Helper()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts.URL
}

// do sends one request and returns the status, headers and whole body.
func do(t *testing.T, method, url, body string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type chatReply struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Index   int `json:"index"`
		Message struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"message"`
		Delta struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"delta"`
		Text         string  `json:"text"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *usage `json:"usage"`
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("body is not the JSON expected: %v\n%s", err, b)
	}
	return v
}

const helloChat = `{"model":"demo-small","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello."}]`

// helloPromptTokens is (ceil(28/4)+3) + (ceil(10/4)+3) + 3.
const helloPromptTokens = 19

func TestChatCompletion(t *testing.T) {
	url := start(t, &Server{})
	status, h, body := do(t, "POST", url+"/v1/chat/completions", helloChat+"}")
	if status != http.StatusOK {
		t.Fatalf("status=%d, want 200: %s", status, body)
	}
	if got, want := h.Get("Content-Type"), "application/json"; got != want {
		t.Errorf("Content-Type=%q, want %q", got, want)
	}
	r := decode[chatReply](t, body)
	if !strings.HasPrefix(r.ID, "chatcmpl-demo-") || r.Object != "chat.completion" || r.Created != created || r.Model != "demo-small" {
		t.Errorf("id=%q object=%q created=%d model=%q, want chatcmpl-demo-…, chat.completion, %d, demo-small",
			r.ID, r.Object, r.Created, r.Model, created)
	}
	if len(r.Choices) != 1 {
		t.Fatalf("got %d choices, want 1", len(r.Choices))
	}
	c := r.Choices[0]
	if c.Message.Role != "assistant" || c.FinishReason == nil || *c.FinishReason != "stop" {
		t.Errorf("role=%q finish_reason=%v, want assistant and stop", c.Message.Role, c.FinishReason)
	}
	if got, want := len(strings.Fields(c.Message.Content)), 16; got != want || !strings.HasSuffix(c.Message.Content, ".") {
		t.Errorf("content %q has %d words, want %d ending in a period", c.Message.Content, got, want)
	}
	if got, want := *r.Usage, (usage{helloPromptTokens, 16, helloPromptTokens + 16}); got != want {
		t.Errorf("usage=%+v, want %+v", got, want)
	}
	if n := len(body); n < 300 || n > 450 {
		t.Errorf("default reply is %d bytes, want 300-450 (what the load benchmark assumes)", n)
	}
}

func TestMaxTokens(t *testing.T) {
	for _, tt := range []struct {
		name       string
		server     Server
		path, body string
		want       int
		finish     string
	}{
		{"chat max_tokens", Server{}, "/v1/chat/completions", helloChat + `,"max_tokens":5}`, 5, "length"},
		{"chat max_completion_tokens", Server{}, "/v1/chat/completions", helloChat + `,"max_completion_tokens":7}`, 7, "length"},
		{"chat both, smaller wins", Server{}, "/v1/chat/completions", helloChat + `,"max_tokens":9,"max_completion_tokens":4}`, 4, "length"},
		{"chat above default: a cap, not a length", Server{}, "/v1/chat/completions", helloChat + `,"max_tokens":100}`, 16, "stop"},
		{"chat limit equal to the default", Server{}, "/v1/chat/completions", helloChat + `,"max_tokens":16}`, 16, "stop"},
		{"chat server default", Server{DefaultMaxTokens: 3}, "/v1/chat/completions", helloChat + `}`, 3, "stop"},
		{"completions max_tokens", Server{}, "/v1/completions", `{"model":"demo-large","prompt":"Hi","max_tokens":2}`, 2, "length"},
		{"completions default", Server{}, "/v1/completions", `{"model":"demo-large","prompt":["a","b"]}`, 16, "stop"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := do(t, "POST", start(t, &tt.server)+tt.path, tt.body)
			if status != http.StatusOK {
				t.Fatalf("status=%d, want 200: %s", status, body)
			}
			r := decode[chatReply](t, body)
			text := r.Choices[0].Message.Content + r.Choices[0].Text
			if got := len(strings.Fields(text)); got != tt.want || r.Usage.CompletionTokens != tt.want {
				t.Errorf("%d words, completion_tokens=%d, want %d of both", got, r.Usage.CompletionTokens, tt.want)
			}
			if got := *r.Choices[0].FinishReason; got != tt.finish {
				t.Errorf("finish_reason=%q, want %q", got, tt.finish)
			}
		})
	}
}

// readEvents splits an SSE body into its data payloads.
func readEvents(t *testing.T, body []byte) []string {
	t.Helper()
	if !bytes.HasSuffix(body, []byte("\n\n")) {
		t.Fatalf("stream does not end with a blank line: %q", body)
	}
	var events []string
	for ev := range strings.SplitSeq(strings.TrimSuffix(string(body), "\n\n"), "\n\n") {
		data, ok := strings.CutPrefix(ev, "data: ")
		if !ok || strings.Contains(data, "\n") {
			t.Fatalf("event %q is not a single data line", ev)
		}
		events = append(events, data)
	}
	return events
}

func TestChatCompletionStream(t *testing.T) {
	url := start(t, &Server{})
	_, _, plain := do(t, "POST", url+"/v1/chat/completions", helloChat+`,"max_tokens":6}`)
	want := decode[chatReply](t, plain)

	for _, includeUsage := range []bool{true, false} {
		opts := `,"stream_options":{"include_usage":false}}`
		if includeUsage {
			opts = `,"stream_options":{"include_usage":true}}`
		}
		status, h, body := do(t, "POST", url+"/v1/chat/completions", helloChat+`,"max_tokens":6,"stream":true`+opts)
		if status != http.StatusOK || h.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("status=%d Content-Type=%q, want 200 text/event-stream", status, h.Get("Content-Type"))
		}
		events := readEvents(t, body)
		if got := events[len(events)-1]; got != "[DONE]" {
			t.Fatalf("last event %q, want [DONE]", got)
		}
		chunks := events[:len(events)-1]
		var content strings.Builder
		var finish string
		var u *usage
		for i, data := range chunks {
			c := decode[chatReply](t, []byte(data))
			if c.ID != want.ID || c.Object != "chat.completion.chunk" {
				t.Errorf("chunk %d id=%q object=%q, want %q chat.completion.chunk", i, c.ID, c.Object, want.ID)
			}
			if i == 0 && c.Choices[0].Delta.Role != "assistant" {
				t.Errorf("first chunk %s, want delta.role assistant", data)
			}
			if c.Usage != nil {
				if i != len(chunks)-1 || len(c.Choices) != 0 {
					t.Errorf("usage in chunk %d of %d with %d choices, want only in the last, with none", i, len(chunks), len(c.Choices))
				}
				u = c.Usage
				continue
			}
			content.WriteString(c.Choices[0].Delta.Content)
			if f := c.Choices[0].FinishReason; f != nil {
				finish = *f
			}
		}
		if got, want := content.String(), want.Choices[0].Message.Content; got != want {
			t.Errorf("streamed content %q, want the non-streamed %q", got, want)
		}
		if got, want := len(chunks), 1+6+1+btoi(includeUsage); got != want {
			t.Errorf("%d chunks, want %d (role, 6 words, finish, usage if asked)", got, want)
		}
		if finish != "length" {
			t.Errorf("finish_reason=%q, want length", finish)
		}
		switch {
		case includeUsage && (u == nil || *u != *want.Usage):
			t.Errorf("usage chunk %+v, want %+v", u, *want.Usage)
		case !includeUsage && bytes.Contains(body, []byte("usage")):
			t.Errorf("stream without include_usage mentions usage:\n%s", body)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestTextCompletionStream(t *testing.T) {
	url := start(t, &Server{})
	_, _, plain := do(t, "POST", url+"/v1/completions", `{"model":"demo-small","prompt":"Once","max_tokens":4}`)
	want := decode[chatReply](t, plain)
	if want.Object != "text_completion" || !strings.HasPrefix(want.ID, "cmpl-demo-") {
		t.Errorf("object=%q id=%q, want text_completion cmpl-demo-…", want.Object, want.ID)
	}
	_, _, body := do(t, "POST", url+"/v1/completions",
		`{"model":"demo-small","prompt":"Once","max_tokens":4,"stream":true,"stream_options":{"include_usage":true}}`)
	events := readEvents(t, body)
	var text strings.Builder
	for _, data := range events[:len(events)-2] {
		text.WriteString(decode[chatReply](t, []byte(data)).Choices[0].Text)
	}
	if got, want := text.String(), want.Choices[0].Text; got != want {
		t.Errorf("streamed text %q, want %q", got, want)
	}
	if u := decode[chatReply](t, []byte(events[len(events)-2])).Usage; u == nil || *u != *want.Usage {
		t.Errorf("usage chunk %v, want %+v", u, *want.Usage)
	}
}

func TestAPIKey(t *testing.T) {
	url := start(t, &Server{APIKey: "upstream-secret"}) + "/v1/chat/completions"
	for _, tt := range []struct {
		name, auth string
		want       int
	}{
		{"missing", "", http.StatusUnauthorized},
		{"client key", "Bearer client-key", http.StatusUnauthorized},
		{"not bearer", "upstream-secret", http.StatusUnauthorized},
		{"upstream key", "Bearer upstream-secret", http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var header []string
			if tt.auth != "" {
				header = []string{"Authorization", tt.auth}
			}
			status, _, body := do(t, "POST", url, helloChat+"}", header...)
			if status != tt.want {
				t.Fatalf("status=%d, want %d: %s", status, tt.want, body)
			}
			if status == http.StatusUnauthorized {
				if e := decode[apiError](t, body); e.Error.Code == nil || *e.Error.Code != "invalid_api_key" {
					t.Errorf("error %s, want code invalid_api_key", body)
				}
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	url := start(t, &Server{})
	for _, path := range []string{"/v1/chat/completions", "/v1/completions", "/v1/embeddings"} {
		req := map[string]string{
			"/v1/chat/completions": helloChat + `,"stream":true}`,
			"/v1/completions":      `{"model":"demo-small","prompt":"Say hello."}`,
			"/v1/embeddings":       `{"model":"demo-embed","input":["a","b"]}`,
		}[path]
		_, h1, first := do(t, "POST", url+path, req)
		_, h2, second := do(t, "POST", url+path, req)
		if !bytes.Equal(first, second) || h1.Get("Content-Type") != h2.Get("Content-Type") {
			t.Errorf("%s answered the same request differently:\n%s\n%s", path, first, second)
		}
	}
	_, _, a := do(t, "POST", url+"/v1/chat/completions", `{"model":"demo-small","messages":[{"role":"user","content":"one"}]}`)
	_, _, b := do(t, "POST", url+"/v1/chat/completions", `{"model":"demo-small","messages":[{"role":"user","content":"two"}]}`)
	if ca, cb := decode[chatReply](t, a).Choices[0].Message.Content, decode[chatReply](t, b).Choices[0].Message.Content; ca == cb {
		t.Errorf("different last messages got the same answer %q, want different answers", ca)
	}
}

type embeddingReply struct {
	Object string `json:"object"`
	Data   []struct {
		Object    string          `json:"object"`
		Index     int             `json:"index"`
		Embedding json.RawMessage `json:"embedding"`
	} `json:"data"`
	Model string `json:"model"`
	Usage usage  `json:"usage"`
}

func TestEmbeddings(t *testing.T) {
	url := start(t, &Server{}) + "/v1/embeddings"
	_, _, body := do(t, "POST", url, `{"model":"demo-embed","input":["Say hello.","hi","Say hello."]}`)
	r := decode[embeddingReply](t, body)
	if r.Object != "list" || r.Model != "demo-embed" || len(r.Data) != 3 {
		t.Fatalf("object=%q model=%q %d items, want list demo-embed 3", r.Object, r.Model, len(r.Data))
	}
	vecs := make([][]float32, len(r.Data))
	for i, d := range r.Data {
		vecs[i] = decode[[]float32](t, d.Embedding)
		var norm float64
		for _, f := range vecs[i] {
			norm += float64(f) * float64(f)
		}
		if d.Index != i || len(vecs[i]) != embeddingDims || math.Abs(norm-1) > 1e-5 {
			t.Errorf("item %d: index=%d dims=%d |v|²=%g, want index %d, %d dims, unit length", i, d.Index, len(vecs[i]), norm, i, embeddingDims)
		}
	}
	if !slices.Equal(vecs[0], vecs[2]) || slices.Equal(vecs[0], vecs[1]) {
		t.Errorf("vectors %v, want equal inputs equal and different inputs different", vecs)
	}
	if got, want := r.Usage, (usage{PromptTokens: 7, TotalTokens: 7}); got != want {
		t.Errorf("usage=%+v, want %+v: ceil(10/4)+ceil(2/4)+ceil(10/4)", got, want)
	}

	_, _, body = do(t, "POST", url, `{"model":"demo-embed","input":"Say hello.","encoding_format":"base64"}`)
	raw, err := base64.StdEncoding.DecodeString(decode[string](t, decode[embeddingReply](t, body).Data[0].Embedding))
	if err != nil || len(raw) != 4*embeddingDims {
		t.Fatalf("base64 embedding decodes to %d bytes (%v), want %d", len(raw), err, 4*embeddingDims)
	}
	for i := range embeddingDims {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])); got != vecs[0][i] {
			t.Errorf("base64 dim %d = %g, want the float encoding's %g", i, got, vecs[0][i])
		}
	}
}

func TestModels(t *testing.T) {
	url := start(t, &Server{})
	_, _, body := do(t, "GET", url+"/v1/models", "")
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID      string `json:"id"`
			Object  string `json:"object"`
			Created int64  `json:"created"`
			OwnedBy string `json:"owned_by"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("models body is not the JSON expected: %v\n%s", err, body)
	}
	var ids []string
	for _, m := range list.Data {
		ids = append(ids, m.ID)
		if m.Object != "model" || m.OwnedBy != "paymeter-demo" || m.Created != created {
			t.Errorf("model %+v, want object model, owned_by paymeter-demo, created %d", m, created)
		}
	}
	if want := Models(); list.Object != "list" || !slices.Equal(ids, want) {
		t.Errorf("object=%q ids=%v, want list %v", list.Object, ids, want)
	}
	if status, _, body := do(t, "GET", url+"/v1/models/demo-large", ""); status != http.StatusOK || !bytes.Contains(body, []byte(`"id":"demo-large"`)) {
		t.Errorf("GET /v1/models/demo-large: %d %s, want 200 with the model", status, body)
	}
}

func TestErrors(t *testing.T) {
	url := start(t, &Server{})
	for _, tt := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"unknown route", "POST", "/v1/nope", "{}", 404, "unknown_url"},
		{"no v1 prefix", "POST", "/chat/completions", helloChat + "}", 404, "unknown_url"},
		{"unknown model id", "GET", "/v1/models/gpt-9", "", 404, "model_not_found"},
		{"GET chat", "GET", "/v1/chat/completions", "", 405, "method_not_allowed"},
		{"POST models", "POST", "/v1/models", "{}", 405, "method_not_allowed"},
		{"malformed JSON", "POST", "/v1/chat/completions", `{"model":`, 400, "invalid_json"},
		{"wrong field type", "POST", "/v1/chat/completions", `{"model":"demo-small","messages":"hi"}`, 400, "invalid_json"},
		{"missing model", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}]}`, 400, "missing_required_parameter"},
		{"unknown model", "POST", "/v1/chat/completions", `{"model":"gpt-9","messages":[{"role":"user","content":"hi"}]}`, 404, "model_not_found"},
		{"embedding model for chat", "POST", "/v1/chat/completions", `{"model":"demo-embed","messages":[{"role":"user","content":"hi"}]}`, 404, "model_not_supported"},
		{"no messages", "POST", "/v1/chat/completions", `{"model":"demo-small","messages":[]}`, 400, "missing_required_parameter"},
		{"numeric content", "POST", "/v1/chat/completions", `{"model":"demo-small","messages":[{"role":"user","content":1}]}`, 400, "invalid_type"},
		{"zero max_tokens", "POST", "/v1/chat/completions", helloChat + `,"max_tokens":0}`, 400, "invalid_value"},
		{"huge max_tokens", "POST", "/v1/chat/completions", helloChat + `,"max_tokens":1000000}`, 400, "invalid_value"},
		{"token prompt", "POST", "/v1/completions", `{"model":"demo-small","prompt":[1,2,3]}`, 400, "invalid_type"},
		{"no prompt", "POST", "/v1/completions", `{"model":"demo-small"}`, 400, "invalid_type"},
		{"chat model for embeddings", "POST", "/v1/embeddings", `{"model":"demo-small","input":"x"}`, 404, "model_not_supported"},
		{"bad encoding_format", "POST", "/v1/embeddings", `{"model":"demo-embed","input":"x","encoding_format":"hex"}`, 400, "invalid_value"},
		{"body too large", "POST", "/v1/embeddings", `{"input":"` + strings.Repeat("x", maxBody) + `"}`, 413, "request_too_large"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := do(t, tt.method, url+tt.path, tt.body)
			if status != tt.status || h.Get("Content-Type") != "application/json" {
				t.Fatalf("status=%d Content-Type=%q, want %d application/json: %s", status, h.Get("Content-Type"), tt.status, body)
			}
			e := decode[apiError](t, body)
			if e.Error.Message == "" || e.Error.Type == "" || e.Error.Code == nil || *e.Error.Code != tt.code {
				t.Errorf("error body %s, want a message, a type and code %q", body, tt.code)
			}
			if status == 405 && h.Get("Allow") == "" {
				t.Errorf("405 without an Allow header")
			}
		})
	}
}

func TestStreamStopsWhenClientLeaves(t *testing.T) {
	returned := make(chan struct{})
	s := &Server{ChunkDelay: time.Hour} // only cancellation can end this stream
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(returned)
		s.ServeHTTP(w, r)
	}))
	defer ts.Close()

	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/v1/chat/completions", strings.NewReader(helloChat+`,"stream":true}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.Contains(line, `"role":"assistant"`) {
		t.Fatalf("first line %q (%v), want the role chunk flushed at once", line, err)
	}
	cancel()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("handler still running 5s after the client left, want it to stop promptly")
	}
}

func TestChunkDelay(t *testing.T) {
	const delay = 20 * time.Millisecond
	url := start(t, &Server{ChunkDelay: delay})
	began := time.Now()
	_, _, body := do(t, "POST", url+"/v1/chat/completions", helloChat+`,"max_tokens":3,"stream":true}`)
	// role, 3 words, finish, [DONE]: a delay before each event but the first.
	if got, want := time.Since(began), 5*delay; got < want || len(readEvents(t, body)) != 6 {
		t.Errorf("stream of %d events took %v, want 6 events taking at least %v", len(readEvents(t, body)), got, want)
	}
}

func BenchmarkChatCompletion(b *testing.B) {
	s := &Server{}
	body := []byte(helloChat + "}")
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/v1/chat/completions", bytes.NewReader(body))
		s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status=%d, want 200: %s", w.Code, w.Body)
		}
	}
}

func BenchmarkChatCompletionStream(b *testing.B) {
	s := &Server{}
	body := []byte(helloChat + `,"stream":true,"stream_options":{"include_usage":true}}`)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/v1/chat/completions", bytes.NewReader(body))
		s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status=%d, want 200: %s", w.Code, w.Body)
		}
	}
}
