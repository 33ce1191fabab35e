// Package meter is paymeter's domain: amounts of credit, prices, accounts,
// the journal, holds, API keys, principals and the Error type every other
// package speaks. It depends on the standard library and decimal only; the
// adapters (sqlite, httpapi, upstream, auth) implement or use its
// interfaces.
package meter
