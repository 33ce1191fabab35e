package main

import (
	"bytes"
	"crypto/ecdsa"
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

	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/upstream"
	"go.yaml.in/yaml/v3"
)

//go:embed defaults.yaml
var defaultsYAML []byte

// Config is paymeter's whole configuration: embedded defaults, then the
// config file, then PAYMETER_* environment variables, then flags.
type Config struct {
	Listen string `yaml:"listen"`
	// ShutdownTimeout is how long in-flight requests (streams included)
	// may run on after SIGTERM before the process exits anyway.
	ShutdownTimeout Duration       `yaml:"shutdown_timeout"`
	Database        string         `yaml:"database"`
	Upstream        UpstreamConfig `yaml:"upstream"`
	// Upstreams are further upstreams by name, for models that name one
	// (ModelConfig.Upstream); the others use Upstream.
	Upstreams map[string]NamedUpstream `yaml:"upstreams"`
	Limits    LimitsConfig             `yaml:"limits"`
	Ledger    LedgerConfig             `yaml:"ledger"`
	Wallet    WalletConfig             `yaml:"wallet"`
	SIWE      SIWEConfig               `yaml:"siwe"`
	Log       LogConfig                `yaml:"log"`
	X402      X402Config               `yaml:"x402"`
	Auth      AuthConfig               `yaml:"auth"`
	// RateLimits are requests per minute, by kind of caller.
	RateLimits RateLimitConfig `yaml:"rate_limits"`
	// Models is the price table, by model id.
	Models map[string]ModelConfig `yaml:"models"`

	// Server bounds connections and says whose X-Forwarded-For to trust.
	Server ServerConfig `yaml:"server"`
	// Metrics says where /metrics is served.
	Metrics MetricsConfig `yaml:"metrics"`
}

// UpstreamConfig says where inference is bought.
type UpstreamConfig struct {
	// URL is the OpenAI-compatible API root, e.g. https://api.openai.com/v1.
	URL string `yaml:"url"`
	// APIKey is sent to the upstream; clients never see it.
	APIKey      string   `yaml:"api_key"`
	Timeout     Duration `yaml:"timeout"`
	IdleTimeout Duration `yaml:"idle_timeout"`
	// API is the API family the upstream speaks: openai (the default) or
	// anthropic.
	API string `yaml:"api"`
}

// LimitsConfig bounds what clients may send.
type LimitsConfig struct {
	MaxBodyBytes int `yaml:"max_body_bytes"`

	// MaxRequestDuration bounds a proxied request, streams included; it
	// is below ledger.hold_ttl, so that requests end before their holds
	// expire (those that cannot be ended, such as a stream to a client
	// that reads nothing, have their holds renewed while they run).
	MaxRequestDuration Duration `yaml:"max_request_duration"`
	// MaxInFlight bounds the requests being forwarded upstream at once
	// (streams until they end); past it, 503 overloaded.
	MaxInFlight int `yaml:"max_in_flight"`
	// MaxInFlightPerOwner is the share of them one API key (with its
	// sessions), wallet, JWT user or x402 client address may hold.
	MaxInFlightPerOwner int `yaml:"max_in_flight_per_owner"`
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

	// FreeCreditsPerIPPerDay is how many new wallets one client address
	// (an IPv6 /64) is granted free credits per UTC day; 0: no limit.
	FreeCreditsPerIPPerDay int `yaml:"free_credits_per_ip_per_day"`
	// FreeCreditsDailyBudget is the most free credit granted to all new
	// wallets together per UTC day; 0: no limit.
	FreeCreditsDailyBudget meter.Amount `yaml:"free_credits_daily_budget"`
	// EIP1271ChainID is the one chain on which wallet-header, SIWE and
	// sign-in-with-x signatures of smart-contract wallets are checked; 0: the chain of the
	// only network with an rpc_url, if exactly one chain has one.
	EIP1271ChainID int64 `yaml:"eip1271_chain_id"`
}

// SIWEConfig governs Sign-In with Ethereum.
type SIWEConfig struct {
	Domain             string  `yaml:"domain"`
	URI                string  `yaml:"uri"`
	ChainIDs           []int64 `yaml:"chain_ids"`
	Statement          string  `yaml:"statement"`
	RateLimitPerMinute int     `yaml:"rate_limit_per_minute"`
}

// AuthConfig configures credentials beyond API keys and wallets.
type AuthConfig struct {
	JWT JWTConfig `yaml:"jwt"`
}

// JWTConfig lets an app's signed-in users through with the ES256 JWTs of
// their identity provider (Privy and the like). On when issuer is set.
type JWTConfig struct {
	Issuer   string `yaml:"issuer"`
	Audience string `yaml:"audience"`
	// PublicKey is the provider's P-256 public key, PEM (SPKI); or name a
	// file holding it in PublicKeyFile.
	PublicKey     string `yaml:"public_key"`
	PublicKeyFile string `yaml:"public_key_file"`
	// AppID is the app account that pays for its users.
	AppID  int64    `yaml:"app_id"`
	Scopes []string `yaml:"scopes"`
	// DailySpendCap caps each user's spending per UTC day; 0: no cap.
	DailySpendCap meter.Amount `yaml:"daily_spend_cap"`
	Leeway        Duration     `yaml:"leeway"`
}

// Enabled reports whether JWT users are configured.
func (j *JWTConfig) Enabled() bool { return j.Issuer != "" }

// RateLimitConfig is requests per minute: the default of each kind of
// principal (an API key's own rate limit overrides its kind's), and per
// client IP on routes without credentials. 0 turns a limit off.
type RateLimitConfig struct {
	APIKey  int `yaml:"api_key"`
	Session int `yaml:"session"`
	Wallet  int `yaml:"wallet"`
	JWTUser int `yaml:"jwt_user"`
	IP      int `yaml:"ip"`

	// FailedAuthPerIP bounds the refused guesses of credentials per client
	// IP per minute; past it, the IP's credentials are not even checked.
	FailedAuthPerIP int `yaml:"failed_auth_per_ip"`
	// WalletPerIP bounds wallet-signed requests per client IP per minute,
	// counted before their signatures are checked.
	WalletPerIP int `yaml:"wallet_per_ip"`
	// SharedTimeout bounds one call to the buckets every instance shares
	// (PostgreSQL); past it, an instance limits with its own for a second.
	// 0 is 250 ms.
	SharedTimeout Duration `yaml:"shared_timeout"`
}

// LogConfig selects the log level and format.
type LogConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
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
	if err := c.resolveUpstreamKeys(environ); err != nil {
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
		// The payer's key is `paymeter pay`'s, never a setting.
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "PAYMETER_") && k != payKeyEnv {
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
	if d := time.Duration(c.ShutdownTimeout); d < time.Second || d > time.Hour {
		bad("shutdown_timeout", "%s is outside 1s … 1h", d)
	}
	if c.Database == "" {
		bad("database", "required: a SQLite file or a postgres:// URL")
	} else if err := checkDatabase(c.Database); err != nil {
		errs = append(errs, err)
	}
	if c.Upstream.URL == "" {
		bad("upstream.url", "required: the OpenAI-compatible API root, e.g. https://api.openai.com/v1 (or use `paymeter demo`)")
	} else if u, err := url.Parse(c.Upstream.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("upstream.url", "%q is not an http(s) URL", c.Upstream.URL)
	}
	if _, ok := upstream.ParseDialect(c.Upstream.API); !ok {
		bad("upstream.api", "%q is not one of openai, anthropic", c.Upstream.API)
	}
	c.validateUpstreams(bad)
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
	if d := c.Limits.MaxRequestDuration; d <= 0 || d >= c.Ledger.HoldTTL {
		bad("limits.max_request_duration", "%s must be positive and below ledger.hold_ttl (%s)", time.Duration(d), time.Duration(c.Ledger.HoldTTL))
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
	c.validateFreeCredits(bad)
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
	c.validateX402(bad)
	c.validateUpto(bad)
	c.validateJWT(bad)
	c.validateServer(bad)
	for path, n := range map[string]int{"rate_limits.api_key": c.RateLimits.APIKey, "rate_limits.session": c.RateLimits.Session,
		"rate_limits.wallet": c.RateLimits.Wallet, "rate_limits.jwt_user": c.RateLimits.JWTUser, "rate_limits.ip": c.RateLimits.IP} {
		if n < 0 || n > 1_000_000 {
			bad(path, "%d is outside 0 (off) … 1000000 requests per minute", n)
		}
	}
	if d := time.Duration(c.RateLimits.SharedTimeout); d != 0 && (d < 10*time.Millisecond || d > 10*time.Second) {
		bad("rate_limits.shared_timeout", "%s is outside 10ms … 10s (0: 250ms)", d)
	}
	c.validateModels(bad)
	sortErrors(errs)
	return errors.Join(errs...)
}

func (c *Config) validateJWT(bad func(path, format string, args ...any)) {
	j := &c.Auth.JWT
	if !j.Enabled() {
		return
	}
	if j.Audience == "" {
		bad("auth.jwt.audience", "required: the app id the provider puts in aud")
	}
	if _, err := j.publicKey(); err != nil {
		bad("auth.jwt.public_key", "%v", err)
	}
	if j.AppID <= 0 {
		bad("auth.jwt.app_id", "required: the id of the app account that pays (paymeter apps list)")
	}
	if scopes, err := meter.ParseScopes(strings.Join(j.Scopes, ",")); err != nil {
		bad("auth.jwt.scopes", "%v", err)
	} else if never := scopes & meter.Scopes(meter.ScopeKeys|meter.ScopeAdmin); never != 0 {
		bad("auth.jwt.scopes", "a JWT user can never hold %s", never)
	}
	if j.DailySpendCap < 0 {
		bad("auth.jwt.daily_spend_cap", "must not be negative")
	}
	if l := time.Duration(j.Leeway); l < 0 || l > 5*time.Minute {
		bad("auth.jwt.leeway", "%s is outside 0s … 5m", l)
	}
}

// publicKey reads the configured ES256 key, inline or from its file.
func (j *JWTConfig) publicKey() (*ecdsa.PublicKey, error) {
	pemText := []byte(j.PublicKey)
	switch {
	case j.PublicKey != "" && j.PublicKeyFile != "":
		return nil, errors.New("set public_key or public_key_file, not both")
	case j.PublicKeyFile != "":
		b, err := os.ReadFile(j.PublicKeyFile)
		if err != nil {
			return nil, err
		}
		pemText = b
	case j.PublicKey == "":
		return nil, errors.New("required: the identity provider's ES256 public key, PEM")
	}
	return auth.ParseES256PublicKey(pemText)
}
