package loadtest

import (
	"context"
	"testing"
	"time"
)

func TestManualScale(t *testing.T) {
	up := startServer(t, okHandler)
	for _, c := range []int{256, 16, 64, 128, 256, 64} {
		res, err := Run(context.Background(), Target{URL: up + "/"}, Options{Connections: c, Duration: 2 * time.Second, Warmup: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("conns=%d: %s", c, res)
	}
}
