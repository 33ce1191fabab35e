package main

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"go.yaml.in/yaml/v3"
)

//go:embed defaults.yaml
var defaultsYAML []byte

// Config is paymeter's whole configuration: embedded defaults, then the
// config file, then PAYMETER_* environment variables, then flags.
type Config struct {
	Listen   string         `yaml:"listen"`
	Database string         `yaml:"database"`
	Upstream UpstreamConfig `yaml:"upstream"`
	Limits   LimitsConfig   `yaml:"limits"`
	Ledger   LedgerConfig   `yaml:"ledger"`
	Wallet   WalletConfig   `yaml:"wallet"`
	SIWE     SIWEConfig     `yaml:"siwe"`
	Log      LogConfig      `yaml:"log"`
	// Models is the price table, by model id.
	Models map[string]ModelConfig `yaml:"models"`
}

// UpstreamConfig says where inference is bought.
type UpstreamConfig struct {
	// URL is the OpenAI-compatible API root, e.g. https://api.openai.com/v1.
	URL string `yaml:"url"`
	// APIKey is sent to the upstream; clients never see it.
	APIKey      string   `yaml:"api_key"`
	Timeout     Duration `yaml:"timeout"`
	IdleTimeout Duration `yaml:"idle_timeout"`
}

// LimitsConfig bounds what clients may send.
type LimitsConfig struct {
	MaxBodyBytes int `yaml:"max_body_bytes"`
}

// LedgerConfig tunes hold expiry.
type LedgerConfig struct {
	HoldTTL        Duration `yaml:"hold_ttl"`
	ExpiryInterval Duration `yaml:"expiry_interval"`
}

// WalletConfig governs requests signed with wallet headers.
type WalletConfig struct {
	// Realm starts the signed message: "Paymeter", or "Eliza Cloud" for
	// elizaOS clients.
	Realm string `yaml:"realm"`
	// Window is how far a signed timestamp may be from the server's clock,
	// either way.
	Window          Duration `yaml:"window"`
	RequireBodyHash bool     `yaml:"require_body_hash"`
	// InitialFreeCredits are granted once to a wallet whose account is
	// created by a signed request.
	InitialFreeCredits meter.Amount `yaml:"initial_free_credits"`
}

// SIWEConfig governs Sign-In with Ethereum.
type SIWEConfig struct {
	Domain             string  `yaml:"domain"`
	URI                string  `yaml:"uri"`
	ChainIDs           []int64 `yaml:"chain_ids"`
	Statement          string  `yaml:"statement"`
	RateLimitPerMinute int     `yaml:"rate_limit_per_minute"`
}

// LogConfig selects the log level and format.
type LogConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// ModelConfig is one model's price, in credits per million tokens.
type ModelConfig struct {
	Input           meter.Amount `yaml:"input"`
	Output          meter.Amount `yaml:"output"`
	PerRequest      meter.Amount `yaml:"per_request"`
	MaxOutputTokens int64        `yaml:"max_output_tokens"`
}

// Duration is a time.Duration written as "30s" or "15m".
type Duration time.Duration

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30s or 5m", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText formats d as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// LoadConfig reads the embedded defaults, the file at path (if any) and
// the environment, and validates the result.
func LoadConfig(path string, environ []string) (*Config, error) {
	var c Config
	if err := decodeYAML(defaultsYAML, &c); err != nil {
		return nil, fmt.Errorf("embedded defaults: %w", err)
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		// A file with its own price table replaces the default one whole:
		// an operator's list of models is the list they sell.
		var probe struct {
			Models map[string]any `yaml:"models"`
		}
		if err := yaml.Unmarshal(b, &probe); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if probe.Models != nil {
			c.Models = nil
		}
		if err := decodeYAML(b, &c); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := applyEnv(&c, environ); err != nil {
		return nil, err
	}
	return &c, nil
}

func decodeYAML(b []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true) // a misspelt field is an error, not a silent default
	// An empty file is a valid config: yaml reports it as io.EOF.
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// applyEnv overrides scalar fields from PAYMETER_* variables named after
// their YAML path: upstream.api_key ← PAYMETER_UPSTREAM_API_KEY. The price
// table comes from the file only.
func applyEnv(c *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "PAYMETER_") {
			env[k] = v
		}
	}
	var errs []error
	walkFields(reflect.ValueOf(c).Elem(), "PAYMETER", "", func(name, path string, f reflect.Value) {
		v, ok := env[name]
		if !ok {
			return
		}
		delete(env, name)
		if err := setText(f, v); err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", path, name, err))
		}
	})
	for name := range env {
		errs = append(errs, fmt.Errorf("%s: no such setting", name))
	}
	sortErrors(errs)
	return errors.Join(errs...)
}

// walkFields calls fn for every scalar field of a struct, with its
// environment variable name and its YAML path.
func walkFields(v reflect.Value, envPrefix, pathPrefix string, fn func(env, path string, f reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		env := envPrefix + "_" + strings.ToUpper(tag)
		path := strings.TrimPrefix(pathPrefix+"."+tag, ".")
		f := v.Field(i)
		switch {
		case f.Kind() == reflect.Struct:
			walkFields(f, env, path, fn)
		case f.Kind() == reflect.Map:
		default:
			fn(env, path, f)
		}
	}
}

func setText(f reflect.Value, s string) error {
	if u, ok := f.Addr().Interface().(interface{ UnmarshalText([]byte) error }); ok {
		return u.UnmarshalText([]byte(s))
	}
	// Everything else goes through YAML's scalar rules, so that the
	// environment accepts exactly what the file accepts.
	return yaml.Unmarshal([]byte(s), f.Addr().Interface())
}

func sortErrors(errs []error) {
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
}

// Validate checks every field and reports every problem, each named by
// its YAML path.
func (c *Config) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	if c.Listen == "" {
		bad("listen", "required, e.g. \":8080\"")
	}
	if c.Database == "" {
		bad("database", "required: the SQLite file")
	}
	if c.Upstream.URL == "" {
		bad("upstream.url", "required: the OpenAI-compatible API root, e.g. https://api.openai.com/v1 (or use `paymeter demo`)")
	} else if u, err := url.Parse(c.Upstream.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("upstream.url", "%q is not an http(s) URL", c.Upstream.URL)
	}
	if c.Upstream.Timeout <= 0 {
		bad("upstream.timeout", "must be positive")
	}
	if c.Upstream.IdleTimeout <= 0 {
		bad("upstream.idle_timeout", "must be positive")
	}
	if n := c.Limits.MaxBodyBytes; n < 1<<10 || n > 64<<20 {
		bad("limits.max_body_bytes", "%d is outside 1024 … 67108864", n)
	}
	if c.Ledger.HoldTTL <= c.Upstream.Timeout {
		bad("ledger.hold_ttl", "must exceed upstream.timeout, or holds of slow requests expire while they run")
	}
	if c.Ledger.ExpiryInterval <= 0 {
		bad("ledger.expiry_interval", "must be positive")
	}
	if strings.TrimSpace(c.Wallet.Realm) == "" || strings.ContainsAny(c.Wallet.Realm, "\r\n") {
		bad("wallet.realm", "required, on one line, e.g. \"Paymeter\" or \"Eliza Cloud\"")
	}
	if w := time.Duration(c.Wallet.Window); w < 10*time.Second || w > time.Hour {
		bad("wallet.window", "%s is outside 10s … 1h", w)
	}
	if c.Wallet.InitialFreeCredits < 0 {
		bad("wallet.initial_free_credits", "must not be negative")
	}
	if c.SIWE.URI != "" {
		if u, err := url.Parse(c.SIWE.URI); err != nil || u.Scheme == "" || u.Host == "" {
			bad("siwe.uri", "%q is not an absolute URI", c.SIWE.URI)
		}
	}
	if len(c.SIWE.ChainIDs) == 0 {
		bad("siwe.chain_ids", "at least one chain id is required")
	}
	for _, id := range c.SIWE.ChainIDs {
		if id <= 0 {
			bad("siwe.chain_ids", "%d is not a chain id", id)
		}
	}
	if strings.ContainsAny(c.SIWE.Statement, "\r\n") {
		bad("siwe.statement", "must be one line")
	}
	if n := c.SIWE.RateLimitPerMinute; n < 1 || n > 100_000 {
		bad("siwe.rate_limit_per_minute", "%d is outside 1 … 100000", n)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		bad("log.format", "%q is not one of json, text", c.Log.Format)
	}
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
		if m.MaxOutputTokens < 0 {
			bad(path+".max_output_tokens", "must not be negative")
		}
		if m.Output > 0 && m.MaxOutputTokens == 0 {
			bad(path+".max_output_tokens", "required when output tokens are priced: it bounds the hold of a request without max_tokens")
		}
	}
	sortErrors(errs)
	return errors.Join(errs...)
}

// Prices converts the price table for the proxy.
func (c *Config) Prices() map[string]meter.Price {
	out := make(map[string]meter.Price, len(c.Models))
	for id, m := range c.Models {
		out[id] = meter.Price{Input: m.Input, Output: m.Output, PerRequest: m.PerRequest, MaxOutputTokens: m.MaxOutputTokens}
	}
	return out
}
