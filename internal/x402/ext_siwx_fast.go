package x402

import "unicode/utf8"

// decodeSIWXFast decodes a proof as json.Unmarshal into SIWXPayload
// would, for the shape clients send: every value of a payload field a
// string without escapes (resources an array of them), in valid UTF-8.
// raw has passed checkSIWXKeys (one valid object, no key twice, none a
// field's name in another case). It reports false, having decided
// nothing, for anything else: json.Unmarshal decodes that (a proof is
// decoded on every request it pays for; reflection costs a third of a
// recovery).
func decodeSIWXFast(raw []byte, p *SIWXPayload) bool {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return false
	}
	for i = skipSpace(raw, i+1); i < len(raw) && raw[i] != '}'; i = skipSpace(raw, i) {
		if raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
		end := skipString(raw, i)
		key := raw[i+1 : end-1]
		i = skipSpace(raw, skipSpace(raw, end)+1) // past the ':'
		var ok bool
		if i, ok = siwxField(raw, i, string(key), p); !ok {
			return false
		}
	}
	return true
}

// siwxField decodes the value at raw[i] into the field named key, or
// skips it for a key that names none; it returns the index after it.
func siwxField(raw []byte, i int, key string, p *SIWXPayload) (int, bool) {
	var dst *string
	switch key {
	case "domain":
		dst = &p.Domain
	case "address":
		dst = &p.Address
	case "uri":
		dst = &p.URI
	case "version":
		dst = &p.Version
	case "chainId":
		dst = &p.ChainID
	case "type":
		dst = &p.Type
	case "nonce":
		dst = &p.Nonce
	case "issuedAt":
		dst = &p.IssuedAt
	case "signature":
		dst = &p.Signature
	case "statement", "expirationTime", "notBefore", "requestId", "signatureScheme":
		s, end, ok := plainString(raw, i)
		if ok {
			*optionalField(key, p) = &s
		}
		return end, ok
	case "resources":
		return siwxResources(raw, i, p)
	default:
		for j := 0; j < len(key); j++ {
			if key[j] == '\\' || key[j] >= 0x80 { // read as encoding/json would unescape it
				return i, false
			}
		}
		return skipValue(raw, i), true
	}
	s, end, ok := plainString(raw, i)
	if ok {
		*dst = s
	}
	return end, ok
}

// optionalField is the optional field named key.
func optionalField(key string, p *SIWXPayload) **string {
	switch key {
	case "statement":
		return &p.Statement
	case "expirationTime":
		return &p.ExpirationTime
	case "notBefore":
		return &p.NotBefore
	case "requestId":
		return &p.RequestID
	}
	return &p.SignatureScheme
}

// siwxResources decodes an array of plain strings, as json.Unmarshal
// does: a new slice, empty for [].
func siwxResources(raw []byte, i int, p *SIWXPayload) (int, bool) {
	if i >= len(raw) || raw[i] != '[' {
		return i, false
	}
	out := []string{}
	for i = skipSpace(raw, i+1); i < len(raw) && raw[i] != ']'; i = skipSpace(raw, i) {
		if raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
		s, end, ok := plainString(raw, i)
		if !ok {
			return i, false
		}
		out = append(out, s)
		i = end
	}
	if i >= len(raw) {
		return i, false
	}
	p.Resources = out
	return i + 1, true
}

// plainString returns the JSON string at raw[i] if it has no escape and
// is valid UTF-8, so that its bytes are its value.
func plainString(raw []byte, i int) (string, int, bool) {
	if i >= len(raw) || raw[i] != '"' {
		return "", i, false
	}
	end := skipString(raw, i)
	v := raw[i+1 : end-1]
	for _, c := range v {
		if c == '\\' {
			return "", i, false
		}
	}
	if !utf8.Valid(v) {
		return "", i, false
	}
	return string(v), end, true
}

// siwxStrictFast decodes raw in the plainest shape, needing no check
// before it: one object whose keys are payload fields spelled exactly,
// each at most once, whose values are strings of printable ASCII without
// escapes (resources an array of them), and nothing after it. What it
// accepts, checkSIWXKeys passes and json.Unmarshal decodes to the same
// payload (TestDecodeSIWXStrictEqualsChecked); anything else it leaves,
// deciding nothing, to the checked path. It spares a proof in the shape
// clients send the key check's pass over the document.
func siwxStrictFast(raw []byte, p *SIWXPayload) bool {
	s := &jscan{b: raw}
	ok := s.object(siwxFields, func(k int) bool {
		switch key := siwxFields[k]; key {
		case "resources":
			return s.strings(&p.Resources)
		case "statement", "expirationTime", "notBefore", "requestId", "signatureScheme":
			v, ok := s.str()
			*optionalField(key, p) = &v
			return ok
		default:
			v, ok := s.str()
			*requiredField(key, p) = v
			return ok
		}
	})
	s.ws()
	return ok && s.i == len(raw)
}

// requiredField is the string field named key, one of the required ones.
func requiredField(key string, p *SIWXPayload) *string {
	switch key {
	case "domain":
		return &p.Domain
	case "address":
		return &p.Address
	case "uri":
		return &p.URI
	case "version":
		return &p.Version
	case "chainId":
		return &p.ChainID
	case "type":
		return &p.Type
	case "nonce":
		return &p.Nonce
	case "issuedAt":
		return &p.IssuedAt
	}
	return &p.Signature
}

// strings reads an array of jscan strings into a new slice, empty for [],
// as json.Unmarshal does.
func (s *jscan) strings(dst *[]string) bool {
	if !s.lit('[') {
		return false
	}
	out := []string{}
	if !s.lit(']') {
		for {
			v, ok := s.str()
			if !ok {
				return false
			}
			out = append(out, v)
			if s.lit(']') {
				break
			}
			if !s.lit(',') {
				return false
			}
		}
	}
	*dst = out
	return true
}
