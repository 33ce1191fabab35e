package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Low: a panic in a route is answered 500 internal in the one error
// shape, with the request id, and logged with its stack; the process
// keeps serving. The real Server, over real HTTP.
func TestRecover_PanicIsInternalErrorAndServerLives(t *testing.T) {
	var logs syncBuffer
	s := &Server{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	s.Init()
	s.App().Get("/boom", func(c *fiber.Ctx) error { panic("the route broke") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.App().Shutdown() })
	base := "http://" + ln.Addr().String()

	for range 2 { // the second panic proves the first left the server up
		resp, err := http.Get(base + "/boom")
		if err != nil {
			t.Fatalf("after a panic: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e errorBody
		if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != 500 || e.Error.Code != "internal" ||
			e.Error.RequestID == "" || e.Error.RequestID != resp.Header.Get("X-Request-Id") {
			t.Fatalf("panic answered %d %s, want 500 internal with the request id", resp.StatusCode, body)
		}
		if strings.Contains(string(body), "the route broke") {
			t.Fatalf("the panic's value reached the client: %s", body)
		}
		if !strings.Contains(logs.String(), e.Error.RequestID) {
			t.Fatalf("request id %s not logged: %s", e.Error.RequestID, logs.String())
		}
	}
	if l := logs.String(); !strings.Contains(l, "panic serving request") || !strings.Contains(l, "the route broke") ||
		!strings.Contains(l, "guard_test.go") {
		t.Fatalf("log lacks the panic and its stack: %s", l)
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz after panics: %v %v", resp, err)
	}
	resp.Body.Close()
}
