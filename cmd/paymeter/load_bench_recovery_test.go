package main

import (
	"runtime"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
)

// The unit of the paid paths' extra CPU, one secp256k1 recovery, is
// measured twice: idle, before the targets run (recoveryCPU), and under
// load, while the API-key target keeps the machine busy. On this 2-core
// machine a recovery costs about half as much again under load as idle
// (the other hyperthread, the caches and the other processes are busy),
// and so does every recovery inside paymeter while it serves: the loaded
// unit is what a paid request's own recovery costs in the same conditions
// as the CPU per request it is compared with.

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
