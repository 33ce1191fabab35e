// Package auth turns what a request presents into a meter.Principal: API
// keys (format, checksum, hashed lookup with a short cache) and the
// credential headers that carry them. Later: wallet signatures, SIWE,
// session tokens and JWTs.
package auth
