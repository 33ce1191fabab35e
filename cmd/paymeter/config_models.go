package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/upstream"
)

// NamedUpstream is one entry of `upstreams:`: an inference API that models
// naming it are bought from.
type NamedUpstream struct {
	// URL is the API root, e.g. https://api.anthropic.com/v1.
	URL string `yaml:"url"`
	// APIKey is sent to the upstream; APIKeyEnv instead names the
	// environment variable that holds it, to keep it out of the file.
	APIKey    string `yaml:"api_key"`
	APIKeyEnv string `yaml:"api_key_env"`
	// API is the API family it speaks: openai or anthropic. A route is
	// served only for models whose upstream speaks it (docs/design.md §2).
	API string `yaml:"api"`
	// Timeout and IdleTimeout default to upstream's.
	Timeout     Duration `yaml:"timeout"`
	IdleTimeout Duration `yaml:"idle_timeout"`

	key string // APIKey, or the value of APIKeyEnv (resolveUpstreamKeys)
}

// defaultUpstream is the name `upstream:` goes by, for models that name
// no upstream.
const defaultUpstream = "default"

// ModelConfig is one model's price, in credits per million tokens.
type ModelConfig struct {
	// Upstream names the entry of `upstreams:` the model is bought from;
	// empty: `upstream:`.
	Upstream string `yaml:"upstream"`

	Input  meter.Amount `yaml:"input"`
	Output meter.Amount `yaml:"output"`
	// CachedInput is the price of input read from the upstream's prompt
	// cache; unset, it is Input. CacheWrite is the price of input written
	// to it (Anthropic's 5-minute writes); unset, it is Input, and a model
	// on an anthropic upstream must set it. CacheWrite1h is the price of
	// one-hour writes; unset, it is CacheWrite, or on an anthropic
	// upstream the larger of CacheWrite and twice Input (Anthropic's
	// multiplier). The hold prices input at the dearest of these rates
	// (meter.Price.WorstInput), so an OpenAI model's defaults keep its
	// hold at the input rate.
	CachedInput  *meter.Amount `yaml:"cached_input"`
	CacheWrite   *meter.Amount `yaml:"cache_write"`
	CacheWrite1h *meter.Amount `yaml:"cache_write_1h"`

	PerRequest      meter.Amount `yaml:"per_request"`
	MaxOutputTokens int64        `yaml:"max_output_tokens"`
	// MaxInputTokens is the model's context window for input: it caps the
	// input held for a request, and bounds requests whose input the
	// upstream adds (a Responses previous_response_id or conversation),
	// which are refused without it (input_not_bounded).
	MaxInputTokens int64 `yaml:"max_input_tokens"`

	// The input tokens one non-text content part may cost at most: a
	// message part of a kind whose bound is 0 is refused (400
	// content_not_priced), since its price would be unknown.
	MaxImageTokens int64 `yaml:"max_image_tokens"`
	MaxAudioTokens int64 `yaml:"max_audio_tokens"`
	MaxFileTokens  int64 `yaml:"max_file_tokens"`

	// Images prices one generated image by "SIZE/QUALITY" or "SIZE" (or
	// "default"), for /v1/images/generations.
	Images map[string]meter.Amount `yaml:"images"`
}

// dialect returns the API family of the upstream named name.
func (c *Config) dialect(name string) (upstream.Dialect, bool) {
	api := c.Upstream.API
	if name != "" && name != defaultUpstream {
		u, ok := c.Upstreams[name]
		if !ok {
			return 0, false
		}
		api = u.API
	}
	return upstream.ParseDialect(api)
}

func (c *Config) validateUpstreams(bad func(path, format string, args ...any)) {
	for name, u := range c.Upstreams {
		path := "upstreams." + name
		if name == defaultUpstream || strings.TrimSpace(name) == "" {
			bad(path, "%q is reserved for `upstream:`; choose another name", name)
		}
		if p, err := url.Parse(u.URL); u.URL == "" || err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad(path+".url", "%q is not an http(s) URL", u.URL)
		}
		if _, ok := upstream.ParseDialect(u.API); !ok || u.API == "" {
			bad(path+".api", "%q is not one of openai, anthropic", u.API)
		}
		if u.APIKey != "" && u.APIKeyEnv != "" {
			bad(path+".api_key_env", "set api_key or api_key_env, not both")
		}
		if u.Timeout < 0 || u.IdleTimeout < 0 {
			bad(path, "timeouts must not be negative (0: upstream's)")
		}
	}
}

func (c *Config) validateModels(bad func(path, format string, args ...any)) {
	if len(c.Models) == 0 {
		bad("models", "at least one priced model is required")
	}
	for id, m := range c.Models {
		path := "models." + id
		if strings.TrimSpace(id) == "" {
			bad(path, "model id must not be blank")
		}
		if m.Input < 0 || m.Output < 0 || m.PerRequest < 0 {
			bad(path, "prices must not be negative")
		}
		for name, p := range map[string]*meter.Amount{"cached_input": m.CachedInput, "cache_write": m.CacheWrite, "cache_write_1h": m.CacheWrite1h} {
			if p != nil && *p < 0 {
				bad(path+"."+name, "must not be negative")
			}
		}
		d, ok := c.dialect(m.Upstream)
		switch {
		case !ok:
			bad(path+".upstream", "%q is not an upstream: name one of `upstreams:`, or none for `upstream:`", m.Upstream)
		case d == upstream.DialectAnthropic && m.CacheWrite == nil:
			bad(path+".cache_write", "required for a model on an anthropic upstream, which bills cache writes above input")
		}
		if m.MaxOutputTokens < 0 {
			bad(path+".max_output_tokens", "must not be negative")
		}
		if m.Output > 0 && m.MaxOutputTokens == 0 {
			bad(path+".max_output_tokens", "required when output tokens are priced: it bounds the hold of a request without max_tokens")
		}
		for name, n := range map[string]int64{"max_image_tokens": m.MaxImageTokens, "max_audio_tokens": m.MaxAudioTokens,
			"max_file_tokens": m.MaxFileTokens, "max_input_tokens": m.MaxInputTokens} {
			if n < 0 {
				bad(path+"."+name, "must not be negative (0: none)")
			}
		}
		for key, p := range m.Images {
			if p < 0 || strings.TrimSpace(key) == "" {
				bad(path+".images", "%q: a non-negative price per image under a SIZE, SIZE/QUALITY or default key", key)
			}
		}
	}
}

// Prices converts the price table for the proxy, filling in the cache
// prices a model leaves unset (ModelConfig).
func (c *Config) Prices() map[string]meter.Price {
	out := make(map[string]meter.Price, len(c.Models))
	for id, m := range c.Models {
		p := meter.Price{Input: m.Input, Output: m.Output, PerRequest: m.PerRequest, MaxOutputTokens: m.MaxOutputTokens,
			MaxInputTokens: m.MaxInputTokens, MaxImageTokens: m.MaxImageTokens, MaxAudioTokens: m.MaxAudioTokens,
			MaxFileTokens: m.MaxFileTokens, CachedInput: m.Input, CacheWrite: m.Input}
		if m.CachedInput != nil {
			p.CachedInput = *m.CachedInput
		}
		if m.CacheWrite != nil {
			p.CacheWrite = *m.CacheWrite
		}
		p.CacheWrite1h = p.CacheWrite
		if d, _ := c.dialect(m.Upstream); d == upstream.DialectAnthropic {
			p.CacheWrite1h = max(p.CacheWrite, m.Input.AddSat(m.Input))
		}
		if m.CacheWrite1h != nil {
			p.CacheWrite1h = *m.CacheWrite1h
		}
		if len(m.Images) > 0 {
			p.Images = make(map[string]meter.Amount, len(m.Images))
			for k, v := range m.Images {
				p.Images[k] = v
			}
		}
		out[id] = p
	}
	return out
}

// resolveUpstreamKeys reads the keys of named upstreams that name an
// environment variable.
func (c *Config) resolveUpstreamKeys(environ []string) error {
	var errs []error
	for name, u := range c.Upstreams {
		u.key = u.APIKey
		if u.APIKeyEnv != "" {
			u.key = ""
			for _, kv := range environ {
				if k, v, ok := strings.Cut(kv, "="); ok && k == u.APIKeyEnv {
					u.key = v
				}
			}
			if u.key == "" {
				errs = append(errs, fmt.Errorf("upstreams.%s.api_key_env: %s is not set", name, u.APIKeyEnv))
			}
		}
		c.Upstreams[name] = u
	}
	sortErrors(errs)
	return errors.Join(errs...)
}

// openUpstreams builds the clients of `upstream:` and `upstreams:`.
func (m *Main) openUpstreams() error {
	cfg := m.Config
	var err error
	if m.Upstream, err = newUpstream(cfg.Upstream.URL, cfg.Upstream.APIKey, cfg.Upstream.API,
		cfg.Upstream.Timeout, cfg.Upstream.IdleTimeout); err != nil {
		return err
	}
	m.upstreams = make(map[string]*upstream.Client, len(cfg.Upstreams))
	for name, u := range cfg.Upstreams {
		timeout, idle := u.Timeout, u.IdleTimeout
		if timeout == 0 {
			timeout = cfg.Upstream.Timeout
		}
		if idle == 0 {
			idle = cfg.Upstream.IdleTimeout
		}
		key := u.key
		if key == "" {
			key = u.APIKey // a Config built in code, not loaded
		}
		if m.upstreams[name], err = newUpstream(u.URL, key, u.API, timeout, idle); err != nil {
			return fmt.Errorf("upstreams.%s: %w", name, err)
		}
	}
	m.modelUpstreams = map[string]*upstream.Client{}
	for id, model := range cfg.Models {
		if up := m.upstreams[model.Upstream]; up != nil {
			m.modelUpstreams[id] = up
		}
	}
	return nil
}

func newUpstream(rawURL, key, api string, timeout, idle Duration) (*upstream.Client, error) {
	c, err := upstream.NewClient(rawURL, key)
	if err != nil {
		return nil, err
	}
	c.Dialect, _ = upstream.ParseDialect(api)
	c.Timeout, c.IdleTimeout = time.Duration(timeout), time.Duration(idle)
	return c, nil
}
