// Command paymeter is a payment-aware metering proxy for OpenAI-compatible
// inference APIs. Run `paymeter help` for its commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/chain"
	"github.com/paymeter/paymeter/internal/httpapi"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/postgres"
	"github.com/paymeter/paymeter/internal/sqlite"
	"github.com/paymeter/paymeter/internal/upstream"
	"github.com/paymeter/paymeter/internal/x402"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	var ue usageError
	var ec exitCode
	switch {
	case err == nil:
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "paymeter:", err)
		os.Exit(2)
	case errors.As(err, &ec):
		fmt.Fprintln(os.Stderr, "paymeter:", err)
		os.Exit(ec.code)
	default:
		fmt.Fprintln(os.Stderr, "paymeter:", err)
		os.Exit(1)
	}
}

// exitCode is an error with an exit status of its own (paymeter pay's).
type exitCode struct {
	code int
	err  error
}

func (e exitCode) Error() string { return e.err.Error() }
func (e exitCode) Unwrap() error { return e.err }

// Main is the whole running program: tests start it on ":0" with a
// temporary database and drive it over real HTTP.
type Main struct {
	Config *Config
	Logger *slog.Logger

	// Ledger is the storage engine (openStore); Keys is the same store
	// seen as the API keys' (meter.KeyStore).
	Ledger   meter.Store
	Keys     meter.KeyStore
	Upstream *upstream.Client
	Server   *httpapi.Server
	// upstreams are the named upstreams, and modelUpstreams the models
	// bought from them.
	upstreams      map[string]*upstream.Client
	modelUpstreams map[string]*upstream.Client
	// Payments settles x402 payments; nil when x402 is off.
	Payments *x402.Processor
	// Upto takes and settles x402 upto payments; nil when upto is off.
	// PauseUpto keeps its settler from running (tests: a process that
	// stops between serving and settling).
	Upto      *x402.Upto
	PauseUpto bool
	// DialChain connects to a chain's JSON-RPC endpoint; tests replace it
	// with go-ethereum's simulated backend.
	DialChain func(ctx context.Context, url string) (chain.Backend, error)

	keyAuth *auth.KeyAuthenticator
	ln      net.Listener
	cancel  context.CancelFunc
	serving chan error
	chores  sync.WaitGroup
	closers []func()
	// contracts checks EIP-1271 signatures when a chain is configured.
	contracts *chain.Contracts
	// inFlight names the holds and payments of the requests running now,
	// which the ledger's and the payments' sweeps leave alone.
	inFlight meter.InFlight

	// metricsLn is the metrics listener; nil when metrics.listen is off.
	metricsLn net.Listener
}

// lastUsedInterval is how often keys' last-use times are written.
const lastUsedInterval = 5 * time.Second

// NewMain returns a Main for cfg, logging to logger.
func NewMain(cfg *Config, logger *slog.Logger) *Main {
	return &Main{Config: cfg, Logger: logger}
}

// Run opens the database, releases holds left over by a previous run,
// starts listening and returns; the server keeps running until Close.
func (m *Main) Run(ctx context.Context) (err error) {
	if err := m.Config.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if m.Ledger, err = openStore(m.Config.Database, m.Logger); err != nil {
		return err
	}
	m.Keys = m.Ledger
	m.Ledger.SetInFlight(&m.inFlight)
	cfg := m.Config
	if err := m.openUpstreams(); err != nil {
		return err
	}

	m.keyAuth = auth.NewKeyAuthenticator(m.Keys)
	m.keyAuth.Sessions = m.Ledger
	wallets := auth.NewWalletVerifier(m.Ledger)
	wallets.Realm, wallets.RequireBodyHash = cfg.Wallet.Realm, cfg.Wallet.RequireBodyHash
	wallets.Window = time.Duration(cfg.Wallet.Window)
	wallets.FutureSkew = wallets.Window
	wallets.FreeCredits = cfg.Wallet.InitialFreeCredits
	freeLimits := meter.FreeLimits{PerClientPerDay: cfg.Wallet.FreeCreditsPerIPPerDay, DailyBudget: cfg.Wallet.FreeCreditsDailyBudget}
	wallets.FreeLimits = freeLimits
	signIn := auth.NewSignIn(m.Ledger, m.Ledger, m.Keys)
	signIn.Domain, signIn.URI, signIn.ChainIDs = cfg.SIWE.Domain, cfg.SIWE.URI, cfg.SIWE.ChainIDs
	signIn.Statement, signIn.FreeCredits, signIn.FreeLimits = cfg.SIWE.Statement, cfg.Wallet.InitialFreeCredits, freeLimits
	m.Server = &httpapi.Server{
		Ledger:          m.Ledger,
		Keys:            m.keyAuth,
		KeyStore:        m.Keys,
		Sessions:        m.Ledger,
		Wallets:         wallets,
		SignIn:          signIn,
		SignInPerMinute: cfg.SIWE.RateLimitPerMinute,
		RateLimits: httpapi.RateLimits{APIKey: cfg.RateLimits.APIKey, Session: cfg.RateLimits.Session,
			Wallet: cfg.RateLimits.Wallet, JWTUser: cfg.RateLimits.JWTUser, IP: cfg.RateLimits.IP},
		Upstream:       m.Upstream,
		ModelUpstreams: m.modelUpstreams,
		Prices:         cfg.Prices(),
		Logger:         m.Logger,
		HoldTTL:        time.Duration(cfg.Ledger.HoldTTL),
		MaxBodyBytes:   cfg.Limits.MaxBodyBytes,
		Metrics:        httpapi.NewMetrics(),
		// Requests end before their holds expire (Validate), and those that
		// do not are renewed while they run.
		MaxRequestDuration: time.Duration(cfg.Limits.MaxRequestDuration),
		InFlight:           &m.inFlight,
		ReadyChecks: []httpapi.ReadyCheck{
			{Name: "database", Check: m.Ledger.Ping},
			{Name: "upstream", Check: m.Upstream.Ping},
		},
	}
	for _, name := range slices.Sorted(maps.Keys(m.upstreams)) {
		m.Server.ReadyChecks = append(m.Server.ReadyChecks, httpapi.ReadyCheck{Name: "upstream " + name, Check: m.upstreams[name].Ping})
	}
	m.serverLimits()
	m.Server.SharedRateLimiter = sharedRateLimiter(m.Ledger) // PostgreSQL: one bucket per principal across instances
	m.Server.SharedRateTimeout = time.Duration(m.Config.RateLimits.SharedTimeout)
	m.Ledger.SetCommitObserver(m.Server.Metrics.ObserveCommit)
	m.Server.Metrics.HoldsActive(m.Ledger.ActiveHolds)
	if m.Server.JWT, err = m.setupJWT(ctx); err != nil {
		return err
	}
	if m.Server.X402, err = m.setupX402(ctx); err != nil {
		return err
	}
	if m.Server.SIWX, err = m.setupSIWX(ctx, freeLimits); err != nil {
		return err
	}
	if id := cfg.ContractChainID(); m.contracts != nil && id != 0 {
		// A chain is configured: smart-contract wallets may sign too, on
		// that one chain.
		wallets.Contracts, signIn.Contracts = m.contracts, m.contracts
		wallets.ContractChainID, signIn.ContractChainID = id, id
	} else if m.contracts != nil {
		m.Logger.Warn("several chains have an rpc_url: smart-contract wallets sign requests and SIWE messages only once wallet.eip1271_chain_id names one")
	}
	m.Server.Init()

	// The metrics listener first: a failure to bind it leaves nothing
	// serving to undo.
	if err := m.serveMetrics(); err != nil {
		return err
	}
	if m.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return err
	}
	if err := m.siwxOrigin(); err != nil {
		return err
	}
	switch {
	case signIn.Domain == "" && isLoopback(m.ln.Addr()):
		// Unconfigured on loopback, SIWE messages name the address
		// paymeter listens on: right for local use only.
		signIn.Domain = listenAuthority(m.ln.Addr())
		signIn.URI = "http://" + signIn.Domain
		m.Logger.Warn("siwe.domain not set; Sign-In with Ethereum messages must name "+signIn.Domain, "uri", signIn.URI)
	case signIn.Domain == "":
		// Anywhere else the site's name cannot be guessed: the sign-in
		// routes answer 404 until siwe.domain is set.
		m.Logger.Warn("siwe.domain not set; Sign-In with Ethereum is off on a listener that is not loopback")
	case signIn.URI == "":
		signIn.URI = "https://" + signIn.Domain
	}
	bg, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	// Holds whose requests died with a previous process are released now,
	// then periodically.
	if _, err := m.Ledger.ReleaseExpired(ctx, time.Now()); err != nil {
		return fmt.Errorf("release expired holds: %w", err)
	}
	m.chores.Add(2)
	go func() {
		defer m.chores.Done()
		m.Ledger.Maintain(bg, time.Duration(cfg.Ledger.ExpiryInterval))
	}()
	go func() {
		defer m.chores.Done()
		m.flushLastUsed(bg)
	}()
	if m.Payments != nil {
		// Payments left open by a timeout or a previous process are
		// finished now, then periodically.
		before := time.Now() // before serving: never a payment of this process
		m.chores.Add(1)
		go func() {
			defer m.chores.Done()
			if _, err := m.Payments.RetryOpen(bg, before); err != nil {
				m.Logger.Error("retry open payments", "err", err)
			}
			// Request payments settled by the previous process but never
			// metered (it died): their requests died too; all is change.
			if _, err := m.Payments.ApplyStale(bg, before); err != nil {
				m.Logger.Error("apply stale payments", "err", err)
			}
			m.Payments.Sweep(bg, time.Duration(cfg.X402.SweepInterval))
		}()
	}
	if m.Upto != nil && !m.PauseUpto {
		// What a previous process served and did not settle is settled
		// by the first round, at once.
		m.chores.Add(1)
		go func() {
			defer m.chores.Done()
			m.Upto.Run(bg)
		}()
	}
	m.serving = make(chan error, 1)
	go func() { m.serving <- m.Server.Serve(m.ln) }()
	m.Logger.Info("paymeter listening", "addr", m.ln.Addr().String(), "upstream", x402.RedactURL(cfg.Upstream.URL),
		"database", shownDatabase(cfg.Database), "version", version)
	return nil
}

// URL is the server's base URL.
func (m *Main) URL() string { return "http://" + m.ln.Addr().String() }

// Close stops accepting requests, lets in-flight ones finish for up to
// shutdown_timeout, charges the streams still running for what they
// delivered, then closes the ledger, which releases the holds of any
// other request still running (nothing of theirs was delivered), and the
// database.
func (m *Main) Close() error {
	var errs []error
	if m.Server != nil && m.ln != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(m.Config.ShutdownTimeout))
		errs = append(errs, m.Server.Shutdown(ctx))
		cancel()
		<-m.serving
		if n := m.Server.FinishStreams(); n > 0 {
			m.Logger.Warn("streams still running after shutdown_timeout ended, charged for what they delivered", "count", n)
		}
	}
	if m.cancel != nil {
		m.cancel()
		m.chores.Wait()
	}
	if m.keyAuth != nil {
		errs = append(errs, m.keyAuth.FlushLastUsed(context.Background()))
	}
	if m.Upstream != nil {
		m.Upstream.Close()
	}
	for _, u := range m.upstreams {
		u.Close()
	}
	for _, c := range m.closers {
		c()
	}
	if m.Ledger != nil {
		errs = append(errs, m.Ledger.Close())
	}
	return errors.Join(errs...)
}

// isLoopback reports whether a listening address is on loopback only.
func isLoopback(a net.Addr) bool {
	host, _, err := net.SplitHostPort(a.String())
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback()
}

// listenAuthority is host:port of a listening address, with "localhost"
// for an unspecified host.
func listenAuthority(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// flushLastUsed writes keys' last-use times every lastUsedInterval.
func (m *Main) flushLastUsed(ctx context.Context) {
	t := time.NewTicker(lastUsedInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := m.keyAuth.FlushLastUsed(ctx); err != nil {
				m.Logger.Warn("record keys' last use", "err", err)
			}
		}
	}
}

// openStore opens the storage engine the database setting names: the one
// place that builds a concrete one. Everything else depends on meter.Store.
func openStore(database string, logger *slog.Logger) (meter.Store, error) {
	if postgres.IsDSN(database) {
		s, err := postgres.OpenStore(context.Background(), database, logger)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, err := sqlite.OpenStore(database, logger)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// openLedger opens the SQLite database file and a ledger on it, for what
// reads or prepares a file directly (tests).
func openLedger(path string, logger *slog.Logger) (*sqlite.DB, *sqlite.Ledger, error) {
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		return nil, nil, err
	}
	l, err := sqlite.NewLedger(db, logger)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, l, nil
}

// newLogger builds the JSON (or text) logger the config asks for.
func newLogger(w io.Writer, cfg LogConfig) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// setupJWT builds the JWT users' verifier, if configured, and checks that
// the app that pays for them exists.
func (m *Main) setupJWT(ctx context.Context) (*auth.JWTVerifier, error) {
	j := &m.Config.Auth.JWT
	if !j.Enabled() {
		return nil, nil
	}
	key, err := j.publicKey()
	if err != nil {
		return nil, fmt.Errorf("auth.jwt.public_key: %w", err)
	}
	app, err := m.Ledger.FindAccountByID(ctx, j.AppID)
	if meter.ErrorCode(err) == meter.ECodeNotFound || (err == nil && app.Kind != meter.AccountApp) {
		return nil, fmt.Errorf("auth.jwt.app_id: no app account %d (paymeter apps list)", j.AppID)
	} else if err != nil {
		return nil, err
	}
	scopes, err := meter.ParseScopes(strings.Join(j.Scopes, ","))
	if err != nil {
		return nil, fmt.Errorf("auth.jwt.scopes: %w", err)
	}
	return &auth.JWTVerifier{Issuer: j.Issuer, Audience: j.Audience, Key: key, AppID: j.AppID, Scopes: scopes,
		DailyCap: j.DailySpendCap, Leeway: time.Duration(j.Leeway)}, nil
}
