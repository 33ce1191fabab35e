// Package loadtest drives HTTP load at a loopback target and measures it, so
// that one benchmark run can compare the demo upstream direct, a bare fiber
// proxy hop in front of it (NewBareHop), and paymeter itself (docs/design.md §8).
//
// Every figure of §8 is a ratio taken in one run on a 2-core machine where the
// load generator, the proxy and the upstream share the CPU, so the driver is
// built to cost as little as possible: one keep-alive connection and one
// goroutine per simulated client, the request serialised once and written as
// the same bytes every time, responses parsed by fasthttp into a reused
// Response, and latencies kept in a fixed-size log-linear histogram per worker
// rather than a slice of samples.
//
// Only loopback targets are accepted: this environment allows no other
// traffic, and a load generator pointed elsewhere by mistake would be an attack.
package loadtest
