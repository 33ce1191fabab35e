package demo

import (
	"bytes"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/upstream from the demo server")

// TestUpstreamFixtures keeps the shared upstream fixtures byte-identical to
// what the demo serves; run with -update after changing a reply format.
func TestUpstreamFixtures(t *testing.T) {
	s := &Server{}
	capture := func(method, path, body string) []byte {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(method, path, strings.NewReader(body)))
		if w.Code != http.StatusOK {
			t.Fatalf("%s %s: status=%d, want 200: %s", method, path, w.Code, w.Body)
		}
		return w.Body.Bytes()
	}
	serverError := httptest.NewRecorder()
	writeError(serverError, http.StatusInternalServerError, "server_error", "", "",
		"The server had an error while processing your request. Sorry about that!")

	fixtures := []struct {
		name string
		body []byte
	}{
		{"chat.json", capture("POST", "/v1/chat/completions", helloChat+"}")},
		{"chat_stream.sse", capture("POST", "/v1/chat/completions",
			helloChat+`,"max_tokens":8,"stream":true,"stream_options":{"include_usage":true}}`)},
		{"chat_stream_no_usage.sse", capture("POST", "/v1/chat/completions",
			helloChat+`,"max_tokens":8,"stream":true}`)},
		{"completions.json", capture("POST", "/v1/completions",
			`{"model":"demo-small","prompt":"Say hello.","max_tokens":8}`)},
		{"embeddings.json", capture("POST", "/v1/embeddings",
			`{"model":"demo-embed","input":["Say hello.","Say goodbye."]}`)},
		{"models.json", capture("GET", "/v1/models", "")},
		{"error_500.json", serverError.Body.Bytes()},
	}
	dir := filepath.Join("..", "..", "testdata", "upstream")
	for _, f := range fixtures {
		path := filepath.Join(dir, f.name)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, f.body, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/demo -run TestUpstreamFixtures -update)", err)
		}
		if !bytes.Equal(got, f.body) {
			t.Errorf("%s differs from what the demo serves, want:\n%s", path, f.body)
		}
	}
}
