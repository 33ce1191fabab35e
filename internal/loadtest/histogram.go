package loadtest

import (
	"math"
	"math/bits"
	"time"
)

// The histogram is HDR-style log-linear over nanoseconds: values below
// 2*histSub are counted exactly, and every octave above is cut into histSub
// equal buckets. A bucket is then at most 1/histSub (1.6%) of its lower bound
// wide, and reporting its midpoint keeps any percentile within 0.8% of the
// recorded value, at a fixed 16 KiB per worker whatever the run's length.
const (
	histSubBits = 6
	histSub     = 1 << histSubBits
	// histMax bounds what is resolved (2^35 ns, about 34 s); longer samples
	// land in the last bucket, and Max still reports them exactly.
	histMaxBits = 35
	histBuckets = (histMaxBits-histSubBits)*histSub + histSub
)

// histogram counts latencies; it is owned by one goroutine and merged after.
type histogram struct {
	counts [histBuckets]int64
	total  int64
	max    time.Duration
}

func bucketOf(ns int64) int {
	if ns < 0 {
		ns = 0
	}
	if ns < 2*histSub {
		return int(ns)
	}
	shift := bits.Len64(uint64(ns)) - (histSubBits + 1)
	i := shift*histSub + int(ns>>uint(shift))
	if i >= histBuckets {
		return histBuckets - 1
	}
	return i
}

// bucketMid is the value reported for bucket i: the midpoint of its range.
func bucketMid(i int) int64 {
	if i < 2*histSub {
		return int64(i)
	}
	shift := uint(i/histSub - 1)
	lower := int64(i%histSub+histSub) << shift
	return lower + (int64(1)<<shift)/2
}

func (h *histogram) record(d time.Duration) {
	h.counts[bucketOf(int64(d))]++
	h.total++
	if d > h.max {
		h.max = d
	}
}

func (h *histogram) merge(o *histogram) {
	for i, n := range o.counts {
		h.counts[i] += n
	}
	h.total += o.total
	if o.max > h.max {
		h.max = o.max
	}
}

// percentile returns the smallest recorded value v (to bucket precision) such
// that at least q of all samples are <= v. It never exceeds max, so
// p50 <= p99 <= max holds for any data.
func (h *histogram) percentile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.total)))
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for i, n := range h.counts {
		seen += n
		if seen >= rank {
			return min(time.Duration(bucketMid(i)), h.max)
		}
	}
	return h.max
}
