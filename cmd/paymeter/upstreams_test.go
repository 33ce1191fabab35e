package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// A model on a named upstream is bought there, with that upstream's key;
// the others still go to `upstream:`.
func TestUpstreams_ModelGoesToItsUpstream(t *testing.T) {
	def, other := newFixtureUpstream(t), newFixtureUpstream(t)
	cfg := testConfig(t, def.URL())
	cfg.Upstreams = map[string]NamedUpstream{"other": {URL: other.URL(), APIKey: upstreamKey, API: "openai"}}
	cfg.Models["other-model"] = ModelConfig{Upstream: "other", Input: amt(t, "1"), Output: amt(t, "2"), MaxOutputTokens: 100}
	m := MustRunMain(t, cfg)
	_, key := mustApp(t, m, "10", meter.DefaultKeyScopes)

	for _, model := range []string{"other-model", "demo-small"} {
		resp := post(t, m, "/v1/chat/completions", key, `{"model":"`+model+`","messages":[{"role":"user","content":"hi"}],"max_tokens":5}`)
		if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %s", model, resp.StatusCode, body)
		}
	}
	if got := other.seen(); len(got) != 1 || !strings.Contains(string(got[0].Body), `"other-model"`) {
		t.Fatalf("named upstream saw %d requests, want the one for other-model", len(got))
	}
	if got := def.seen(); len(got) != 1 || !strings.Contains(string(got[0].Body), `"demo-small"`) {
		t.Fatalf("default upstream saw %d requests, want the one for demo-small", len(got))
	}
}

// A route is served only for models whose upstream speaks it: no request
// reaches the upstream, nothing is held or charged.
func TestUpstreams_RouteTheUpstreamDoesNotSpeakIsRefused(t *testing.T) {
	var calls atomic.Int64
	anthropic := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(anthropic.Close)
	up := newFixtureUpstream(t)
	cfg := testConfig(t, up.URL())
	cfg.Upstreams = map[string]NamedUpstream{"claude": {URL: anthropic.URL + "/v1", APIKey: "sk-ant", API: "anthropic"}}
	cfg.Models["claude-x"] = ModelConfig{Upstream: "claude", Input: amt(t, "3"), Output: amt(t, "15"),
		CacheWrite: ptr(amt(t, "3.75")), MaxOutputTokens: 1000}
	m := MustRunMain(t, cfg)
	acct, key := mustApp(t, m, "10", meter.DefaultKeyScopes)

	for _, path := range []string{"/v1/chat/completions", "/v1/embeddings"} {
		body := `{"model":"claude-x","messages":[{"role":"user","content":"hi"}],"max_tokens":5}`
		if path == "/v1/embeddings" {
			body = `{"model":"claude-x","input":"hi"}`
		}
		resp := post(t, m, path, key, body)
		e := mustError(t, resp, http.StatusBadRequest, meter.ECodeUnsupportedAPI)
		if e.Error.Details["api"] != "anthropic" || e.Error.Details["model"] != "claude-x" {
			t.Fatalf("%s: details %v, want the model and its upstream's api", path, e.Error.Details)
		}
	}
	// And the other way round: an OpenAI model on the Messages route, in
	// the error shape of that route's clients.
	resp := post(t, m, "/v1/messages", key, `{"model":"demo-small","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`)
	var e struct {
		Type  string `json:"type"`
		Error struct {
			Type, Code string
		} `json:"error"`
	}
	if body := readAll(t, resp); resp.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &e) != nil ||
		e.Type != "error" || e.Error.Code != meter.ECodeUnsupportedAPI || e.Error.Type != "invalid_request_error" {
		t.Fatalf("demo-small on /v1/messages: %d %s, want 400 unsupported_api in Anthropic's shape", resp.StatusCode, body)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("the anthropic upstream got %d requests, want none", n)
	}
	if a, err := m.Ledger.FindAccountByID(t.Context(), acct.ID); err != nil || a.Balance != amt(t, "10") || a.Held != 0 {
		t.Fatalf("account %+v, %v: want 10 credits, nothing held", a, err)
	}
}

func TestUpstreams_Config(t *testing.T) {
	base := func(t *testing.T) *Config {
		cfg := testConfig(t, "http://127.0.0.1:1/v1")
		cfg.Upstreams = map[string]NamedUpstream{"claude": {URL: "https://api.anthropic.com/v1", API: "anthropic", APIKeyEnv: "ANTHROPIC_KEY"}}
		return cfg
	}
	for _, tc := range []struct {
		name, want string
		edit       func(c *Config)
	}{
		{"unknown upstream", "models.m.upstream", func(c *Config) {
			c.Models["m"] = ModelConfig{Upstream: "nope", Input: 1}
		}},
		{"anthropic model without cache_write", "models.m.cache_write", func(c *Config) {
			c.Models["m"] = ModelConfig{Upstream: "claude", Input: 1}
		}},
		{"bad api", "upstreams.claude.api", func(c *Config) {
			u := c.Upstreams["claude"]
			u.API = "gemini"
			c.Upstreams["claude"] = u
		}},
		{"reserved name", "upstreams.default", func(c *Config) {
			c.Upstreams["default"] = NamedUpstream{URL: "http://x/v1", API: "openai"}
		}},
		{"not a URL", "upstreams.claude.url", func(c *Config) {
			u := c.Upstreams["claude"]
			u.URL = "ftp://x"
			c.Upstreams["claude"] = u
		}},
		{"key twice", "upstreams.claude.api_key_env", func(c *Config) {
			u := c.Upstreams["claude"]
			u.APIKey = "sk"
			c.Upstreams["claude"] = u
		}},
		{"default api", "upstream.api", func(c *Config) { c.Upstream.API = "x" }},
		{"negative window", "models.m.max_input_tokens", func(c *Config) {
			c.Models["m"] = ModelConfig{Input: 1, MaxInputTokens: -1}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base(t)
			tc.edit(cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want+":") {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tc.want)
			}
		})
	}
	if err := base(t).Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
}

// Unset cache prices are filled in so that an OpenAI model's hold stays at
// its input rate and an Anthropic model's one-hour writes never bill below
// Anthropic's multiplier.
func TestUpstreams_CachePriceDefaults(t *testing.T) {
	cfg := testConfig(t, "http://127.0.0.1:1/v1")
	cfg.Upstreams = map[string]NamedUpstream{"claude": {URL: "https://api.anthropic.com/v1", API: "anthropic"}}
	cfg.Models = map[string]ModelConfig{
		"gpt":    {Input: amt(t, "2"), Output: amt(t, "8"), MaxOutputTokens: 10},
		"gpt-c":  {Input: amt(t, "2"), CachedInput: ptr(amt(t, "0.5")), Output: amt(t, "8"), MaxOutputTokens: 10},
		"claude": {Upstream: "claude", Input: amt(t, "3"), CachedInput: ptr(amt(t, "0.3")), CacheWrite: ptr(amt(t, "3.75")), Output: amt(t, "15"), MaxOutputTokens: 10},
		"claude-1h": {Upstream: "claude", Input: amt(t, "3"), CacheWrite: ptr(amt(t, "3.75")), CacheWrite1h: ptr(amt(t, "7")),
			Output: amt(t, "15"), MaxOutputTokens: 10},
	}
	p := cfg.Prices()
	for _, tc := range []struct {
		model                         string
		cached, write, write1h, worst string
	}{
		{"gpt", "2", "2", "2", "2"},
		{"gpt-c", "0.5", "2", "2", "2"},
		{"claude", "0.3", "3.75", "6", "6"},
		{"claude-1h", "3", "3.75", "7", "7"},
	} {
		got := p[tc.model]
		if got.CachedInput != amt(t, tc.cached) || got.CacheWrite != amt(t, tc.write) || got.CacheWrite1h != amt(t, tc.write1h) {
			t.Errorf("%s: cached %s write %s write1h %s, want %s %s %s", tc.model, got.CachedInput, got.CacheWrite, got.CacheWrite1h,
				tc.cached, tc.write, tc.write1h)
		}
		// A million input tokens at the dearest rate.
		if worst := got.Cost(got.WorstInput(1_000_000)); worst != amt(t, tc.worst) {
			t.Errorf("%s: worst input cost %s, want %s", tc.model, worst, tc.worst)
		}
	}
}

func TestUpstreams_KeyFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/paymeter.yaml"
	writeFile(t, path, "upstreams:\n  claude: {url: \"https://api.anthropic.com/v1\", api: anthropic, api_key_env: MY_ANTHROPIC_KEY}\n")
	if _, err := LoadConfig(path, nil); err == nil || !strings.Contains(err.Error(), "MY_ANTHROPIC_KEY is not set") {
		t.Fatalf("LoadConfig without the variable = %v, want it named", err)
	}
	cfg, err := LoadConfig(path, []string{"MY_ANTHROPIC_KEY=sk-ant-secret"})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Upstreams["claude"].key; got != "sk-ant-secret" {
		t.Fatalf("key %q, want it from the environment", got)
	}
}

func ptr[T any](v T) *T { return &v }

func writeFile(tb testing.TB, path, text string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		tb.Fatal(err)
	}
}
