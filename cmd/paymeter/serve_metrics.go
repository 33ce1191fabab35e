package main

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/paymeter/paymeter/internal/httpapi"
)

// serverLimits copies the server section of the config onto the Server.
func (m *Main) serverLimits() {
	cfg := m.Config
	m.Server.MaxConnections = cfg.Server.MaxConnections
	m.Server.MaxConnectionsPerIP = cfg.Server.MaxConnectionsPerIP
	m.Server.WriteTimeout = time.Duration(cfg.Server.WriteTimeout)
	m.Server.MaxInFlight = cfg.Limits.MaxInFlight
	m.Server.MaxInFlightPerOwner = cfg.Limits.MaxInFlightPerOwner
	m.Server.MetricsToken = cfg.Metrics.Token
	m.Server.RateLimits.FailedAuth = cfg.RateLimits.FailedAuthPerIP
	m.Server.RateLimits.WalletPerIP = cfg.RateLimits.WalletPerIP
	// Validate has parsed them already.
	m.Server.TrustedProxies, _ = httpapi.ParseTrustedProxies(cfg.Server.TrustedProxies)
}

// serveMetrics serves /metrics on metrics.listen, a listener of its own
// (loopback by default) so that the process's internals are not on the
// public one. Off when metrics.listen is "" or "off".
func (m *Main) serveMetrics() error {
	addr := m.Config.Metrics.listenAddr()
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics.listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Server.Metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10}
	m.metricsLn = ln
	go srv.Serve(ln)
	m.closers = append(m.closers, func() { srv.Close() })
	m.Logger.Info("metrics listening", "addr", ln.Addr().String())
	return nil
}

// MetricsURL is the base URL of the metrics listener, "" when it is off.
func (m *Main) MetricsURL() string {
	if m.metricsLn == nil {
		return ""
	}
	return "http://" + m.metricsLn.Addr().String()
}
