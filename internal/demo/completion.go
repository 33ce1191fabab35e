package demo

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role string `json:"role"`
		// Content is a string, an array of parts or null; RawMessage
		// lets the common plain string be measured without a copy.
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	MaxTokens           *int           `json:"max_tokens"`
	MaxCompletionTokens *int           `json:"max_completion_tokens"`
	Stream              bool           `json:"stream"`
	StreamOptions       *streamOptions `json:"stream_options"`
}

type textRequest struct {
	Model         string          `json:"model"`
	Prompt        json.RawMessage `json:"prompt"`
	MaxTokens     *int            `json:"max_tokens"`
	Stream        bool            `json:"stream"`
	StreamOptions *streamOptions  `json:"stream_options"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

func (o *streamOptions) includeUsage() bool { return o != nil && o.IncludeUsage }

// completion is everything needed to write one reply, streamed or not.
type completion struct {
	chat         bool // chat.completion rather than text_completion
	model        string
	seed         uint64
	tokens       int // completion tokens: one per word, and the reasoning
	finish       string
	promptTokens int
	// cachedTokens of promptTokens were read from the prompt cache;
	// reasoning of tokens were spent reasoning (cache.go).
	cachedTokens, reasoning int
}

// words is how many words the answer shows: its tokens but the reasoning.
func (c *completion) words() int { return c.tokens - c.reasoning }

func (s *Server) chatCompletion(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if !readJSON(w, r, &req) || !checkModel(w, req.Model, kindText) {
		return
	}
	if len(req.Messages) == 0 {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "missing_required_parameter", "messages",
			"messages must be a non-empty array.")
		return
	}
	c := completion{chat: true, model: req.Model, promptTokens: 3}
	prefixes := newPromptPrefixes(req.Model)
	var last []byte
	for i, m := range req.Messages {
		text, err := contentText(m.Content)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_type",
				"messages["+strconv.Itoa(i)+"].content", err.Error())
			return
		}
		c.promptTokens += countTokens(len(text)) + 3
		prefixes.add(m.Role, text, countTokens(len(text))+3)
		last = text
	}
	c.cachedTokens, _ = s.cachedTokens(&prefixes)
	c.seed = hashText(last)
	if !s.answerLength(w, &c, req.MaxTokens, req.MaxCompletionTokens) {
		return
	}
	s.reply(w, r, c, req.Stream, req.StreamOptions.includeUsage())
}

func (s *Server) textCompletion(w http.ResponseWriter, r *http.Request) {
	var req textRequest
	if !readJSON(w, r, &req) || !checkModel(w, req.Model, kindText) {
		return
	}
	items, err := promptItems(req.Prompt)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_type", "prompt",
			"prompt "+err.Error()+".")
		return
	}
	c := completion{model: req.Model, promptTokens: itemTokens(items)}
	c.seed = hashText([]byte(items[len(items)-1]))
	if !s.answerLength(w, &c, req.MaxTokens, nil) {
		return
	}
	s.reply(w, r, c, req.Stream, req.StreamOptions.includeUsage())
}

// answerLength sets c.tokens and c.finish from the request's limits. The
// answer "stops" by itself at DefaultMaxTokens; a limit below that cuts it
// short ("length"). With two limits the smaller wins, so the answer fits
// whichever one a proxy reserved for.
func (s *Server) answerLength(w http.ResponseWriter, c *completion, limits ...*int) bool {
	c.tokens, c.finish = s.DefaultMaxTokens, "stop"
	if c.tokens <= 0 {
		c.tokens = 16
	}
	names := [...]string{"max_tokens", "max_completion_tokens"}
	for i, l := range limits {
		if l == nil {
			continue
		}
		if *l < 1 || *l > maxAnswerTokens {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_value", names[i],
				names[i]+" must be between 1 and "+strconv.Itoa(maxAnswerTokens)+", got "+strconv.Itoa(*l)+".")
			return false
		}
		if *l < c.tokens {
			c.tokens, c.finish = *l, "length"
		}
	}
	c.reasoning = reasoningTokens(c.model, c.tokens)
	return true
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request, c completion, stream, includeUsage bool) {
	if stream {
		s.stream(w, r, c, includeUsage)
		return
	}
	buf := getBuf()
	defer putBuf(buf)
	writeJSON(w, http.StatusOK, c.appendBody(buf.AvailableBuffer()))
}

// appendHead appends the fields every reply and chunk starts with, up to
// and including `"choices":[`.
func (c *completion) appendHead(b []byte, object string) []byte {
	b = append(b, `{"id":"`...)
	if c.chat {
		b = append(b, "chatcmpl-demo-"...)
	} else {
		b = append(b, "cmpl-demo-"...)
	}
	b = appendHex(b, c.seed)
	b = append(b, `","object":"`...)
	b = append(b, object...)
	b = append(b, `","created":`...)
	b = strconv.AppendInt(b, created, 10)
	b = append(b, `,"model":"`...) // model ids are validated against the table: no escaping needed
	b = append(b, c.model...)
	return append(b, `","choices":[`...)
}

func (c *completion) appendUsage(b []byte) []byte {
	b = append(b, `"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(c.promptTokens), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(c.tokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(c.promptTokens+c.tokens), 10)
	// Only when there is something to say, as the fixtures predate them.
	if c.cachedTokens > 0 {
		b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
		b = append(strconv.AppendInt(b, int64(c.cachedTokens), 10), '}')
	}
	if reasoningModels[c.model] {
		b = append(b, `,"completion_tokens_details":{"reasoning_tokens":`...)
		b = append(strconv.AppendInt(b, int64(c.reasoning), 10), '}')
	}
	return append(b, '}')
}

// appendBody appends the whole non-streamed reply. Words are ASCII letters,
// so the content is written into the JSON string as is.
func (c *completion) appendBody(b []byte) []byte {
	a := newAnswer(c.seed, c.words())
	if c.chat {
		b = c.appendHead(b, "chat.completion")
		b = append(b, `{"index":0,"message":{"role":"assistant","content":"`...)
		for !a.done() {
			b = a.appendNext(b)
		}
		b = append(b, `"},"logprobs":null,"finish_reason":"`...)
	} else {
		b = c.appendHead(b, "text_completion")
		b = append(b, `{"text":"`...)
		for !a.done() {
			b = a.appendNext(b)
		}
		b = append(b, `","index":0,"logprobs":null,"finish_reason":"`...)
	}
	b = append(b, c.finish...)
	b = append(b, `"}],`...)
	return append(c.appendUsage(b), '}')
}

// stream writes the reply as server-sent events the way OpenAI does: for
// chat a role chunk first, then one chunk per word, a chunk carrying
// finish_reason, with include_usage a last chunk with no choices and the
// usage (every earlier chunk then says "usage":null), and "data: [DONE]".
func (s *Server) stream(w http.ResponseWriter, r *http.Request, c completion, includeUsage bool) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	ctx := r.Context()
	e := eventWriter{w: w, delay: s.ChunkDelay}
	e.flusher, _ = w.(http.Flusher)
	defer e.stop()

	object := "text_completion"
	if c.chat {
		object = "chat.completion.chunk"
	}
	start := func(b []byte) []byte { return c.appendHead(append(b[:0], "data: "...), object) }
	end := func(b []byte) []byte {
		b = append(b, ']')
		if includeUsage {
			b = append(b, `,"usage":null`...)
		}
		return append(b, "}\n\n"...)
	}
	buf := getBuf()
	defer putBuf(buf)
	b := buf.AvailableBuffer()

	if c.chat {
		b = append(start(b), `{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}`...)
		if !e.send(ctx, end(b)) {
			return
		}
	}
	a := newAnswer(c.seed, c.words())
	for !a.done() {
		if c.chat {
			b = a.appendNext(append(start(b), `{"index":0,"delta":{"content":"`...))
			b = append(b, `"},"logprobs":null,"finish_reason":null}`...)
		} else {
			b = a.appendNext(append(start(b), `{"text":"`...))
			b = append(b, `","index":0,"logprobs":null,"finish_reason":null}`...)
		}
		if !e.send(ctx, end(b)) {
			return
		}
	}
	if c.chat {
		b = append(start(b), `{"index":0,"delta":{},"logprobs":null,"finish_reason":"`...)
	} else {
		b = append(start(b), `{"text":"","index":0,"logprobs":null,"finish_reason":"`...)
	}
	if !e.send(ctx, end(append(append(b, c.finish...), `"}`...))) {
		return
	}
	if includeUsage {
		b = c.appendUsage(append(start(b), "],"...))
		if !e.send(ctx, append(b, "}\n\n"...)) {
			return
		}
	}
	e.send(ctx, append(b[:0], "data: [DONE]\n\n"...))
}

// eventWriter sends SSE events, flushing each one and sleeping the chunk
// delay before all but the first. send reports false once the client has
// gone (context cancelled or write failed) so the stream stops promptly.
type eventWriter struct {
	w       http.ResponseWriter
	flusher http.Flusher
	delay   time.Duration
	timer   *time.Timer
	sent    bool
}

func (e *eventWriter) send(ctx context.Context, event []byte) bool {
	if e.sent && e.delay > 0 {
		if e.timer == nil {
			e.timer = time.NewTimer(e.delay)
		} else {
			e.timer.Reset(e.delay)
		}
		select {
		case <-ctx.Done():
			return false
		case <-e.timer.C:
		}
	}
	if ctx.Err() != nil {
		return false
	}
	e.sent = true
	if _, err := e.w.Write(event); err != nil {
		return false
	}
	if e.flusher != nil {
		e.flusher.Flush()
	}
	return true
}

func (e *eventWriter) stop() {
	if e.timer != nil {
		e.timer.Stop()
	}
}
