package upstream

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/valyala/fasthttp"
)

type headerMap map[string]string

func (h headerMap) Get(name string) string { return h[name] }

// An Anthropic upstream gets the operator's key as x-api-key, never as a
// bearer token, and the API version it requires: the client's, or the
// stable one. The client's own credentials never reach it.
func TestClient_AnthropicHeaders(t *testing.T) {
	seen := make(chan http.Header, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL+"/v1", "sk-ant-operator")
	if err != nil {
		t.Fatal(err)
	}
	c.Dialect = DialectAnthropic
	for _, tc := range []struct {
		client      headerMap
		wantVersion string
	}{
		{headerMap{"Authorization": "Bearer pm_live_client", "X-API-Key": "pm_live_client"}, defaultAnthropicVersion},
		{headerMap{"anthropic-version": "2024-10-22", "anthropic-beta": "prompt-caching-2024-07-31"}, "2024-10-22"},
	} {
		req := &Request{Method: "POST", Path: "/v1/messages", Header: tc.client, Body: []byte(`{}`)}
		var resp fasthttp.Response
		if err := c.Do(req, &resp); err != nil {
			t.Fatal(err)
		}
		sresp, err := c.Stream(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		sresp.Body.Close()
		for _, h := range []http.Header{<-seen, <-seen} {
			if h.Get("X-Api-Key") != "sk-ant-operator" || h.Get("Authorization") != "" {
				t.Fatalf("upstream got x-api-key %q, authorization %q: want the operator's key, no bearer", h.Get("X-Api-Key"), h.Get("Authorization"))
			}
			if h.Get("Anthropic-Version") != tc.wantVersion {
				t.Fatalf("anthropic-version %q, want %q", h.Get("Anthropic-Version"), tc.wantVersion)
			}
			if want := tc.client["anthropic-beta"]; h.Get("Anthropic-Beta") != want {
				t.Fatalf("anthropic-beta %q, want %q passed through", h.Get("Anthropic-Beta"), want)
			}
		}
	}
}

func TestDialect_Speaks(t *testing.T) {
	for api := APIChat; api <= APIImages; api++ {
		if got, want := DialectAnthropic.Speaks(api), api == APIMessages; got != want {
			t.Errorf("anthropic speaks %s = %v", api, got)
		}
		if got, want := DialectOpenAI.Speaks(api), api != APIMessages; got != want {
			t.Errorf("openai speaks %s = %v", api, got)
		}
	}
}
