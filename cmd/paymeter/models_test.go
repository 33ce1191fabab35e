package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// get sends a GET with the key as a bearer token.
func get(tb testing.TB, m *Main, path, key string) *http.Response {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, m.URL()+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	return resp
}

type modelEntry struct {
	ID              string `json:"id"`
	Object          string `json:"object"`
	Created         int64  `json:"created"`
	OwnedBy         string `json:"owned_by"`
	InputPrice      string `json:"input_price"`
	OutputPrice     string `json:"output_price"`
	RequestPrice    string `json:"request_price"`
	MaxOutputTokens int64  `json:"max_output_tokens"`
}

// M3: the model list and each model are answered from the price table and
// never forwarded, so an encoded ../ in a model id cannot reach another
// upstream endpoint with the operator's key.
func TestModels_FromPriceTable(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	_, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	_, chatOnly := mustApp(t, m, "1", meter.Scopes(meter.ScopeChat))

	resp := get(t, m, "/v1/models", key)
	raw := readAll(t, resp)
	var list struct {
		Object string       `json:"object"`
		Data   []modelEntry `json:"data"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &list) != nil || list.Object != "list" || len(list.Data) != 2 {
		t.Fatalf("status=%d body=%s, want the two priced models", resp.StatusCode, raw)
	}
	want := modelEntry{ID: "demo-embed", Object: "model", OwnedBy: "paymeter", InputPrice: "0.1", OutputPrice: "0", RequestPrice: "0"}
	if list.Data[0] != want || list.Data[1].ID != "demo-small" || list.Data[1].OutputPrice != "1.5" || list.Data[1].MaxOutputTokens != 4096 {
		t.Fatalf("data=%+v, want demo-embed then demo-small with their prices", list.Data)
	}

	resp = get(t, m, "/v1/models/demo-small", key)
	raw = readAll(t, resp)
	var one modelEntry
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &one) != nil || one.ID != "demo-small" || one.InputPrice != "0.5" {
		t.Fatalf("status=%d body=%s, want demo-small", resp.StatusCode, raw)
	}
	for _, path := range []string{
		"/v1/models/gpt-9",
		"/v1/models/..%2Fchat%2Fcompletions",
		"/v1/models/%2E%2E%2F%2E%2E%2Fadmin",
		"/v1/models/demo-small%2F..%2F..%2Fmodels",
	} {
		mustError(t, get(t, m, path, key), http.StatusNotFound, "model_not_found")
	}
	mustError(t, get(t, m, "/v1/models", chatOnly), http.StatusForbidden, meter.ECodeInsufficientScope)
	mustError(t, get(t, m, "/v1/models/demo-small", chatOnly), http.StatusForbidden, meter.ECodeInsufficientScope)
	if n := len(up.seen()); n != 0 {
		t.Fatalf("upstream saw %d requests, want 0", n)
	}
}

// hostileUpstream answers every request with a fixed status, body and
// headers, recording the URL it was asked for.
type hostileUpstream struct {
	*httptest.Server
	status int
	body   string
	header map[string]string

	mu   sync.Mutex
	urls []string
}

func newHostileUpstream(t *testing.T, status int, body string, header map[string]string) *hostileUpstream {
	u := &hostileUpstream{status: status, body: body, header: header}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		u.mu.Lock()
		u.urls = append(u.urls, r.URL.RequestURI())
		u.mu.Unlock()
		for k, v := range u.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(u.status)
		io.WriteString(w, u.body)
	}))
	t.Cleanup(u.Server.Close)
	return u
}

func (u *hostileUpstream) seen() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.urls...)
}

var upstreamIdentity = map[string]string{
	"Content-Type":                   "application/json",
	"Openai-Organization":            "org-operator-secret",
	"Openai-Project":                 "proj_operator",
	"X-Ratelimit-Remaining-Requests": "4999",
	"X-Paymeter-Cost":                "0",
	"Via":                            "upstream-gw",
}

// Low: the answer's headers come from an allowlist (no upstream identity,
// no upstream-made X-Paymeter-Cost); the upstream URL's own query is kept
// and the client's is not forwarded.
func TestUpstream_HeadersAndQuery(t *testing.T) {
	up := newHostileUpstream(t, http.StatusOK, string(fixture("chat.json")), upstreamIdentity)
	m := MustRunMain(t, testConfig(t, up.URL+"/v1?api-version=2024-10-21"))
	_, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	for _, stream := range []bool{false, true} {
		body := helloChat
		if stream {
			body = `{"model":"demo-small","stream":true,` + userHi + `}`
		}
		resp := post(t, m, "/v1/chat/completions?api-version=evil&x=1", key, body)
		raw := readAll(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status=%d body=%s", resp.StatusCode, raw)
		}
		for name := range upstreamIdentity {
			if name == "Content-Type" || name == "X-Paymeter-Cost" {
				continue
			}
			if v := resp.Header.Get(name); v != "" {
				t.Fatalf("stream=%v: upstream header %s=%q reached the client", stream, name, v)
			}
		}
		cost := resp.Header.Get("X-Paymeter-Cost") + resp.Trailer.Get("X-Paymeter-Cost")
		if cost != "0.0000335" {
			t.Fatalf("stream=%v: X-Paymeter-Cost=%q, want paymeter's own 0.0000335", stream, cost)
		}
	}
	for _, u := range up.seen() {
		if u != "/v1/chat/completions?api-version=2024-10-21" {
			t.Fatalf("upstream asked for %q, want the configured query only", u)
		}
	}
}

// Low: an upstream 401, 403 or 429 (which can name a masked form of the
// operator's key, or its quota) is answered with paymeter's own
// upstream_error, and nothing is charged.
func TestUpstream_AuthAndQuotaRefusalsReplaced(t *testing.T) {
	leak := `{"error":{"message":"Incorrect API key provided: sk-upstr***ture","type":"invalid_request_error"}}`
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests} {
		up := newHostileUpstream(t, status, leak, upstreamIdentity)
		m := MustRunMain(t, testConfig(t, up.URL+"/v1"))
		a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
		for _, body := range []string{helloChat, `{"model":"demo-small","stream":true,` + userHi + `}`} {
			resp := post(t, m, "/v1/chat/completions", key, body)
			e := mustError(t, resp, http.StatusBadGateway, meter.ECodeUpstreamError)
			if strings.Contains(e.Error.Message, "sk-") || resp.Header.Get("Openai-Organization") != "" {
				t.Fatalf("status %d: the upstream's refusal reached the client: %+v", status, e)
			}
		}
		if acct := waitSettled(t, m, a.ID); acct.Balance != amt(t, "1") {
			t.Fatalf("status %d: balance=%s, want 1", status, acct.Balance)
		}
		mustVerify(t, m)
	}
}

// H5: an answer from another model than the one priced is logged, for
// streams and whole answers alike.
func TestUpstream_OtherModelLogged(t *testing.T) {
	// The upstream answers every request as demo-small.
	up := newHostileUpstream(t, http.StatusOK, string(fixture("chat.json")), map[string]string{"Content-Type": "application/json"})
	cfg := testConfig(t, up.URL+"/v1")
	cfg.Models["demo-large"] = ModelConfig{Input: amt(t, "5"), Output: amt(t, "15"), MaxOutputTokens: 64}
	var logs syncBuffer
	m := NewMain(cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { http.DefaultClient.CloseIdleConnections(); m.Close() })
	_, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	for _, model := range []string{"demo-small", "demo-large"} {
		resp := post(t, m, "/v1/chat/completions", key, `{"model":"`+model+`",`+userHi+`}`)
		if raw := readAll(t, resp); resp.StatusCode != http.StatusOK {
			t.Fatalf("status=%d body=%s", resp.StatusCode, raw)
		}
	}
	var warned []map[string]any
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "upstream answered with another model than the one priced" {
			warned = append(warned, rec)
		}
	}
	if len(warned) != 1 || warned[0]["level"] != "WARN" || warned[0]["priced"] != "demo-large" || warned[0]["answered"] != "demo-small" {
		t.Fatalf("warnings=%v, want one for demo-large answered by demo-small", warned)
	}
}
