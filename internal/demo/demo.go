package demo

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a deterministic OpenAI-compatible inference API. The zero value
// is ready to use and safe for concurrent requests.
type Server struct {
	// APIKey, when set, is required as "Authorization: Bearer <APIKey>"
	// or, as the Anthropic API takes it, "x-api-key: <APIKey>" (401 JSON
	// error otherwise). It lets tests prove the proxy injects the
	// upstream key and strips the client's.
	APIKey string
	// ChunkDelay is slept before every streamed event but the first
	// (0 = none). The sleep ends early when the client goes away.
	ChunkDelay time.Duration
	// DefaultMaxTokens is the answer length in tokens when a request names
	// no max_tokens (16 when zero or negative).
	DefaultMaxTokens int

	// cache holds the *promptCache of the prompts seen, made on first
	// use (cache.go): a value that vet lets a Server be copied with.
	cache atomic.Value
}

// created is the "created" timestamp of every reply and model,
// 2025-01-01T00:00:00Z. It is fixed so identical requests get identical
// bytes, which the fixtures and the determinism test depend on.
const created = 1735689600

// maxBody bounds request bodies; larger ones get 413.
const maxBody = 8 << 20

type modelKind int

const (
	kindText modelKind = iota // chat and text completions
	kindEmbed
	kindImage // image generations (images.go)
)

var models = [...]struct {
	id   string
	kind modelKind
}{
	{"demo-small", kindText},
	{"demo-large", kindText},
	{"demo-embed", kindEmbed},
	{"demo-reasoner", kindText}, // reports reasoning tokens (cache.go)
	{"demo-image", kindImage},
}

// Models lists the model ids the server answers for, in a fixed order.
// `paymeter demo` uses it to write its price table.
func Models() []string {
	ids := make([]string, len(models))
	for i, m := range models {
		ids[i] = m.id
	}
	return ids
}

// bufPool recycles request and response buffers: at load-benchmark rates
// they would otherwise be most of the garbage the demo makes.
var bufPool = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 1024)) }}

func getBuf() *bytes.Buffer { return bufPool.Get().(*bytes.Buffer) }

func putBuf(b *bytes.Buffer) {
	if b.Cap() > 64<<10 {
		return // let an outsized buffer go rather than pin it
	}
	b.Reset()
	bufPool.Put(b)
}

// ServeHTTP routes the OpenAI API subset the demo implements. Every error is
// an OpenAI-style JSON body. With APIKey set, every path needs the key,
// unknown ones included, so a probe learns nothing without it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.APIKey != "" && !s.authorize(w, r) {
		return
	}
	switch path := r.URL.Path; path {
	case "/v1/chat/completions":
		if allow(w, r, http.MethodPost) {
			s.chatCompletion(w, r)
		}
	case "/v1/completions":
		if allow(w, r, http.MethodPost) {
			s.textCompletion(w, r)
		}
	case "/v1/messages":
		if allow(w, r, http.MethodPost) {
			s.messages(w, r)
		}
	case "/v1/embeddings":
		if allow(w, r, http.MethodPost) {
			s.embeddings(w, r)
		}
	case "/v1/responses":
		if allow(w, r, http.MethodPost) {
			s.responses(w, r) // responses.go
		}
	case "/v1/images/generations":
		if allow(w, r, http.MethodPost) {
			s.imageGeneration(w, r)
		}
	case "/v1/models":
		if allow(w, r, http.MethodGet) {
			writeModels(w)
		}
	default:
		id, ok := strings.CutPrefix(path, "/v1/models/")
		if !ok || id == "" || strings.Contains(id, "/") {
			writeError(w, http.StatusNotFound, "invalid_request_error", "unknown_url", "",
				"Invalid URL ("+r.Method+" "+path+")")
			return
		}
		if allow(w, r, http.MethodGet) {
			writeModel(w, id)
		}
	}
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if k := r.Header.Get("X-Api-Key"); h == "" && k != "" {
		h = "Bearer " + k // the Anthropic API's header for the key
	}
	if h == "" {
		writeError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", "",
			"You didn't provide an API key. Send it as Authorization: Bearer YOUR_KEY.")
		return false
	}
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(s.APIKey)) != 1 {
		writeError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", "",
			"Incorrect API key provided.")
		return false
	}
	return true
}

func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "method_not_allowed", "",
		"Method "+r.Method+" not allowed on "+r.URL.Path+"; use "+method+".")
	return false
}

// readJSON decodes the request body into v, answering 400 or 413 itself
// when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	buf := getBuf()
	defer putBuf(buf)
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxBody)); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "request_too_large", "",
				"Request body is larger than "+strconv.Itoa(maxBody)+" bytes.")
			return false
		}
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_body", "",
			"Could not read the request body.")
		return false
	}
	if err := json.Unmarshal(buf.Bytes(), v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_json", "",
			"We could not parse the JSON body of your request: "+err.Error())
		return false
	}
	return true
}

// checkModel answers 400 for a missing model and 404 for one the demo does
// not serve, or serves only on another endpoint.
func checkModel(w http.ResponseWriter, id string, kind modelKind) bool {
	if id == "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "missing_required_parameter", "model",
			"You must provide a model parameter.")
		return false
	}
	for _, m := range models {
		if m.id != id {
			continue
		}
		if m.kind != kind {
			writeError(w, http.StatusNotFound, "invalid_request_error", "model_not_supported", "model",
				"The model `"+id+"` is not supported on this endpoint.")
			return false
		}
		return true
	}
	writeError(w, http.StatusNotFound, "invalid_request_error", "model_not_found", "model",
		"The model `"+id+"` does not exist or you do not have access to it.")
	return false
}

type apiError struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

// writeError writes an OpenAI-style error body. Empty code or param are
// sent as null, as OpenAI does.
func writeError(w http.ResponseWriter, status int, typ, code, param, msg string) {
	var e apiError
	e.Error.Message, e.Error.Type = msg, typ
	if code != "" {
		e.Error.Code = &code
	}
	if param != "" {
		e.Error.Param = &param
	}
	body, _ := json.Marshal(e) // cannot fail: strings and pointers to strings only
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // a failed write means the client left; nothing to tell it
}

func appendModel(b []byte, id string) []byte {
	b = append(b, `{"id":"`...)
	b = append(b, id...)
	b = append(b, `","object":"model","created":`...)
	b = strconv.AppendInt(b, created, 10)
	return append(b, `,"owned_by":"paymeter-demo"}`...)
}

func writeModels(w http.ResponseWriter) {
	b := append(make([]byte, 0, 256), `{"object":"list","data":[`...)
	for i, m := range models {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendModel(b, m.id)
	}
	writeJSON(w, http.StatusOK, append(b, "]}"...))
}

func writeModel(w http.ResponseWriter, id string) {
	for _, m := range models {
		if m.id == id {
			writeJSON(w, http.StatusOK, appendModel(nil, id))
			return
		}
	}
	writeError(w, http.StatusNotFound, "invalid_request_error", "model_not_found", "model",
		"The model `"+id+"` does not exist or you do not have access to it.")
}
