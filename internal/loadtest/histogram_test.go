package loadtest

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestHistogramPercentiles(t *testing.T) {
	tests := []struct {
		name   string
		values func(i int) time.Duration
		n      int
		want50 time.Duration
		want99 time.Duration
	}{
		{"uniform 1us..100ms", func(i int) time.Duration { return time.Duration(i+1) * time.Microsecond * 10 }, 10000,
			50000 * time.Microsecond, 99000 * time.Microsecond},
		{"uniform 1..1000ns", func(i int) time.Duration { return time.Duration(i + 1) }, 1000, 500, 990},
		{"constant 1.234ms", func(int) time.Duration { return 1234 * time.Microsecond }, 500,
			1234 * time.Microsecond, 1234 * time.Microsecond},
		{"seconds", func(i int) time.Duration { return time.Duration(i+1) * 100 * time.Millisecond }, 100,
			5 * time.Second, 9900 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h histogram
			// Shuffled, so nothing depends on arrival order.
			for _, i := range rand.Perm(tt.n) {
				h.record(tt.values(i))
			}
			checkWithin(t, "p50", h.percentile(0.50), tt.want50, 0.02)
			checkWithin(t, "p99", h.percentile(0.99), tt.want99, 0.02)
			if got, want := h.max, tt.values(tt.n-1); got != want {
				t.Errorf("max=%s, want %s", got, want)
			}
		})
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all histogram
	for i := range 20000 {
		d := time.Duration(rand.ExpFloat64() * float64(time.Millisecond))
		all.record(d)
		if i%3 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	a.merge(&b)
	if a != all {
		t.Fatalf("merged histogram differs from one fed every sample")
	}
	if got, want := a.total, int64(20000); got != want {
		t.Fatalf("total=%d, want %d", got, want)
	}
}

func TestHistogramEdges(t *testing.T) {
	var h histogram
	if got := h.percentile(0.99); got != 0 {
		t.Fatalf("empty p99=%s, want 0", got)
	}
	h.record(-time.Second) // a clock step must not panic
	h.record(time.Hour)    // beyond the resolved range: last bucket, exact max
	if got, want := h.max, time.Hour; got != want {
		t.Fatalf("max=%s, want %s", got, want)
	}
	if p50, p99 := h.percentile(0.5), h.percentile(0.99); p50 > p99 || p99 > h.max {
		t.Fatalf("p50=%s p99=%s max=%s, want ordered", p50, p99, h.max)
	}
}

// TestBucketsContiguous checks that every value maps to a bucket whose
// midpoint is within 1/128 of it, and that bucket indexes never go down.
func TestBucketsContiguous(t *testing.T) {
	prev := 0
	for v := int64(0); v < 1<<histMaxBits; v += 1 + v/1000 {
		i := bucketOf(v)
		if i < prev {
			t.Fatalf("bucketOf(%d)=%d after %d", v, i, prev)
		}
		prev = i
		if mid := bucketMid(i); math.Abs(float64(mid-v)) > float64(v)/128+1 {
			t.Fatalf("bucketMid(bucketOf(%d))=%d, more than 1/128 away", v, mid)
		}
	}
}

func checkWithin(t *testing.T, what string, got, want time.Duration, rel float64) {
	t.Helper()
	if math.Abs(float64(got-want)) > rel*float64(want) {
		t.Errorf("%s=%s, want %s within %.0f%%", what, got, want, rel*100)
	}
}
