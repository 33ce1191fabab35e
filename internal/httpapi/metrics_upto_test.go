package httpapi

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A facilitator chooses the failure reasons: only the first 32 distinct
// well-formed ones get a series of their own, the rest count as "other",
// so that it cannot grow /metrics without bound.
func TestUptoMetrics_FailureReasonsBounded(t *testing.T) {
	m := NewMetrics()
	u := NewUptoMetrics(m, func(context.Context) (meter.UptoStats, error) { return meter.UptoStats{}, nil })
	for i := range 100 {
		u.UptoFailed(fmt.Sprintf("reason_%d", i))
	}
	u.UptoFailed("reason_0")                 // seen: its own series
	u.UptoFailed("Not A Reason\n")           // malformed
	u.UptoFailed(strings.Repeat("a", 65))    // too long
	u.UptoFailed("insufficient_funds" + "ü") // not ASCII
	if n := testutil.CollectAndCount(u.failures); n != 33 {
		t.Fatalf("failure series: %d, want 32 reasons and other", n)
	}
	if got := testutil.ToFloat64(u.failures.WithLabelValues("reason_0")); got != 2 {
		t.Fatalf("reason_0 = %v, want 2", got)
	}
	if got := testutil.ToFloat64(u.failures.WithLabelValues("other")); got != 68+3 {
		t.Fatalf("other = %v, want 71 (68 past the bound, 3 malformed)", got)
	}
}
