package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig_FileThenEnv(t *testing.T) {
	cfg, err := LoadConfig("../../testdata/config/valid.yaml", []string{
		"PAYMETER_UPSTREAM_API_KEY=sk-from-env",
		"PAYMETER_LIMITS_MAX_BODY_BYTES=4096",
		"PAYMETER_LEDGER_HOLD_TTL=20m",
		"HOME=/root", // not ours: ignored
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9090" || cfg.Upstream.URL != "https://api.openai.com/v1" || cfg.Log.Format != "text" {
		t.Fatalf("file values not applied: %+v", cfg)
	}
	if cfg.Upstream.APIKey != "sk-from-env" || cfg.Limits.MaxBodyBytes != 4096 || time.Duration(cfg.Ledger.HoldTTL) != 20*time.Minute {
		t.Fatalf("env overrides not applied: key set=%v body=%d ttl=%s", cfg.Upstream.APIKey == "sk-from-env",
			cfg.Limits.MaxBodyBytes, time.Duration(cfg.Ledger.HoldTTL))
	}
	if time.Duration(cfg.Upstream.IdleTimeout) != 45*time.Second {
		t.Fatalf("idle_timeout=%s, want 45s", time.Duration(cfg.Upstream.IdleTimeout))
	}
	// The file's price table replaces the defaults whole.
	if len(cfg.Models) != 2 {
		t.Fatalf("models=%d, want the file's 2", len(cfg.Models))
	}
	p := cfg.Prices()["gpt-4o-mini"]
	if p.Input.String() != "0.15" || p.Output.String() != "0.6" || p.PerRequest.String() != "0.0001" || p.MaxOutputTokens != 16384 {
		t.Fatalf("gpt-4o-mini price=%+v", p)
	}
}

func TestLoadConfig_Defaults(t *testing.T) {
	cfg, err := LoadConfig("", []string{"PAYMETER_UPSTREAM_URL=http://127.0.0.1:1/v1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults plus an upstream should be valid: %v", err)
	}
	if cfg.Listen != ":8080" || cfg.Database != "paymeter.db" || len(cfg.Models) < 5 {
		t.Fatalf("defaults: listen=%q database=%q models=%d", cfg.Listen, cfg.Database, len(cfg.Models))
	}
}

func TestLoadConfig_Refusals(t *testing.T) {
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.yaml")
	os.WriteFile(typo, []byte("upstream:\n  urll: http://x\n"), 0o600)
	badAmount := filepath.Join(dir, "amount.yaml")
	os.WriteFile(badAmount, []byte("models:\n  m:\n    input: \"0.0000000001\"\n"), 0o600)

	for _, tt := range []struct {
		name, path string
		env        []string
		want       string
	}{
		{"misspelt field", typo, nil, "urll"},
		{"amount finer than a nano-credit", badAmount, nil, "decimal places"},
		{"unknown variable", "", []string{"PAYMETER_UPSTREAM_URLL=x"}, "PAYMETER_UPSTREAM_URLL: no such setting"},
		{"bad duration", "", []string{"PAYMETER_UPSTREAM_TIMEOUT=soon"}, "upstream.timeout (PAYMETER_UPSTREAM_TIMEOUT)"},
		{"bad number", "", []string{"PAYMETER_LIMITS_MAX_BODY_BYTES=lots"}, "limits.max_body_bytes"},
		{"missing file", filepath.Join(dir, "nope.yaml"), nil, "no such file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(tt.path, tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err=%v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

// Validate reports every bad field by its YAML path, in one go.
func TestConfig_ValidateNamesFields(t *testing.T) {
	cfg, err := LoadConfig("../../testdata/config/invalid.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, field := range []string{"listen:", "upstream.url:", "upstream.timeout:", "limits.max_body_bytes:",
		"log.level:", "models.cheap:", "models.cheap.max_output_tokens:", "auth.jwt.audience:", "auth.jwt.public_key:",
		"auth.jwt.app_id:", "auth.jwt.scopes:", "auth.jwt.leeway:", "rate_limits.ip:"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s:\n%v", field, err)
		}
	}
	if out, err := cli(t, "config", "check", "--config", "../../testdata/config/invalid.yaml"); err == nil || !strings.Contains(err.Error(), "upstream.url") {
		t.Fatalf("config check: err=%v out=%q, want a failure naming upstream.url", err, out)
	}
	if out := mustCLI(t, "config", "check", "--config", "../../testdata/config/valid.yaml"); !strings.Contains(out, "config ok") {
		t.Fatalf("config check valid: %q", out)
	}
}

// limits.max_request_duration must end requests before their holds expire.
func TestConfig_MaxRequestDurationBelowHoldTTL(t *testing.T) {
	for _, tt := range []struct {
		env []string
		ok  bool
	}{
		{nil, true}, // the defaults: 10m below 15m
		{[]string{"PAYMETER_LIMITS_MAX_REQUEST_DURATION=15m"}, false},
		{[]string{"PAYMETER_LIMITS_MAX_REQUEST_DURATION=20m"}, false},
		{[]string{"PAYMETER_LIMITS_MAX_REQUEST_DURATION=0s"}, false},
		{[]string{"PAYMETER_LIMITS_MAX_REQUEST_DURATION=-1s"}, false},
		{[]string{"PAYMETER_LEDGER_HOLD_TTL=5m"}, false},
		{[]string{"PAYMETER_LEDGER_HOLD_TTL=5m", "PAYMETER_LIMITS_MAX_REQUEST_DURATION=4m"}, true},
	} {
		cfg, err := LoadConfig("", append(tt.env, "PAYMETER_UPSTREAM_URL=http://127.0.0.1:1/v1"))
		if err != nil {
			t.Fatal(err)
		}
		err = cfg.Validate()
		if tt.ok != (err == nil) || (err != nil && !strings.Contains(err.Error(), "limits.max_request_duration:")) {
			t.Errorf("%v: err=%v, want ok=%v or an error naming limits.max_request_duration", tt.env, err, tt.ok)
		}
	}
}
