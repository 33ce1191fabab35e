package x402

import (
	"encoding/json"
	"strconv"
)

// A payment is decoded on every paid request, so the two costly steps of
// decodePaymentJSON have a fast form: the key check (checkKeys walks the
// document token by token through encoding/json) and the re-encoding
// (json.Marshal through reflection). Neither decides anything the slow
// form would not: cleanKeys only ever says "clean" for a document that
// checkKeys accepts (anything it is unsure of goes to checkKeys, whose
// answer and error stand), and appendPayment writes the bytes json.Marshal
// writes (both are differential-fuzzed against their slow forms).

// cleanKeys reports whether raw, which json.Valid accepts, is certainly
// clean as checkKeys judges it: no object with a key twice or a protocol
// field's name in another case, no value nested deeper than maxJSONDepth.
// A key with an escape or a byte outside ASCII makes it unsure (false):
// such keys are unescaped and folded by checkKeys.
func cleanKeys(raw []byte) bool {
	i, ok := cleanValue(raw, skipSpace(raw, 0), 0)
	return ok && skipSpace(raw, i) == len(raw)
}

// cleanValue checks the value at raw[i] (after any space), at depth, and
// returns the index after it.
func cleanValue(raw []byte, i, depth int) (int, bool) {
	if depth > maxJSONDepth || i >= len(raw) {
		return i, false
	}
	switch raw[i] {
	case '{':
		return cleanObject(raw, i, depth)
	case '[':
		i = skipSpace(raw, i+1)
		if i < len(raw) && raw[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = cleanValue(raw, i, depth+1); !ok {
				return i, false
			}
			i = skipSpace(raw, i)
			if i >= len(raw) {
				return i, false
			}
			if raw[i] == ']' {
				return i + 1, true
			}
			i = skipSpace(raw, i+1) // past ','
		}
	case '"':
		return skipString(raw, i), true
	}
	// A number, true, false or null: valid JSON, so up to the next
	// delimiter.
	for i < len(raw) && raw[i] != ',' && raw[i] != '}' && raw[i] != ']' && raw[i] != ' ' &&
		raw[i] != '\t' && raw[i] != '\n' && raw[i] != '\r' {
		i++
	}
	return i, true
}

// maxCleanKeys bounds the keys of one object that cleanKeys compares
// pairwise; an object with more goes to checkKeys.
const maxCleanKeys = 32

func cleanObject(raw []byte, i, depth int) (int, bool) {
	var keys [maxCleanKeys][]byte
	n := 0
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return i + 1, true
	}
	for {
		end := skipString(raw, i)
		if end > len(raw) || end-i < 2 || n == maxCleanKeys {
			return i, false
		}
		key := raw[i+1 : end-1]
		for _, c := range key {
			if c == '\\' || c >= 0x80 {
				return i, false
			}
		}
		for _, k := range keys[:n] {
			if string(k) == string(key) {
				return i, false
			}
		}
		keys[n] = key
		n++
		if !exactField(key) {
			return i, false
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return i, false
		}
		var ok bool
		if i, ok = cleanValue(raw, skipSpace(raw, i+1), depth+1); !ok {
			return i, false
		}
		i = skipSpace(raw, i)
		if i >= len(raw) {
			return i, false
		}
		if raw[i] == '}' {
			return i + 1, true
		}
		i = skipSpace(raw, i+1) // past ','
	}
}

// exactField reports whether an ASCII key is either no protocol field in
// any case, or one spelled exactly.
func exactField(key []byte) bool {
	var buf [24]byte
	if len(key) > len(buf) { // longer than every protocol field
		return true
	}
	lower := buf[:len(key)]
	for j, c := range key {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[j] = c
	}
	want, ok := wireFields[string(lower)]
	return !ok || want == string(key)
}

// appendPayment appends the JSON encoding of a decoded payment, v1
// (*PaymentPayloadV1) or v2 (*PaymentPayloadV2), exactly as json.Marshal
// writes it.
func appendPayment(b []byte, v any) []byte {
	switch p := v.(type) {
	case *PaymentPayloadV1:
		b = append(b, `{"x402Version":`...)
		b = strconv.AppendInt(b, int64(p.X402Version), 10)
		b = appendField(b, "scheme", p.Scheme)
		b = appendField(b, "network", p.Network)
		b = append(b, `,"payload":`...)
		b = appendExact(b, &p.Payload)
		return append(b, '}')
	case *PaymentPayloadV2:
		b = append(b, `{"x402Version":`...)
		b = strconv.AppendInt(b, int64(p.X402Version), 10)
		if r := p.Resource; r != nil {
			b = append(b, `,"resource":{"url":`...)
			b = appendString(b, r.URL)
			b = appendField(b, "description", r.Description)
			b = appendField(b, "mimeType", r.MimeType)
			b = append(b, '}')
		}
		b = append(b, `,"accepted":`...)
		b = appendRequirement(b, &p.Accepted)
		b = append(b, `,"payload":`...)
		b = appendExact(b, &p.Payload)
		if len(p.Extensions) > 0 {
			ext, err := json.Marshal(p.Extensions) // compacted and escaped, as in the struct
			if err != nil {
				return nil
			}
			b = append(append(b, `,"extensions":`...), ext...)
		}
		return append(b, '}')
	}
	return nil
}

func appendRequirement(b []byte, r *Requirement) []byte {
	b = append(b, `{"scheme":`...)
	b = appendString(b, r.Scheme)
	b = appendField(b, "network", r.Network)
	b = appendField(b, "amount", r.Amount)
	b = appendField(b, "asset", r.Asset)
	b = appendField(b, "payTo", r.PayTo)
	b = append(b, `,"maxTimeoutSeconds":`...)
	b = strconv.AppendInt(b, int64(r.MaxTimeoutSeconds), 10)
	if e := r.Extra; e != nil {
		b = append(b, `,"extra":{"name":`...)
		b = appendString(b, e.Name)
		b = appendField(b, "version", e.Version)
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendExact(b []byte, e *ExactPayload) []byte {
	a := &e.Authorization
	b = append(b, `{"signature":`...)
	b = appendString(b, e.Signature)
	b = append(b, `,"authorization":{"from":`...)
	b = appendString(b, a.From)
	b = appendField(b, "to", a.To)
	b = append(b, `,"value":"`...)
	b = a.Value.Append(b, 10)
	b = append(b, `","validAfter":"`...)
	b = a.ValidAfter.Append(b, 10)
	b = append(b, `","validBefore":"`...)
	b = a.ValidBefore.Append(b, 10)
	b = append(b, '"')
	b = appendField(b, "nonce", a.Nonce)
	return append(b, "}}"...)
}

// appendField appends ,"name":"value".
func appendField(b []byte, name, value string) []byte {
	b = append(append(append(b, ",\""...), name...), "\":"...)
	return appendString(b, value)
}

// appendString appends s as json.Marshal writes a string: as it is when
// it is printable ASCII with nothing to escape, else through json.Marshal
// itself (quotes, backslashes, control characters, the HTML characters
// <, > and &, invalid UTF-8, U+2028 and U+2029 are escaped there).
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string: cannot fail
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
