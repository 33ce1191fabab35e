package main

import (
	"runtime"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
)

// The unit of the paid paths' extra CPU, one secp256k1 recovery, is
// measured twice: idle, before the targets run (recoveryCPU), and under
// load, on a thread of this process while the API-key target keeps the
// machine busy, in the conditions of the CPU per request it is compared
// with. On the project's 2-core machine the two agree within the noise of
// a shared machine (and with what a recovery costs inside paymeter while
// it serves, timed by thread CPU around the call); the second figure
// halves the noise of the unit, which the shared machine moves by ±20%
// from one run to the next.

// loadedBatch and loadedPause make the measurement's duty cycle: a few
// percent of one core, so that it barely changes what it runs beside.
const (
	loadedBatch = 40
	loadedPause = 100 * time.Millisecond
)

// startLoadedRecovery measures recoveries on a thread of its own, a batch
// every loadedPause, until stop, which returns the CPU µs of one (0 if
// none ran).
func startLoadedRecovery() (stop func() float64) {
	key, _ := crypto.GenerateKey()
	digest := crypto.Keccak256([]byte("one recovery under load"))
	sig, _ := crypto.Sign(digest, key)
	done, result := make(chan struct{}), make(chan float64, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var cpu time.Duration
		n := 0
		t := time.NewTicker(loadedPause)
		defer t.Stop()
		for {
			select {
			case <-done:
				if n == 0 {
					result <- 0
				} else {
					result <- float64(cpu.Microseconds()) / float64(n)
				}
				return
			case <-t.C:
			}
			c0 := threadCPU()
			for range loadedBatch {
				crypto.SigToPub(digest, sig)
			}
			cpu += threadCPU() - c0
			n += loadedBatch
		}
	}()
	return func() float64 {
		close(done)
		return <-result
	}
}

// threadCPU is the CPU time the calling thread has used so far.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1, &ru) // RUSAGE_THREAD
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
