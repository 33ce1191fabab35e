// Package httpapi is paymeter's HTTP front on fiber: the middleware chain
// (request id, access log, authentication), the metered proxy routes, and
// the one writer of error responses with its code → status table.
package httpapi
