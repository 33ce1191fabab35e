package httpapi

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/upstream"
)

// Server is paymeter's HTTP front: the metered proxy routes and the
// health endpoint.
type Server struct {
	Ledger meter.Ledger
	Keys   *auth.KeyAuthenticator
	// KeyStore is where the key API creates, lists and revokes keys.
	KeyStore meter.KeyStore
	// Sessions is where session tokens are minted.
	Sessions meter.SessionStore
	Wallets  *auth.WalletVerifier
	// JWT verifies an app's users' tokens; nil refuses JWTs.
	JWT    *auth.JWTVerifier
	SignIn *auth.SignIn
	// SIWX takes sign-in-with-x proofs, offered in 402s; nil takes none.
	SIWX *auth.SIWX
	// SignInPerMinute limits requests per IP to the sign-in routes.
	SignInPerMinute int
	// Upstream serves the models ModelUpstreams does not name.
	Upstream *upstream.Client
	// ModelUpstreams maps model ids to the upstream they are bought from,
	// for models on a named upstream.
	ModelUpstreams map[string]*upstream.Client
	// Prices maps model ids to their prices; a model not here is refused.
	Prices map[string]meter.Price
	Logger *slog.Logger
	// HoldTTL is how long a request's hold lives before the expiry sweep
	// may release it; it must exceed the longest request.
	HoldTTL time.Duration
	// MaxBodyBytes caps request bodies (413 payload_too_large).
	MaxBodyBytes int
	// MaxEventBytes caps one server-sent event from the upstream.
	MaxEventBytes int
	// Metrics, when set, are kept and served at /metrics.
	Metrics *Metrics
	// UptoMetrics are the x402 upto series; nil without upto.
	UptoMetrics *UptoMetrics
	// ReadyChecks are what /readyz checks: the database, the upstream.
	ReadyChecks []ReadyCheck
	// RateLimits are the requests per minute of each kind of caller.
	RateLimits RateLimits
	// X402 enables x402 payments; nil answers requests without
	// credentials with 401 missing_credentials.
	X402 *X402

	// MaxRequestDuration bounds a proxied request, from its start to its
	// end: a stream past it ends with an error event, charged what it
	// delivered; a whole request past it is a 504 upstream_timeout. It is
	// below HoldTTL; 0 sets no bound.
	MaxRequestDuration time.Duration
	// InFlight is told the hold (or x402 payment) of every proxied
	// request while it runs, so that the sweeps leave them alone.
	InFlight *meter.InFlight
	// streams are the streams running now, for FinishStreams.
	streams streamSet
	// MaxConnections caps the connections open at once; past it a new
	// connection is answered 503 overloaded and closed (capListener).
	// 0: fasthttp's default.
	MaxConnections int
	// MaxConnectionsPerIP caps them per client address (an IPv6 /64 as
	// one), except for trusted proxies. 0: no cap per address.
	MaxConnectionsPerIP int
	// WriteTimeout bounds each write to a client (stallListener): a client
	// that stops reading loses its connection. 0: no bound.
	WriteTimeout time.Duration
	// MaxInFlight bounds the requests forwarded upstream at once
	// (limitInFlight). 0: no bound.
	MaxInFlight int
	// MaxInFlightPerOwner bounds the requests in flight of one API key (its
	// sessions with it), wallet, JWT user or, for x402 payers, client
	// address, so that no one takes every slot. 0: no share.
	MaxInFlightPerOwner int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (clientIP); empty trusts none.
	TrustedProxies []netip.Prefix
	// MetricsToken, when set, serves /metrics on this listener to
	// "Authorization: Bearer <MetricsToken>"; without it /metrics is not
	// served here (Main serves it on a listener of its own).
	MetricsToken string
	// SharedRateLimiter, when set, keeps the rate limits' buckets for
	// every instance on one database (several instances on PostgreSQL);
	// nil keeps them in this process, as one instance on SQLite needs.
	SharedRateLimiter SharedRateLimiter
	// SharedRateTimeout bounds one call to it (0: 250 ms).
	SharedRateTimeout time.Duration

	app          *fiber.App
	limiter      bucketLimiter
	failedAuth   bucketLimiter
	walletIPs    bucketLimiter
	sharedHealth *sharedHealth
	inFlight     chan struct{}
	// inFlightOwners shares inFlight among its holders.
	inFlightOwners *inFlightOwners
	ready          readyCache
}

// route describes one proxy route.
type route struct {
	path  string
	scope meter.Scope
	// priced routes are held and metered by tokens; the others pass through.
	priced     bool
	embeddings bool
	api        upstream.API
}

var proxyRoutes = []route{
	{path: "/v1/chat/completions", scope: meter.ScopeChat, priced: true, api: upstream.APIChat},
	{path: "/v1/completions", scope: meter.ScopeChat, priced: true, api: upstream.APICompletions},
	{path: "/v1/embeddings", scope: meter.ScopeEmbeddings, priced: true, embeddings: true, api: upstream.APIEmbeddings},
	{path: "/v1/responses", scope: meter.ScopeChat, priced: true, api: upstream.APIResponses},
	{path: "/v1/messages", scope: meter.ScopeChat, priced: true, api: upstream.APIMessages},
	{path: "/v1/images/generations", scope: meter.ScopeImages, priced: true, api: upstream.APIImages},
}

// Init builds the fiber app; call it once, after setting the fields.
func (s *Server) Init() {
	if s.MaxEventBytes == 0 {
		s.MaxEventBytes = 1 << 20
	}
	s.app = fiber.New(fiber.Config{
		BodyLimit: s.MaxBodyBytes,
		// Request headers may carry an x402 payment (up to
		// x402.MaxHeaderBytes) besides wallet signatures and the rest.
		ReadBufferSize:        16 << 10,
		ErrorHandler:          s.handleError,
		DisableStartupMessage: true,
		// ReadTimeout bounds reading one request, headers and body; it also
		// bounds how long a connection that never sends a request can
		// delay a graceful shutdown.
		ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute,
	})
	s.limiter = s.newBucketLimiter("r:")
	s.failedAuth = s.newBucketLimiter("f:")
	s.walletIPs = s.newBucketLimiter("w:")
	if s.MaxInFlight > 0 {
		s.inFlight = make(chan struct{}, s.MaxInFlight)
		if s.MaxInFlightPerOwner > 0 {
			s.inFlightOwners = &inFlightOwners{max: s.MaxInFlightPerOwner, n: map[inFlightOwner]int{}}
		}
	}
	// Before any route: a panic is answered, an encoded body refused
	// before anything reads it, a guessing client stopped.
	s.app.Use(s.withRequestID, s.withAccessLog, s.recoverPanic, refuseEncodedBody, s.limitFailedAuth)
	s.app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	s.app.Get("/readyz", s.readyz)
	if s.Metrics != nil && s.MetricsToken != "" {
		s.app.Get("/metrics", s.metricsAuth, s.Metrics.handler())
	}

	v1 := s.app.Group("/v1", s.authenticateOrPay, s.rateLimit)
	for _, r := range proxyRoutes {
		r := r
		v1.Post(r.path[len("/v1"):], s.limitInFlight, func(c *fiber.Ctx) error { return s.proxy(c, r) })
	}
	v1.Get("/models", s.listModels)

	if s.SignInPerMinute == 0 {
		s.SignInPerMinute = 30
	}
	siwe := s.app.Group("/api/auth/siwe", s.siweEnabled, s.limitIP("siwe:", s.SignInPerMinute))
	siwe.Get("/nonce", s.siweNonce)
	siwe.Post("/verify", s.siweVerify)
	s.app.Post("/api/v1/topup/:amount", s.limitIP("topup:", s.RateLimits.IP), s.topup)
	api := s.app.Group("/api/v1", s.authenticate, s.rateLimit)
	api.Get("/account", s.getAccount)
	api.Get("/usage", s.getUsage)
	api.Get("/api-keys", s.listKeys)
	api.Post("/api-keys", s.createKey)
	api.Post("/api-keys/:id/regenerate", s.regenerateKey)
	api.Delete("/api-keys/:id", s.deleteKey)
	api.Post("/auth/session-token", s.mintSessionToken)
	v1.Get("/models/*", s.getModel)
}

// ReadyCheck is one dependency /readyz checks.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// readyTimeout bounds each readiness check.
const readyTimeout = 2 * time.Second

// readyCacheTTL is how long a readiness result is answered again: the
// checks write to the ledger and dial the upstream, which a flood of
// /readyz must not multiply.
const readyCacheTTL = time.Second

// readyCache is the last readiness result. Its lock is held while the
// checks run, so that concurrent requests wait for one run, not start
// their own.
type readyCache struct {
	mu     sync.Mutex
	at     time.Time
	checks map[string]string // never modified once cached
	failed bool
}

// readyz serves /readyz: 200 when every check passes, else 503
// unavailable naming the failed ones (without their internal causes).
// The result is cached for readyCacheTTL.
func (s *Server) readyz(c *fiber.Ctx) error {
	s.ready.mu.Lock()
	if time.Since(s.ready.at) >= readyCacheTTL {
		s.ready.checks, s.ready.failed = s.runReadyChecks(c.UserContext())
		s.ready.at = time.Now()
	}
	checks, failed := s.ready.checks, s.ready.failed
	s.ready.mu.Unlock()
	if failed {
		return meter.Errorf(meter.ECodeUnavailable, "not ready").WithDetail("checks", checks)
	}
	return c.JSON(fiber.Map{"status": "ready", "checks": checks})
}

func (s *Server) runReadyChecks(ctx context.Context) (checks map[string]string, failed bool) {
	checks = make(map[string]string, len(s.ReadyChecks))
	for _, rc := range s.ReadyChecks {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyTimeout)
		err := rc.Check(cctx)
		cancel()
		if err != nil {
			failed = true
			checks[rc.Name] = "failing"
			s.Logger.Warn("readiness check failed", "check", rc.Name, "err", err)
			continue
		}
		checks[rc.Name] = "ok"
	}
	return checks, failed
}

// Serve answers requests on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if s.MaxConnections > 0 {
		ln = &capListener{Listener: ln, max: int64(s.MaxConnections), perIP: s.MaxConnectionsPerIP, trusted: s.trusted}
	}
	if s.WriteTimeout > 0 {
		ln = &stallListener{Listener: ln, timeout: s.WriteTimeout}
	}
	return s.app.Listener(ln)
}

// Shutdown stops accepting connections and waits for open ones to finish,
// until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.app.ShutdownWithContext(ctx) }

// App returns the fiber app, for tests that call it in-process.
func (s *Server) App() *fiber.App { return s.app }
