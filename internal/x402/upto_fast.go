package x402

import (
	"math/big"
	"strconv"
)

// A fast path for decoding an upto payment: one pass over the bytes, for
// the plain shape every client sends (exact field names, each once, plain
// ASCII strings, no extensions). Whatever it does not recognise, it leaves
// to the strict general decoder (DecodeUptoJSON's slow path), which then
// accepts or refuses exactly as before: the fast path never refuses, and
// what it accepts the general decoder accepts the same way
// (FuzzDecodeUptoFastEqualsSlow checks both, to the stored bytes).

// jscan reads JSON from b at i; every method returns false on anything
// outside the plain shape.
type jscan struct {
	b []byte
	i int
}

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// lit consumes c after whitespace.
func (s *jscan) lit(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string of printable ASCII with nothing to escape, in
// decoding (no backslash) or in encoding (no <, > or &, which json.Marshal
// escapes): such a string is the same bytes in and out.
func (s *jscan) str() (string, bool) {
	if !s.lit('"') {
		return "", false
	}
	start := s.i
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			v := string(s.b[start:s.i])
			s.i++
			return v, true
		case c < 0x20 || c > 0x7e || c == '\\' || c == '<' || c == '>' || c == '&':
			return "", false
		}
	}
	return "", false
}

// int reads a non-negative integer without sign, fraction or exponent.
func (s *jscan) int() (int, bool) {
	s.ws()
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	d := s.b[start:s.i]
	if len(d) == 0 || len(d) > 9 || (d[0] == '0' && len(d) > 1) {
		return 0, false
	}
	n, err := strconv.Atoi(string(d))
	return n, err == nil
}

// uint256 reads a quoted decimal uint256, as Uint does.
func (s *jscan) uint256(u *Uint) bool {
	v, ok := s.str()
	if !ok || len(v) == 0 || len(v) > 78 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	_, ok = u.SetString(v, 10)
	return ok && u.Cmp(maxUint256) <= 0
}

// object reads an object whose keys are among keys, each at most once;
// field reads the value of keys[k].
func (s *jscan) object(keys []string, field func(k int) bool) bool {
	if !s.lit('{') {
		return false
	}
	var seen uint32
	if s.lit('}') {
		return true
	}
	for {
		key, ok := s.str()
		if !ok || !s.lit(':') {
			return false
		}
		k := indexOf(keys, key)
		if k < 0 || seen&(1<<k) != 0 || !field(k) {
			return false
		}
		seen |= 1 << k
		if s.lit('}') {
			return true
		}
		if !s.lit(',') {
			return false
		}
	}
}

func indexOf(keys []string, key string) int {
	for i, k := range keys {
		if k == key {
			return i
		}
	}
	return -1
}

// strTo reads a string into dst.
func (s *jscan) strTo(dst *string) bool {
	v, ok := s.str()
	*dst = v
	return ok
}

var (
	fastTopKeys      = []string{"x402Version", "resource", "accepted", "payload"}
	fastResourceKeys = []string{"url", "description", "mimeType"}
	fastAcceptedKeys = []string{"scheme", "network", "amount", "asset", "payTo", "maxTimeoutSeconds", "extra"}
	fastExtraKeys    = []string{"name", "version", "assetTransferMethod", "facilitatorAddress"}
	fastPayloadKeys  = []string{"signature", "permit2Authorization"}
	fastPermitKeys   = []string{"from", "permitted", "spender", "nonce", "deadline", "witness"}
	fastTokenKeys    = []string{"token", "amount"}
	fastWitnessKeys  = []string{"to", "facilitator", "validAfter"}
)

// fastUpto parses raw in the plain shape into v; false to leave raw to the
// general decoder.
func fastUpto(raw []byte, v *canonicalUpto) bool {
	s := &jscan{b: raw}
	var got uint32
	ok := s.object(fastTopKeys, func(k int) bool {
		got |= 1 << k
		if k <= 2 {
			return s.v2Common(k, &v.X402Version, &v.Resource, &v.Accepted)
		}
		return s.fastPayload(&v.Payload)
	})
	s.ws()
	return ok && s.i == len(raw) && got&(1<<2|1<<3) == 1<<2|1<<3
}

// v2Common reads what every v2 payment has, keys 0 to 2 of fastTopKeys
// and fastV2Keys: x402Version, resource and accepted.
func (s *jscan) v2Common(k int, version *int, resource **Resource, accepted *Requirement) bool {
	switch k {
	case 0:
		n, ok := s.int()
		*version = n
		return ok
	case 1:
		*resource = &Resource{}
		return s.fastResource(*resource)
	}
	return s.fastAccepted(accepted)
}

func (s *jscan) fastResource(r *Resource) bool {
	return s.object(fastResourceKeys, func(k int) bool {
		return s.strTo([]*string{&r.URL, &r.Description, &r.MimeType}[k])
	})
}

func (s *jscan) fastAccepted(a *Requirement) bool {
	return s.object(fastAcceptedKeys, func(k int) bool {
		switch k {
		case 5:
			n, ok := s.int()
			a.MaxTimeoutSeconds = n
			return ok
		case 6:
			e := &TokenDomain{}
			a.Extra = e
			return s.object(fastExtraKeys, func(k int) bool {
				return s.strTo([]*string{&e.Name, &e.Version, &e.AssetTransferMethod, &e.FacilitatorAddress}[k])
			})
		}
		return s.strTo([]*string{&a.Scheme, &a.Network, &a.Amount, &a.Asset, &a.PayTo}[k])
	})
}

func (s *jscan) fastPayload(p *UptoPayloadJSON) bool {
	a := &p.Permit2Authorization
	return s.object(fastPayloadKeys, func(k int) bool {
		if k == 0 {
			return s.strTo(&p.Signature)
		}
		return s.object(fastPermitKeys, func(k int) bool {
			switch k {
			case 1:
				return s.object(fastTokenKeys, func(k int) bool {
					if k == 0 {
						return s.strTo(&a.Permitted.Token)
					}
					return s.uint256(&a.Permitted.Amount)
				})
			case 4:
				return s.uint256(&a.Deadline)
			case 5:
				return s.object(fastWitnessKeys, func(k int) bool {
					if k == 2 {
						return s.uint256(&a.Witness.ValidAfter)
					}
					return s.strTo([]*string{&a.Witness.To, &a.Witness.Facilitator}[k])
				})
			}
			return s.strTo([]*string{&a.From, nil, &a.Spender, &a.Nonce}[k])
		})
	})
}

// appendCanonicalUpto appends what json.Marshal(v) gives, for a v that
// fastUpto filled (every string plain, no extensions) and a decimal nonce.
func appendCanonicalUpto(b []byte, v *canonicalUpto) []byte {
	q := func(key, val string) {
		b = append(b, '"')
		b = append(b, key...)
		b = append(b, `":"`...)
		b = append(b, val...)
		b = append(b, '"')
	}
	u := func(key string, x *big.Int) {
		b = append(b, '"')
		b = append(b, key...)
		b = append(b, `":"`...)
		b = x.Append(b, 10)
		b = append(b, '"')
	}
	b = append(b, `{"x402Version":`...)
	b = strconv.AppendInt(b, int64(v.X402Version), 10)
	if r := v.Resource; r != nil {
		b = append(b, `,"resource":{`...)
		q("url", r.URL)
		b = append(b, ',')
		q("description", r.Description)
		b = append(b, ',')
		q("mimeType", r.MimeType)
		b = append(b, '}')
	}
	a := &v.Accepted
	b = append(b, `,"accepted":{`...)
	for i, f := range [5][2]string{{"scheme", a.Scheme}, {"network", a.Network}, {"amount", a.Amount}, {"asset", a.Asset}, {"payTo", a.PayTo}} {
		if i > 0 {
			b = append(b, ',')
		}
		q(f[0], f[1])
	}
	b = append(b, `,"maxTimeoutSeconds":`...)
	b = strconv.AppendInt(b, int64(a.MaxTimeoutSeconds), 10)
	if e := a.Extra; e != nil {
		b = append(b, `,"extra":{`...)
		q("name", e.Name)
		b = append(b, ',')
		q("version", e.Version)
		if e.AssetTransferMethod != "" {
			b = append(b, ',')
			q("assetTransferMethod", e.AssetTransferMethod)
		}
		if e.FacilitatorAddress != "" {
			b = append(b, ',')
			q("facilitatorAddress", e.FacilitatorAddress)
		}
		b = append(b, '}')
	}
	p := &v.Payload.Permit2Authorization
	b = append(b, `},"payload":{`...)
	q("signature", v.Payload.Signature)
	b = append(b, `,"permit2Authorization":{`...)
	q("from", p.From)
	b = append(b, `,"permitted":{`...)
	q("token", p.Permitted.Token)
	b = append(b, ',')
	u("amount", &p.Permitted.Amount.Int)
	b = append(b, "},"...)
	q("spender", p.Spender)
	b = append(b, ',')
	q("nonce", p.Nonce)
	b = append(b, ',')
	u("deadline", &p.Deadline.Int)
	b = append(b, `,"witness":{`...)
	q("to", p.Witness.To)
	b = append(b, ',')
	q("facilitator", p.Witness.Facilitator)
	b = append(b, ',')
	u("validAfter", &p.Witness.ValidAfter.Int)
	return append(b, "}}}}"...)
}
