package x402

import "encoding/json"

// A fast path for decoding an exact payment, as upto_fast.go is for upto:
// one pass over the bytes for the plain shape clients send (exact field
// names, each once, plain ASCII strings; extensions kept as their raw
// JSON, as json.RawMessage keeps them), filling the same
// struct json.Unmarshal would. Whatever it does not recognise goes to the
// general decoder, which accepts or refuses exactly as before
// (TestDecodeExactFastEqualsSlowOnMutations compares both, to the stored
// bytes).

var (
	fastV1Keys        = []string{"x402Version", "scheme", "network", "payload"}
	fastV2Keys        = []string{"x402Version", "resource", "accepted", "payload", "extensions"}
	fastExactKeys     = []string{"signature", "authorization"}
	fastExactAuthKeys = []string{"from", "to", "value", "validAfter", "validBefore", "nonce"}
)

// allOf is the mask of n keys, every one of which must be present.
func allOf(n int) uint32 { return 1<<n - 1 }

// fastExactV1 parses raw in the plain v1 shape into v.
func fastExactV1(raw []byte, v *PaymentPayloadV1) bool {
	s := &jscan{b: raw}
	var got uint32
	ok := s.object(fastV1Keys, func(k int) bool {
		got |= 1 << k
		switch k {
		case 0:
			n, ok := s.int()
			v.X402Version = n
			return ok
		case 3:
			return s.fastExactPayload(&v.Payload)
		}
		return s.strTo([]*string{nil, &v.Scheme, &v.Network}[k])
	})
	s.ws()
	return ok && s.i == len(raw) && got == allOf(len(fastV1Keys))
}

// fastExactV2 parses raw in the plain v2 shape into v.
func fastExactV2(raw []byte, v *PaymentPayloadV2) bool {
	s := &jscan{b: raw}
	var got uint32
	ok := s.object(fastV2Keys, func(k int) bool {
		got |= 1 << k
		switch {
		case k <= 2:
			return s.v2Common(k, &v.X402Version, &v.Resource, &v.Accepted)
		case k == 3:
			return s.fastExactPayload(&v.Payload)
		}
		return s.rawObject(&v.Extensions)
	})
	s.ws()
	const need = 1<<0 | 1<<2 | 1<<3 // the resource and the extensions are optional
	return ok && s.i == len(raw) && got&need == need
}

func (s *jscan) fastExactPayload(p *ExactPayload) bool {
	var got uint32
	ok := s.object(fastExactKeys, func(k int) bool {
		got |= 1 << k
		if k == 0 {
			return s.strTo(&p.Signature)
		}
		a := &p.Authorization
		var fields uint32
		ok := s.object(fastExactAuthKeys, func(k int) bool {
			fields |= 1 << k
			switch k {
			case 2:
				return s.uint256(&a.Value)
			case 3:
				return s.uint256(&a.ValidAfter)
			case 4:
				return s.uint256(&a.ValidBefore)
			}
			return s.strTo([]*string{&a.From, &a.To, nil, nil, nil, &a.Nonce}[k])
		})
		return ok && fields == allOf(len(fastExactAuthKeys))
	})
	return ok && got == allOf(len(fastExactKeys))
}

// rawObject reads an object, at depth 1 of its document, into dst as its
// bytes, as json.RawMessage does: only one that json.Valid accepts and
// whose keys cleanValue finds certainly clean, as the general decoder's
// key check would over the whole document.
func (s *jscan) rawObject(dst *json.RawMessage) bool {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return false
	}
	start := s.i
	end, ok := cleanValue(s.b, start, 1)
	if !ok || end > len(s.b) || !json.Valid(s.b[start:end]) {
		return false
	}
	*dst = append(json.RawMessage(nil), s.b[start:end]...)
	s.i = end
	return true
}
