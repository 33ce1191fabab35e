package httpapi

import (
	"context"
	"sync"
	"time"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
	"github.com/prometheus/client_golang/prometheus"
)

// UptoMetrics are the series of x402 upto (docs/design.md §5): what is
// served and not yet settled, by state, read from the ledger at each
// scrape; settlements, their latency and failures; refused payments.
type UptoMetrics struct {
	settled, settledUSDC prometheus.Counter
	latency              prometheus.Histogram
	failures             *prometheus.CounterVec
	authorized           *prometheus.CounterVec

	mu      sync.Mutex
	reasons map[string]struct{} // the failure reasons given a label value of their own
}

var _ x402.UptoObserver = (*UptoMetrics)(nil)

// uptoStates are the unfinished states the gauges show.
var uptoStates = []meter.UptoState{meter.UptoClaimed, meter.UptoDue, meter.UptoSettling, meter.UptoFailed}

// NewUptoMetrics registers the upto series on m's registry; stats is read
// at each scrape.
func NewUptoMetrics(m *Metrics, stats func(context.Context) (meter.UptoStats, error)) *UptoMetrics {
	u := &UptoMetrics{
		reasons: make(map[string]struct{}),
		settled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "paymeter_upto_settled_total", Help: "x402 upto authorizations settled on chain.",
		}),
		settledUSDC: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "paymeter_upto_settled_usdc_total", Help: "USDC settled by x402 upto authorizations (monitoring only; the ledger is exact).",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "paymeter_upto_settle_seconds",
			Help:    "Time from an x402 upto authorization's claim (its request's start) to its settlement.",
			Buckets: []float64{.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 900},
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "paymeter_upto_settle_failures_total", Help: "x402 upto settlements refused by the chain, by x402 reason.",
		}, []string{"reason"}),
		authorized: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "paymeter_upto_payments_total",
			Help: "x402 upto payments presented, by result (served, or the code that refused them).",
		}, []string{"result"}),
	}
	m.Registry.MustRegister(u.settled, u.settledUSDC, u.latency, u.failures, u.authorized, &uptoGauges{stats: stats})
	return u
}

// UptoSettled implements x402.UptoObserver.
func (u *UptoMetrics) UptoSettled(amount meter.USDC, sinceClaim time.Duration) {
	u.settled.Inc()
	u.settledUSDC.Add(float64(amount) / 1e6)
	u.latency.Observe(sinceClaim.Seconds())
}

// maxFailureReasons bounds the reason label's values: a facilitator
// chooses the reasons, and each new value is a new series on every scrape.
const maxFailureReasons = 32

// UptoFailed implements x402.UptoObserver. Reasons beyond the first
// maxFailureReasons distinct ones are counted as "other".
func (u *UptoMetrics) UptoFailed(reason string) {
	u.mu.Lock()
	if _, seen := u.reasons[reason]; !seen {
		if len(u.reasons) >= maxFailureReasons || !x402.ValidReason(reason) {
			reason = "other"
		} else {
			u.reasons[reason] = struct{}{}
		}
	}
	u.mu.Unlock()
	u.failures.WithLabelValues(reason).Inc()
}

func (u *UptoMetrics) observeAuthorize(err error) {
	result := "served"
	if err != nil {
		result = meter.ErrorCode(err)
	}
	u.authorized.WithLabelValues(result).Inc()
}

// uptoGauges reads the unfinished authorizations at each scrape.
type uptoGauges struct {
	stats func(context.Context) (meter.UptoStats, error)
}

var (
	uptoCountDesc = prometheus.NewDesc("paymeter_upto_authorizations",
		"x402 upto authorizations not yet final, by state (claimed: its request runs; due: metered; settling; failed: its payer refused).",
		[]string{"state"}, nil)
	uptoUnsettledDesc = prometheus.NewDesc("paymeter_upto_unsettled_usdc",
		"USDC at risk in x402 upto authorizations not yet settled, by state (claimed: the maximum; else the amount to settle).",
		[]string{"state"}, nil)
)

func (g *uptoGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- uptoCountDesc
	ch <- uptoUnsettledDesc
}

func (g *uptoGauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := g.stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(uptoCountDesc, err)
		return
	}
	for _, st := range uptoStates {
		ch <- prometheus.MustNewConstMetric(uptoCountDesc, prometheus.GaugeValue, float64(s.Count[st]), string(st))
		ch <- prometheus.MustNewConstMetric(uptoUnsettledDesc, prometheus.GaugeValue, float64(s.Amount[st])/1e6, string(st))
	}
}
