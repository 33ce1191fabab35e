package httpapi

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are paymeter's Prometheus series, on a registry of their own
// (served at /metrics). Their values are for monitoring: the ledger, not
// a float64 counter, is the record of money.
type Metrics struct {
	Registry *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	upstream        *prometheus.HistogramVec
	charged         prometheus.Counter
	payments        *prometheus.CounterVec
	batchSize       prometheus.Histogram
	commit          prometheus.Histogram

	// Children of the labelled series, by label values: finding one in a
	// vec hashes and allocates its label values on every call, and these
	// are looked up for every request.
	mu          sync.RWMutex
	reqSeries   map[requestLabels]requestSeries
	upstrSeries map[upstreamLabels]prometheus.Observer
}

type requestLabels struct {
	route  string
	status int
	auth   string
}

type requestSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

type upstreamLabels struct {
	route string
	ok    bool
}

// NewMetrics registers paymeter's series, and the Go runtime's and the
// process's, on a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "paymeter_http_requests_total",
			Help: "HTTP requests answered, by route pattern, status code and authentication method.",
		}, []string{"route", "status", "auth"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "paymeter_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request (to its first byte, for streams), by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "paymeter_upstream_duration_seconds",
			Help:    "Time until the upstream's response headers, by proxy route and outcome (ok, error).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route", "outcome"}),
		charged: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "paymeter_credits_charged_total",
			Help: "Credits charged for metered requests (monitoring only; the ledger is exact).",
		}),
		payments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "paymeter_payments_total",
			Help: "x402 payments presented, by purpose (request, topup) and result (settled, refused, replayed, pending, error).",
		}, []string{"purpose", "result"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "paymeter_ledger_batch_ops",
			Help:    "Operations committed per ledger transaction (group commit).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
		}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "paymeter_ledger_commit_seconds",
			Help:    "Time to apply and durably commit one ledger transaction.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}),
	}
	m.reqSeries = make(map[requestLabels]requestSeries)
	m.upstrSeries = make(map[upstreamLabels]prometheus.Observer)
	m.Registry.MustRegister(m.requests, m.requestDuration, m.upstream, m.charged, m.payments, m.batchSize, m.commit,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveCommit records one ledger transaction: the ledger's commit hook.
func (m *Metrics) ObserveCommit(ops int, took time.Duration) {
	m.batchSize.Observe(float64(ops))
	m.commit.Observe(took.Seconds())
}

// HoldsActive registers a gauge read from active at each scrape.
func (m *Metrics) HoldsActive(active func() int) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "paymeter_holds_active",
		Help: "Holds reserving credit for requests in flight.",
	}, func() float64 { return float64(active()) }))
}

// Handler serves the registry in the Prometheus text format, for a
// listener of its own.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// handler is Handler on the fiber app.
func (m *Metrics) handler() fiber.Handler { return adaptor.HTTPHandler(m.Handler()) }

// metricsAuth lets through only the bearer of MetricsToken: the metrics
// describe the process and its traffic, which are not public.
func (s *Server) metricsAuth(c *fiber.Ctx) error {
	token, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if !ok || token == "" {
		return meter.Errorf(meter.ECodeMissingCredentials, "send the metrics token as \"Authorization: Bearer …\"")
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(s.MetricsToken)) != 1 {
		return meter.Errorf(meter.ECodeInvalidToken, "wrong metrics token")
	}
	return c.Next()
}

// observeRequest counts an answered request; the route is the matched
// pattern (bounded cardinality), never the raw path.
func (m *Metrics) observeRequest(c *fiber.Ctx, took time.Duration) {
	if m == nil {
		return
	}
	status := c.Response().StatusCode()
	route := "unmatched"
	if r := c.Route(); r != nil && status != fiber.StatusNotFound && status != fiber.StatusMethodNotAllowed {
		route = r.Path
	}
	auth := "none"
	if p := principalOf(c); p != nil {
		auth = string(p.Kind)
	}
	series := m.requestSeries(requestLabels{route, status, auth})
	series.count.Inc()
	series.duration.Observe(took.Seconds())
}

// requestSeries returns the request series of the label values k.
func (m *Metrics) requestSeries(k requestLabels) requestSeries {
	m.mu.RLock()
	series, ok := m.reqSeries[k]
	m.mu.RUnlock()
	if ok {
		return series
	}
	series = requestSeries{
		count:    m.requests.WithLabelValues(k.route, strconv.Itoa(k.status), k.auth),
		duration: m.requestDuration.WithLabelValues(k.route),
	}
	m.mu.Lock()
	m.reqSeries[k] = series
	m.mu.Unlock()
	return series
}

func (m *Metrics) observeUpstream(route string, took time.Duration, err error) {
	if m == nil {
		return
	}
	k := upstreamLabels{route: route, ok: err == nil}
	m.mu.RLock()
	series, ok := m.upstrSeries[k]
	m.mu.RUnlock()
	if !ok {
		outcome := "ok"
		if !k.ok {
			outcome = "error"
		}
		series = m.upstream.WithLabelValues(route, outcome)
		m.mu.Lock()
		m.upstrSeries[k] = series
		m.mu.Unlock()
	}
	series.Observe(took.Seconds())
}

func (m *Metrics) observeCharge(a meter.Amount) {
	if m == nil || a <= 0 {
		return
	}
	m.charged.Add(float64(a) / float64(meter.Credit))
}

func (m *Metrics) observePayment(purpose meter.PaymentPurpose, err error) {
	if m == nil {
		return
	}
	result := "error"
	switch meter.ErrorCode(err) {
	case "":
		result = "settled"
	case meter.ECodeInvalidPayment:
		result = "refused"
	case meter.ECodePaymentUsed:
		result = "replayed"
	case meter.ECodePaymentPending:
		result = "pending"
	default:
		if r, ok := paymentResult(meter.ErrorCode(err)); ok {
			result = r
		}
	}
	m.payments.WithLabelValues(string(purpose), result).Inc()
}
