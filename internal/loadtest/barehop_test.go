package loadtest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// startHop serves a bare hop to upstream on a fresh 127.0.0.1 port.
func startHop(t *testing.T, upstream string) string {
	t.Helper()
	app, err := NewBareHop(upstream)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln) //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { app.Shutdown() })
	return "http://" + ln.Addr().String()
}

func TestNewBareHop(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Upstream", "yes")
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Authorization")+" "+string(body))
	}))
	defer upstream.Close()
	hop := startHop(t, upstream.URL)

	req, err := http.NewRequest("POST", hop+"/v1/chat/completions?x=1", strings.NewReader(`{"model":"m"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if got, want := resp.StatusCode, http.StatusTeapot; got != want {
		t.Fatalf("status=%d, want %d", got, want)
	}
	if got, want := string(body), `POST /v1/chat/completions?x=1 Bearer k {"model":"m"}`; got != want {
		t.Fatalf("body=%q, want %q", got, want)
	}
	if got, want := resp.Header.Get("X-Upstream"), "yes"; got != want {
		t.Fatalf("X-Upstream=%q, want %q", got, want)
	}
}

func TestNewBareHopUpstreamDown(t *testing.T) {
	hop := startHop(t, closedPortURL(t))
	resp, err := http.Get(hop + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.StatusCode, fiber.StatusBadGateway; got != want {
		t.Fatalf("status=%d, want %d", got, want)
	}
}

func TestNewBareHopRefusesNonLoopback(t *testing.T) {
	if _, err := NewBareHop("http://192.0.2.1:8080"); !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("err=%v, want ErrNotLoopback", err)
	}
}

// TestRunThroughBareHop drives the driver through the hop, as the benchmark
// does, with the fasthttp upstream the driver tests use.
func TestRunThroughBareHop(t *testing.T) {
	hop := startHop(t, startServer(t, okHandler))
	res, err := Run(context.Background(), Target{URL: hop + "/v1/chat/completions", Body: []byte(`{}`)},
		Options{Connections: 4, Duration: 200 * time.Millisecond, Warmup: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Requests <= 0 || res.Errors != 0 {
		t.Fatalf("requests=%d errors=%d statuses=%v, want >0 and 0", res.Requests, res.Errors, res.Statuses)
	}
	checkOrdered(t, res)
}
