// Package auth turns what a request presents into a meter.Principal: API
// keys (format, checksum, hashed lookup with a short cache, last-use
// bookkeeping) and the credential headers that carry them.
package auth
