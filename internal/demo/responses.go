package demo

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// responsesRequest is what the demo reads of a Responses API request.
type responsesRequest struct {
	Model           string          `json:"model"`
	Input           json.RawMessage `json:"input"`
	Instructions    *string         `json:"instructions"`
	MaxOutputTokens *int            `json:"max_output_tokens"`
	Stream          bool            `json:"stream"`
}

// responsesItem is what the demo reads of an input item: a message's
// content, a tool call's arguments or a tool output's output.
type responsesItem struct {
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	Output    json.RawMessage `json:"output"`
	Arguments string          `json:"arguments"`
}

// response is everything needed to write one Responses API reply.
type response struct {
	model        string
	seed         uint64
	tokens       int // output tokens, one per word, reasoning included
	incomplete   bool
	limit        int // max_output_tokens as sent, 0 when absent
	promptTokens int
	// cachedTokens of promptTokens were read from the demo's prompt
	// cache, reasoning of tokens were spent reasoning (cache.go).
	cachedTokens, reasoning int
}

// responses serves POST /v1/responses: an answer of demo words, whole or
// as the Responses API's stream of typed events.
func (s *Server) responses(w http.ResponseWriter, r *http.Request) {
	var req responsesRequest
	if !readJSON(w, r, &req) || !checkModel(w, req.Model, kindText) {
		return
	}
	c := response{model: req.Model, promptTokens: 3}
	var last []byte
	if req.Instructions != nil {
		c.promptTokens += countTokens(len(*req.Instructions)) + 3
		last = []byte(*req.Instructions)
	}
	texts, roles, ok := responsesTexts(req.Input)
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_type", "input",
			"input must be a string or an array of input items.")
		return
	}
	for _, text := range texts {
		c.promptTokens += countTokens(len(text)) + 3
		last = text
	}
	c.seed = hashText(last)
	c.tokens = s.DefaultMaxTokens
	if c.tokens <= 0 {
		c.tokens = 16
	}
	if l := req.MaxOutputTokens; l != nil {
		if *l < 1 || *l > maxAnswerTokens {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_value", "max_output_tokens",
				"max_output_tokens must be between 1 and "+strconv.Itoa(maxAnswerTokens)+", got "+strconv.Itoa(*l)+".")
			return
		}
		c.limit = *l
		if *l < c.tokens {
			c.tokens, c.incomplete = *l, true
		}
	}
	s.responsesCache(&c, req.Instructions, texts, roles)
	if req.Stream {
		s.streamResponse(w, r, c)
		return
	}
	buf := getBuf()
	defer putBuf(buf)
	writeJSON(w, http.StatusOK, c.appendResponse(buf.AvailableBuffer(), true))
}

// responsesCache sets the cached and reasoning tokens of a reply from the
// demo's prompt cache and reasoning model (cache.go). The prompt's parts
// are the instructions, as a system message, then each input item: the
// same parts as the same conversation sent to chat completions.
func (s *Server) responsesCache(c *response, instructions *string, texts [][]byte, roles []string) {
	p := newPromptPrefixes(c.model)
	if instructions != nil {
		p.add("system", []byte(*instructions), countTokens(len(*instructions))+3)
	}
	for i, text := range texts {
		p.add(roles[i], text, countTokens(len(text))+3)
	}
	c.cachedTokens, _ = s.cachedTokens(&p)
	c.reasoning = reasoningTokens(c.model, c.tokens)
}

// responsesTexts returns the text and role of each input item: a string
// input is one user message; an item's text is its content (a string or
// parts), its output and its arguments.
func responsesTexts(raw json.RawMessage) (texts [][]byte, roles []string, ok bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil, true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return [][]byte{[]byte(s)}, []string{"user"}, true
	}
	var items []responsesItem
	if json.Unmarshal(raw, &items) != nil {
		return nil, nil, false
	}
	texts, roles = make([][]byte, 0, len(items)), make([]string, 0, len(items))
	for _, it := range items {
		content, err := contentText(it.Content)
		if err != nil {
			return nil, nil, false
		}
		output, err := contentText(it.Output)
		if err != nil {
			return nil, nil, false
		}
		texts = append(texts, append(append(append([]byte(nil), content...), output...), it.Arguments...))
		roles = append(roles, it.Role)
	}
	return texts, roles, true
}

// status is the response's status: "incomplete" when max_output_tokens
// cut it short.
func (c *response) status() string {
	if c.incomplete {
		return "incomplete"
	}
	return "completed"
}

// appendID appends an id: prefix, then the reply's seed in hex.
func (c *response) appendID(b []byte, prefix string) []byte {
	return appendHex(append(b, prefix...), c.seed)
}

// appendResponse appends the Response object: final with its output and
// usage, or as it is while in progress (no output, usage null).
func (c *response) appendResponse(b []byte, final bool) []byte {
	b = c.appendID(append(b, `{"id":"`...), "resp_demo_")
	b = append(b, `","object":"response","created_at":`...)
	b = strconv.AppendInt(b, created, 10)
	b = append(b, `,"status":"`...)
	switch {
	case !final:
		b = append(b, "in_progress"...)
	default:
		b = append(b, c.status()...)
	}
	b = append(b, `","background":false,"error":null,"incomplete_details":`...)
	if final && c.incomplete {
		b = append(b, `{"reason":"max_output_tokens"}`...)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"instructions":null,"max_output_tokens":`...)
	if c.limit > 0 {
		b = strconv.AppendInt(b, int64(c.limit), 10)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"model":"`...)
	b = append(b, c.model...)
	b = append(b, `","output":[`...)
	if final {
		b = c.appendMessage(b, c.status())
	}
	b = append(b, `],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},`+
		`"service_tier":"default","store":false,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto",`+
		`"tools":[],"top_p":1.0,"truncation":"disabled","usage":`...)
	if final {
		b = c.appendUsage(b)
	} else {
		b = append(b, "null"...)
	}
	return append(b, `,"user":null,"metadata":{}}`...)
}

// appendMessage appends the output message item holding the whole answer.
func (c *response) appendMessage(b []byte, status string) []byte {
	b = c.appendID(append(b, `{"id":"`...), "msg_demo_")
	b = append(b, `","type":"message","status":"`...)
	b = append(b, status...)
	b = append(b, `","role":"assistant","content":[`...)
	if status != "in_progress" {
		b = c.appendText(append(b, `{"type":"output_text","annotations":[],"logprobs":[],"text":"`...))
		b = append(b, `"}`...)
	}
	return append(b, "]}"...)
}

// appendText appends the answer's words. They are ASCII letters, so they
// go into a JSON string as they are.
func (c *response) appendText(b []byte) []byte {
	a := newAnswer(c.seed, c.tokens-c.reasoning)
	for !a.done() {
		b = a.appendNext(b)
	}
	return b
}

func (c *response) appendUsage(b []byte) []byte {
	b = append(b, `{"input_tokens":`...)
	b = strconv.AppendInt(b, int64(c.promptTokens), 10)
	b = append(b, `,"input_tokens_details":{"cached_tokens":`...)
	b = strconv.AppendInt(b, int64(c.cachedTokens), 10)
	b = append(b, `},"output_tokens":`...)
	b = strconv.AppendInt(b, int64(c.tokens), 10)
	b = append(b, `,"output_tokens_details":{"reasoning_tokens":`...)
	b = strconv.AppendInt(b, int64(c.reasoning), 10)
	b = append(b, `},"total_tokens":`...)
	b = strconv.AppendInt(b, int64(c.promptTokens+c.tokens), 10)
	return append(b, '}')
}

// streamResponse writes the reply as the Responses API streams it: typed
// events, each with an "event:" line naming its type and a
// sequence_number — response.created, response.in_progress, the message
// item and its text part added, one response.output_text.delta per word,
// the text, part and item done, and response.completed (or
// response.incomplete) with the whole response and its usage. There is no
// "[DONE]".
func (s *Server) streamResponse(w http.ResponseWriter, r *http.Request, c response) {
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
	seq := 0
	start := func(typ string) []byte {
		b = append(append(append(b[:0], "event: "...), typ...), "\ndata: {\"type\":\""...)
		b = append(append(b, typ...), `","sequence_number":`...)
		b = strconv.AppendInt(b, int64(seq), 10)
		seq++
		return b
	}
	send := func(b []byte) bool { return e.send(ctx, append(b, "}\n\n"...)) }
	item := func(b []byte) []byte {
		b = c.appendID(append(b, `,"item_id":"`...), "msg_demo_")
		return append(b, `","output_index":0,"content_index":0`...)
	}
	if !send(c.appendResponse(append(start("response.created"), `,"response":`...), false)) ||
		!send(c.appendResponse(append(start("response.in_progress"), `,"response":`...), false)) ||
		!send(c.appendMessage(append(start("response.output_item.added"), `,"output_index":0,"item":`...), "in_progress")) ||
		!send(append(item(start("response.content_part.added")), `,"part":{"type":"output_text","annotations":[],"logprobs":[],"text":""}`...)) {
		return
	}
	a := newAnswer(c.seed, c.tokens-c.reasoning)
	for !a.done() {
		b = a.appendNext(append(item(start("response.output_text.delta")), `,"delta":"`...))
		if !send(append(b, `","logprobs":[]`...)) {
			return
		}
	}
	if !send(append(c.appendText(append(item(start("response.output_text.done")), `,"text":"`...)), `","logprobs":[]`...)) ||
		!send(append(c.appendText(append(item(start("response.content_part.done")), `,"part":{"type":"output_text","annotations":[],"logprobs":[],"text":"`...)), `"}`...)) ||
		!send(c.appendMessage(append(start("response.output_item.done"), `,"output_index":0,"item":`...), c.status())) {
		return
	}
	final := "response.completed"
	if c.incomplete {
		final = "response.incomplete"
	}
	send(c.appendResponse(append(start(final), `,"response":`...), true))
}
