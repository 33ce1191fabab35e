package main

import (
	"net"
	"strings"
	"time"

	"github.com/paymeter/paymeter/internal/httpapi"
)

// ServerConfig bounds what clients can hold of the server, and says which
// reverse proxies are trusted to name the client.
type ServerConfig struct {
	// MaxConnections caps the connections served at once.
	MaxConnections int `yaml:"max_connections"`
	// MaxConnectionsPerIP caps them per client address, so that one client
	// cannot take every place; trusted proxies are not capped.
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
	// WriteTimeout closes a connection whose client stops reading: it
	// bounds each write, not the response, so a long stream that keeps
	// flowing is never cut.
	WriteTimeout Duration `yaml:"write_timeout"`
	// TrustedProxies are the CIDRs (or addresses) of reverse proxies whose
	// X-Forwarded-For is believed; empty trusts none.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// MetricsConfig says where the Prometheus metrics are served.
type MetricsConfig struct {
	// Listen is the metrics listener's address; "" or "off" disables it.
	Listen string `yaml:"listen"`
	// Token, when set, also serves /metrics on the main listener to
	// "Authorization: Bearer <token>".
	Token string `yaml:"token"`
}

// listenAddr is the metrics listener's address, "" when it is off.
func (m *MetricsConfig) listenAddr() string {
	if strings.EqualFold(strings.TrimSpace(m.Listen), "off") {
		return ""
	}
	return strings.TrimSpace(m.Listen)
}

// minMetricsToken is the shortest metrics token accepted: it guards the
// process's internals on a public listener.
const minMetricsToken = 16

func (c *Config) validateServer(bad func(path, format string, args ...any)) {
	if n := c.Server.MaxConnections; n < 1 || n > 1_000_000 {
		bad("server.max_connections", "%d is outside 1 … 1000000", n)
	}
	if n := c.Server.MaxConnectionsPerIP; n < 0 || n > 1_000_000 {
		bad("server.max_connections_per_ip", "%d is outside 0 (no cap) … 1000000", n)
	}
	if d := time.Duration(c.Server.WriteTimeout); d < time.Second || d > 10*time.Minute {
		bad("server.write_timeout", "%s is outside 1s … 10m", d)
	}
	if _, err := httpapi.ParseTrustedProxies(c.Server.TrustedProxies); err != nil {
		bad("server.trusted_proxies", "%v", err)
	}
	if n := c.Limits.MaxInFlight; n < 1 || n > 1_000_000 {
		bad("limits.max_in_flight", "%d is outside 1 … 1000000", n)
	}
	if n := c.Limits.MaxInFlightPerOwner; n < 0 || n > 1_000_000 {
		bad("limits.max_in_flight_per_owner", "%d is outside 0 (no share) … 1000000", n)
	}
	if n := c.RateLimits.FailedAuthPerIP; n < 0 || n > 1_000_000 {
		bad("rate_limits.failed_auth_per_ip", "%d is outside 0 (off) … 1000000 per minute", n)
	}
	if n := c.RateLimits.WalletPerIP; n < 0 || n > 1_000_000 {
		bad("rate_limits.wallet_per_ip", "%d is outside 0 (off) … 1000000 per minute", n)
	}
	if addr := c.Metrics.listenAddr(); addr != "" {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad("metrics.listen", "%q is not host:port (or \"off\")", c.Metrics.Listen)
		}
	}
	if t := c.Metrics.Token; t != "" && (len(t) < minMetricsToken || strings.ContainsAny(t, " \t\r\n")) {
		bad("metrics.token", "must be at least %d characters, without spaces", minMetricsToken)
	}
}
