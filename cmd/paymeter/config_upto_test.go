package main

import (
	"strings"
	"testing"
)

// x402.upto's defaults, its environment variables, and each refusal,
// named by field.
func TestConfig_Upto(t *testing.T) {
	base := func(t *testing.T, env ...string) *Config {
		t.Helper()
		env = append(env, "PAYMETER_UPSTREAM_URL=http://127.0.0.1:1/v1")
		cfg, err := LoadConfig("", env)
		if err != nil {
			t.Fatal(err)
		}
		cfg.X402.RelayerKey = strings.Repeat("11", 32)
		cfg.X402.Networks = []NetworkConfig{{Name: "base-sepolia", Asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
			TokenName: "USDC", TokenVersion: "2", PayTo: "0x00000000000000000000000000000000000Fee01", Settlement: "chain", RPCURL: "http://127.0.0.1:8545"}}
		return cfg
	}
	cfg := base(t, "PAYMETER_X402_UPTO_ENABLED=true", "PAYMETER_X402_UPTO_MAX_UNSETTLED_PER_PAYER=2")
	u := cfg.X402.Upto
	if !u.Enabled || u.MaxUnsettledPerPayer.String() != "2" || u.MaxUnsettled.String() != "100" || u.MinAmount.String() != "0.01" ||
		u.MaxTimeoutSeconds != 900 || u.BatchSize != 64 {
		t.Fatalf("upto config %+v", u)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults with upto on: %v", err)
	}
	for _, tc := range []struct {
		name, field string
		edit        func(*Config)
	}{
		{"no networks", "x402.upto.enabled", func(c *Config) { c.X402.Networks = nil }},
		{"no rpc_url", "x402.upto.enabled", func(c *Config) {
			c.X402.Networks[0].Settlement, c.X402.Networks[0].RPCURL, c.X402.Facilitator.URL = "facilitator", "", "http://127.0.0.1:1"
		}},
		{"min above the cap", "x402.upto.min_amount", func(c *Config) { c.X402.Upto.MinAmount = c.X402.Upto.MaxUnsettledPerPayer * 2 }},
		{"finer than a unit", "x402.upto.min_amount", func(c *Config) { c.X402.Upto.MinAmount = 1 }},
		{"total below the payer's", "x402.upto.max_unsettled", func(c *Config) { c.X402.Upto.MaxUnsettled = c.X402.Upto.MaxUnsettledPerPayer / 2 }},
		{"timeout shorter than a request", "x402.upto.max_timeout_seconds", func(c *Config) { c.X402.Upto.MaxTimeoutSeconds = 600 }},
		{"batch size", "x402.upto.batch_size", func(c *Config) { c.X402.Upto.BatchSize = 0 }},
		{"facilitator address", "x402.upto.facilitator_address", func(c *Config) { c.X402.Upto.FacilitatorAddress = "0x12" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base(t, "PAYMETER_X402_UPTO_ENABLED=true")
			tc.edit(cfg)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.field+":") {
				t.Fatalf("Validate = %v, want an error naming %s", err, tc.field)
			}
		})
	}
}
