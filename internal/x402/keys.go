package x402

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// wireFields are the field names of the protocol's JSON shapes (wire.go).
// Go's encoding/json matches a key to a field in any case, and the last
// of duplicate keys wins; other parsers (a facilitator's) may take the
// first, or only the exact name. checkKeys refuses whatever two parsers
// could read differently.
var wireFields = func() map[string]string {
	m := map[string]string{}
	for _, f := range []string{
		"x402Version", "scheme", "network", "payload", "signature", "authorization", "from", "to", "value",
		"validAfter", "validBefore", "nonce", "accepted", "resource", "extensions", "amount", "asset", "payTo",
		"maxTimeoutSeconds", "maxAmountRequired", "extra", "name", "version", "url", "description", "mimeType",
		// upto (upto.go)
		"permit2Authorization", "permitted", "token", "spender", "deadline", "witness", "facilitator",
		"assetTransferMethod", "facilitatorAddress",
	} {
		m[strings.ToLower(f)] = f
	}
	return m
}()

// maxJSONDepth bounds nesting: a payment is three levels deep.
const maxJSONDepth = 16

// checkKeys walks a JSON document and refuses, in any object, a key given
// twice or a key that matches a protocol field only when case is ignored
// ("Payload", "VALUE", "ſcheme" folded): x402 JSON is decoded by exact
// field names.
func checkKeys(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return walkValue(dec, 0)
}

func walkValue(dec *json.Decoder, depth int) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("JSON nested deeper than %d", maxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := kt.(string)
			if seen[key] {
				return fmt.Errorf("key %q appears twice", key)
			}
			seen[key] = true
			if want, ok := wireFields[foldKey(key)]; ok && want != key {
				return fmt.Errorf("key %q: field names are exact; want %q", key, want)
			}
			if err := walkValue(dec, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token() // '}'
		return err
	case json.Delim('['):
		for dec.More() {
			if err := walkValue(dec, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ']'
		return err
	}
	return nil
}

// foldKey lower-cases key the way encoding/json matches names: Unicode
// simple folding, under which 'ſ' is 's' and the Kelvin sign 'k'.
func foldKey(key string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case 'ſ':
			return 's'
		case '\u212a': // Kelvin sign
			return 'k'
		}
		return r
	}, strings.ToLower(key))
}
