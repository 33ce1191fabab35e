//go:build race

package httpapi

// raceEnabled is set when tests run under the race detector, which slows
// single-threaded loops tenfold without checking anything more in them.
const raceEnabled = true
