package main

import (
	"context"
	"time"

	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
)

// SIWXConfig is sign-in-with-x (x402.siwx): the 402s of the proxy routes
// also offer to sign in with the wallet, whose balance (top-ups, change,
// free credits) then pays. Messages are bound to x402.public_url's origin.
type SIWXConfig struct {
	Enabled   bool   `yaml:"enabled"`
	Statement string `yaml:"statement"`
	// TTL is how long a 402's challenge stays valid.
	TTL Duration `yaml:"ttl"`
}

func (c *Config) validateSIWX(bad func(path, format string, args ...any)) {
	s := &c.X402.SIWX
	if !s.Enabled {
		return
	}
	if d := time.Duration(s.TTL); d < time.Second || d > time.Hour {
		bad("x402.siwx.ttl", "%s is outside 1s … 1h", d)
	}
	if s.Statement == "" || len(s.Statement) > 200 {
		bad("x402.siwx.statement", "must be 1 to 200 characters")
	}
	for i := 0; i < len(s.Statement); i++ {
		if ch := s.Statement[i]; ch < 0x20 || ch > 0x7e {
			bad("x402.siwx.statement", "must be printable ASCII, as EIP-4361 statements are")
			break
		}
	}
}

// setupSIWX builds sign-in-with-x once x402 is set up; nil when x402 or
// sign-in-with-x is off. Its origin is set once paymeter listens
// (siwxOrigin).
func (m *Main) setupSIWX(ctx context.Context, free meter.FreeLimits) (*auth.SIWX, error) {
	cfg := m.Config
	if m.Server.X402 == nil || !cfg.X402.SIWX.Enabled {
		return nil, nil
	}
	key, err := m.Ledger.SIWXKey(ctx)
	if err != nil {
		return nil, err
	}
	s := auth.NewSIWX(m.Ledger, key)
	s.Statement, s.TTL = cfg.X402.SIWX.Statement, time.Duration(cfg.X402.SIWX.TTL)
	s.FreeCredits, s.FreeLimits = cfg.Wallet.InitialFreeCredits, free
	for _, n := range m.Server.X402.Networks {
		s.ChainIDs = append(s.ChainIDs, n.ChainID)
	}
	if m.contracts != nil {
		s.Contracts = m.contracts // asked on the chain a message names
	}
	return s, nil
}

// siwxOrigin binds sign-in-with-x messages to x402.public_url or, when it
// is not set and paymeter listens on loopback, to the address it listens
// on (right for local use only). Anywhere else the site's name cannot be
// guessed, and never from a request's Host: sign-in-with-x stays off.
func (m *Main) siwxOrigin() error {
	s := m.Server.SIWX
	switch {
	case s == nil:
		return nil
	case m.Config.X402.PublicURL != "":
		return s.SetOrigin(m.Config.X402.PublicURL)
	case isLoopback(m.ln.Addr()):
		m.Logger.Warn("x402.public_url not set; sign-in-with-x messages must name " + listenAuthority(m.ln.Addr()))
		return s.SetOrigin("http://" + listenAuthority(m.ln.Addr()))
	}
	m.Logger.Warn("x402.public_url not set; sign-in-with-x is off on a listener that is not loopback")
	return nil
}
