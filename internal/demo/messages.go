package demo

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// claudeModel is the demo model named for the Messages API, which `paymeter
// demo` serves from the demo declared as an Anthropic upstream; the text
// models answer there too.
const claudeModel = "demo-claude"

// messagesRequest is the part of an Anthropic Messages request the demo
// reads.
type messagesRequest struct {
	Model    string          `json:"model"`
	System   json.RawMessage `json:"system"`
	Messages []struct {
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	MaxTokens *int `json:"max_tokens"`
	Stream    bool `json:"stream"`
}

// message is everything needed to write one Messages reply.
type message struct {
	completion
	cacheRead, cacheWrite int
}

// messages serves POST /v1/messages the way the Anthropic Messages API
// does: max_tokens is required, the answer is one text block, usage counts
// input_tokens apart from the cache reads and writes (always 0 here), and
// a stream is message_start … content_block_delta … message_delta (with
// the cumulative output_tokens) … message_stop.
func (s *Server) messages(w http.ResponseWriter, r *http.Request) {
	var req messagesRequest
	if !readJSON(w, r, &req) || req.Model != claudeModel && !checkModel(w, req.Model, kindText) {
		return
	}
	if req.MaxTokens == nil {
		writeAnthropicError(w, http.StatusBadRequest, "max_tokens: Field required")
		return
	}
	if len(req.Messages) == 0 {
		writeAnthropicError(w, http.StatusBadRequest, "messages: at least one message is required")
		return
	}
	m := message{completion: completion{chat: true, model: req.Model}}
	if text, err := contentText(req.System); err == nil && len(text) > 0 {
		m.promptTokens += countTokens(len(text)) + 3
	}
	var last []byte
	for i, msg := range req.Messages {
		text, err := contentText(msg.Content)
		if err != nil {
			writeAnthropicError(w, http.StatusBadRequest, "messages."+strconv.Itoa(i)+".content: "+err.Error())
			return
		}
		m.promptTokens += countTokens(len(text)) + 3
		last = text
	}
	m.seed = hashText(last)
	if *req.MaxTokens < 1 || *req.MaxTokens > maxAnswerTokens {
		writeAnthropicError(w, http.StatusBadRequest, "max_tokens: must be between 1 and "+strconv.Itoa(maxAnswerTokens))
		return
	}
	if !s.answerLength(w, &m.completion, req.MaxTokens) {
		return
	}
	if req.Stream {
		s.streamMessage(w, r, m)
		return
	}
	buf := getBuf()
	defer putBuf(buf)
	writeJSON(w, http.StatusOK, m.appendBody(buf.AvailableBuffer()))
}

// stopReason is the Messages API's name for the finish reason.
func (m *message) stopReason() string {
	if m.finish == "length" {
		return "max_tokens"
	}
	return "end_turn"
}

// appendHead appends a Message's fields up to and including `"content":`.
func (m *message) appendHead(b []byte) []byte {
	b = append(b, `{"id":"msg_demo_`...)
	b = appendHex(b, m.seed)
	b = append(b, `","type":"message","role":"assistant","model":"`...)
	b = append(b, m.model...)
	return append(b, `","content":`...)
}

// appendUsage appends a Messages usage object with output tokens out.
func (m *message) appendUsage(b []byte, out int) []byte {
	b = append(b, `{"input_tokens":`...)
	b = strconv.AppendInt(b, int64(m.promptTokens), 10)
	b = append(b, `,"cache_creation_input_tokens":`...)
	b = strconv.AppendInt(b, int64(m.cacheWrite), 10)
	b = append(b, `,"cache_read_input_tokens":`...)
	b = strconv.AppendInt(b, int64(m.cacheRead), 10)
	b = append(b, `,"output_tokens":`...)
	b = strconv.AppendInt(b, int64(out), 10)
	return append(b, '}')
}

func (m *message) appendBody(b []byte) []byte {
	b = append(m.appendHead(b), `[{"type":"text","text":"`...)
	a := newAnswer(m.seed, m.tokens)
	for !a.done() {
		b = a.appendNext(b)
	}
	b = append(b, `"}],"stop_reason":"`...)
	b = append(b, m.stopReason()...)
	b = append(b, `","stop_sequence":null,"usage":`...)
	return append(m.appendUsage(b, m.tokens), '}')
}

// streamMessage writes the reply as the Messages API streams it: each event
// named on its "event:" line, its type repeated in its data, one word per
// text_delta, a ping after the block starts.
func (s *Server) streamMessage(w http.ResponseWriter, r *http.Request, m message) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	ctx := r.Context()
	e := eventWriter{w: w, delay: s.ChunkDelay}
	e.flusher, _ = w.(http.Flusher)
	defer e.stop()
	buf := getBuf()
	defer putBuf(buf)
	b := buf.AvailableBuffer()

	b = append(b[:0], "event: message_start\ndata: {\"type\":\"message_start\",\"message\":"...)
	b = append(m.appendHead(b), `[],"stop_reason":null,"stop_sequence":null,"usage":`...)
	if !e.send(ctx, append(m.appendUsage(b, 1), "}}\n\n"...)) {
		return
	}
	for _, ev := range [...]string{
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
		"event: ping\ndata: {\"type\": \"ping\"}\n\n",
	} {
		if !e.send(ctx, append(b[:0], ev...)) {
			return
		}
	}
	a := newAnswer(m.seed, m.tokens)
	for !a.done() {
		b = append(b[:0], "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\""...)
		if !e.send(ctx, append(a.appendNext(b), "\"}}\n\n"...)) {
			return
		}
	}
	if !e.send(ctx, append(b[:0], "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"...)) {
		return
	}
	b = append(b[:0], "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\""...)
	b = append(b, m.stopReason()...)
	b = append(b, `","stop_sequence":null},"usage":{"output_tokens":`...)
	b = strconv.AppendInt(b, int64(m.tokens), 10)
	if !e.send(ctx, append(b, "}}\n\n"...)) {
		return
	}
	e.send(ctx, append(b[:0], "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"...))
}

// writeAnthropicError writes an Anthropic-style error body.
func writeAnthropicError(w http.ResponseWriter, status int, msg string) {
	typ := "invalid_request_error"
	if status == http.StatusUnauthorized {
		typ = "authentication_error"
	}
	body, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]string{"type": typ, "message": msg}})
	writeJSON(w, status, body)
}
