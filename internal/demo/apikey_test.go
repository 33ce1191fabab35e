package demo

import (
	"net/http"
	"testing"
)

// The key is also taken as Anthropic's x-api-key, which paymeter sends an
// anthropic upstream; Authorization wins when both are sent.
func TestAPIKeyHeader(t *testing.T) {
	url := start(t, &Server{APIKey: "upstream-secret"}) + "/v1/chat/completions"
	for _, tt := range []struct {
		name   string
		header []string
		want   int
	}{
		{"x-api-key", []string{"X-Api-Key", "upstream-secret"}, http.StatusOK},
		{"wrong x-api-key", []string{"X-Api-Key", "client-key"}, http.StatusUnauthorized},
		{"bearer wins", []string{"Authorization", "Bearer client-key", "X-Api-Key", "upstream-secret"}, http.StatusUnauthorized},
	} {
		if status, _, body := do(t, "POST", url, helloChat+"}", tt.header...); status != tt.want {
			t.Errorf("%s: status=%d, want %d: %s", tt.name, status, tt.want, body)
		}
	}
}
