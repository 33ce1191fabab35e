package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// Every hostile proof is refused, with a stable code and reason, and none
// is claimed: a good one signed for the same challenge still goes through.
func TestSIWX_HostileProofs(t *testing.T) {
	f := newSIWXFixture(t, "")
	key := newKey(t)
	addr := crypto.PubkeyToAddress(key.PublicKey)
	long := strings.Repeat("a", 9000)
	type tc struct {
		name         string
		header       func() string
		code, reason string
	}
	signed := func(e func(p map[string]any)) func() string {
		return func() string {
			p := f.proof(t, key)
			e(p)
			return signProof(t, key, p)
		}
	}
	// unsigned edits a signed proof: what a client may not change.
	unsigned := func(e func(p map[string]any)) func() string {
		return func() string {
			p := f.proof(t, key)
			signProof(t, key, p)
			e(p)
			return header(p)
		}
	}
	raw := func(s string) func() string {
		return func() string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	}
	// withKey rewrites one key of a signed proof's JSON text.
	withKey := func(from, to string) func() string {
		return func() string {
			p := f.proof(t, key)
			signProof(t, key, p)
			b, _ := json.Marshal(p)
			return base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(b), `"`+from+`":`, `"`+to+`":`, 1)))
		}
	}
	dup := func() string {
		p := f.proof(t, key)
		signProof(t, key, p)
		b, _ := json.Marshal(p)
		return base64.StdEncoding.EncodeToString([]byte(`{"nonce":"0123456789abcdef0123456789abcdef",` + string(b[1:])))
	}
	payload := x402.ReasonSIWXPayload
	cases := []tc{
		// Form.
		{"huge", func() string { return long }, meter.ECodeInvalidSIWX, payload},
		{"not base64", func() string { return "%%%" }, meter.ECodeInvalidSIWX, payload},
		{"not JSON", raw(`{"domain":`), meter.ECodeInvalidSIWX, payload},
		{"a JSON array", raw(`[{"domain":"api.example.com"}]`), meter.ECodeInvalidSIWX, payload},
		{"trailing data", func() string {
			p := f.proof(t, key)
			signProof(t, key, p)
			b, _ := json.Marshal(p)
			return base64.StdEncoding.EncodeToString(append(b, "{}"...))
		}, meter.ECodeInvalidSIWX, payload},
		{"a key twice", dup, meter.ECodeInvalidSIWX, payload},
		{"a key in another case", withKey("domain", "Domain"), meter.ECodeInvalidSIWX, payload},
		{"a key folded (ſignature)", withKey("signature", "ſignature"), meter.ECodeInvalidSIWX, payload},
		{"resources not an array", unsigned(func(p map[string]any) { p["resources"] = "https://api.example.com/" }), meter.ECodeInvalidSIWX, payload},
		{"an unknown signatureScheme", unsigned(func(p map[string]any) { p["signatureScheme"] = "rsa" }), meter.ECodeInvalidSIWX, payload},
		// Line breaks and other bytes that could make another message.
		{"CRLF in the statement", signed(func(p map[string]any) { p["statement"] = "hi\r\nURI: https://evil.example/" }), meter.ECodeInvalidSIWX, payload},
		{"LF in the URI", unsigned(func(p map[string]any) { p["uri"] = "https://api.example.com/\nVersion: 1" }), meter.ECodeInvalidSIWX, payload},
		{"a NUL in the nonce", unsigned(func(p map[string]any) { p["nonce"] = p["nonce"].(string)[:31] + "\x00" }), meter.ECodeInvalidSIWX, payload},
		{"a statement that reads as the URI line", signed(func(p map[string]any) { p["statement"] = "URI: https://api.example.com/" }), meter.ECodeInvalidSIWX, payload},
		{"an empty statement", signed(func(p map[string]any) { p["statement"] = "" }), meter.ECodeInvalidSIWX, payload},
		{"an empty requestId", signed(func(p map[string]any) { p["requestId"] = "" }), meter.ECodeInvalidSIWX, payload},
		{"no resources in a list", signed(func(p map[string]any) { p["resources"] = []string{} }), meter.ECodeInvalidSIWX, payload},
		{"17 resources", signed(func(p map[string]any) {
			r := make([]string, 17)
			for i := range r {
				r[i] = "https://api.example.com/"
			}
			p["resources"] = r
		}), meter.ECodeInvalidSIWX, payload},
		{"a resource with a space", signed(func(p map[string]any) { p["resources"] = []string{"https://api.example.com/ x"} }), meter.ECodeInvalidSIWX, payload},
		// Unicode tricks.
		{"a Cyrillic а in the domain", unsigned(func(p map[string]any) { p["domain"] = "\u0430pi.example.com" }), meter.ECodeInvalidSIWX, payload},
		{"a right-to-left override in the statement", signed(func(p map[string]any) { p["statement"] = "Sign in \u202e" }), meter.ECodeInvalidSIWX, payload},
		{"a zero-width space in the nonce", unsigned(func(p map[string]any) { p["nonce"] = p["nonce"].(string) + "\u200b" }), meter.ECodeInvalidSIWX, payload},
		{"full-width digits in the chain", unsigned(func(p map[string]any) { p["chainId"] = "eip155:８４５３２" }), meter.ECodeInvalidSIWX, "invalid_siwx_chain_id"},
		{"an address in mixed case, not EIP-55", unsigned(func(p map[string]any) { p["address"] = "0x" + strings.ToUpper(addr.Hex()[2:]) }), meter.ECodeInvalidSIWX, payload},
		// Missing fields.
		{"no domain", unsigned(func(p map[string]any) { delete(p, "domain") }), meter.ECodeInvalidSIWX, payload},
		{"no address", unsigned(func(p map[string]any) { delete(p, "address") }), meter.ECodeInvalidSIWX, payload},
		{"no uri", unsigned(func(p map[string]any) { delete(p, "uri") }), meter.ECodeInvalidSIWX, payload},
		{"no version", unsigned(func(p map[string]any) { delete(p, "version") }), meter.ECodeInvalidSIWX, payload},
		{"no chainId", unsigned(func(p map[string]any) { delete(p, "chainId") }), meter.ECodeInvalidSIWX, payload},
		{"no type", unsigned(func(p map[string]any) { delete(p, "type") }), meter.ECodeInvalidSIWX, payload},
		{"no nonce", unsigned(func(p map[string]any) { delete(p, "nonce") }), meter.ECodeInvalidSIWX, payload},
		{"no issuedAt", unsigned(func(p map[string]any) { delete(p, "issuedAt") }), meter.ECodeInvalidSIWX, payload},
		{"no signature", unsigned(func(p map[string]any) { delete(p, "signature") }), meter.ECodeInvalidSIWX, payload},
		{"no expirationTime", signed(func(p map[string]any) { delete(p, "expirationTime") }), meter.ECodeInvalidNonce, "invalid_siwx_nonce"},
		// Other chains.
		{"solana", unsigned(func(p map[string]any) { p["chainId"], p["type"] = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "ed25519" }), meter.ECodeInvalidSIWX, "invalid_siwx_unsupported_chain"},
		{"cosmos", unsigned(func(p map[string]any) { p["chainId"] = "cosmos:cosmoshub-4" }), meter.ECodeInvalidSIWX, "invalid_siwx_unsupported_chain"},
		{"eip155 with type ed25519", unsigned(func(p map[string]any) { p["type"] = "ed25519" }), meter.ECodeInvalidSIWX, "invalid_siwx_unsupported_chain"},
		{"eip155:0", unsigned(func(p map[string]any) { p["chainId"] = "eip155:0" }), meter.ECodeInvalidSIWX, "invalid_siwx_chain_id"},
		{"eip155:084532", unsigned(func(p map[string]any) { p["chainId"] = "eip155:084532" }), meter.ECodeInvalidSIWX, "invalid_siwx_chain_id"},
		{"eip155:-1", unsigned(func(p map[string]any) { p["chainId"] = "eip155:-1" }), meter.ECodeInvalidSIWX, "invalid_siwx_chain_id"},
		{"a chain not configured", signed(func(p map[string]any) { p["chainId"] = "eip155:1" }), meter.ECodeInvalidSIWX, "invalid_siwx_chain_id"},
		// Not for this server.
		{"another domain", signed(func(p map[string]any) { p["domain"] = "evil.example" }), meter.ECodeInvalidSIWX, "invalid_siwx_domain_mismatch"},
		{"the domain with its default port", signed(func(p map[string]any) { p["domain"] = "api.example.com:443" }), meter.ECodeInvalidSIWX, "invalid_siwx_domain_mismatch"},
		{"a URI over http", signed(func(p map[string]any) { p["uri"] = "http://api.example.com/v1/chat/completions" }), meter.ECodeInvalidSIWX, "invalid_siwx_uri_mismatch"},
		{"a URI with user info", signed(func(p map[string]any) { p["uri"] = "https://evil@api.example.com/v1/chat/completions" }), meter.ECodeInvalidSIWX, "invalid_siwx_uri_mismatch"},
		{"a URI on a sub-domain", signed(func(p map[string]any) { p["uri"] = "https://api.example.com.evil.example/" }), meter.ECodeInvalidSIWX, "invalid_siwx_uri_mismatch"},
		{"version 2", signed(func(p map[string]any) { p["version"] = "2" }), meter.ECodeInvalidSIWX, "invalid_siwx_version"},
		// Not paymeter's challenge.
		{"a nonce of the client's", signed(func(p map[string]any) { p["nonce"] = "0123456789abcdef0123456789abcdef" }), meter.ECodeInvalidNonce, "invalid_siwx_nonce"},
		{"the nonce in upper case", signed(func(p map[string]any) { p["nonce"] = strings.ToUpper(p["nonce"].(string)) }), meter.ECodeInvalidNonce, "invalid_siwx_nonce"},
		{"a later expiry", signed(func(p map[string]any) {
			p["expirationTime"] = f.now.Add(time.Hour).Format("2006-01-02T15:04:05.000Z")
		}), meter.ECodeInvalidNonce, "invalid_siwx_nonce"},
		{"issuedAt rewritten (same instant)", signed(func(p map[string]any) {
			p["issuedAt"] = f.now.Format(time.RFC3339)
		}), meter.ECodeInvalidNonce, "invalid_siwx_nonce"},
		// Not the wallet's signature.
		{"another key's signature", func() string {
			p := f.proof(t, key)
			return signProof(t, newKey(t), p)
		}, meter.ECodeInvalidSignature, "invalid_siwx_signature"},
		{"a statement changed after signing", unsigned(func(p map[string]any) { p["statement"] = "Something else." }), meter.ECodeInvalidSignature, "invalid_siwx_signature"},
		{"resources reordered after signing", func() string {
			p := f.proof(t, key)
			p["resources"] = []string{"https://api.example.com/a", "https://api.example.com/b"}
			signProof(t, key, p)
			p["resources"] = []string{"https://api.example.com/b", "https://api.example.com/a"}
			return header(p)
		}, meter.ECodeInvalidSignature, "invalid_siwx_signature"},
		{"a high-s signature", func() string {
			p := f.proof(t, key)
			signProof(t, key, p)
			p["signature"] = highS(t, p["signature"].(string))
			return header(p)
		}, meter.ECodeInvalidSignature, "invalid_siwx_signature"},
		{"a signature without 0x", unsigned(func(p map[string]any) { p["signature"] = p["signature"].(string)[2:] }), meter.ECodeInvalidSignature, "invalid_siwx_signature"},
		{"a 64-byte signature", unsigned(func(p map[string]any) { p["signature"] = p["signature"].(string)[:130] }), meter.ECodeInvalidSignature, "invalid_siwx_signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.s.Authenticate(context.Background(), c.header(), "")
			if code, reason := refusal(err); code != c.code || reason != c.reason {
				t.Fatalf("err=%v, want %s %s", err, c.code, c.reason)
			}
		})
	}
	accts, _ := f.ledger.FindAccounts(context.Background(), meter.AccountWallet)
	if len(accts) != 0 {
		t.Fatalf("refused proofs created %d accounts", len(accts))
	}
	// JSON's order is not the message's: keys in any order, a lower-case
	// address, unknown keys (ignored, unsigned) are the same proof.
	p := f.proof(t, key)
	p["address"] = strings.ToLower(addr.Hex())
	h := signProof(t, key, p)
	b, _ := base64.StdEncoding.DecodeString(h)
	var m map[string]json.RawMessage
	json.Unmarshal(b, &m)
	var reordered strings.Builder
	reordered.WriteString(`{"futureField":{"x":[1,2]}`)
	for _, k := range []string{"signature", "resources", "expirationTime", "issuedAt", "nonce", "type", "chainId", "version", "uri", "statement", "address", "domain"} {
		reordered.WriteString(`,"` + k + `":` + string(m[k]))
	}
	reordered.WriteString("}")
	if pr, err := f.s.Authenticate(context.Background(), base64.StdEncoding.EncodeToString([]byte(reordered.String())), ""); err != nil || pr.Label != addr.Hex() {
		t.Fatalf("reordered proof: %v %v", pr, err)
	}
}

// highS returns a signature's other form (s ↦ n−s, v flipped).
func highS(t *testing.T, sig string) string {
	b := common.FromHex(sig)
	s := new(big.Int).SetBytes(b[32:64])
	s.Sub(crypto.S256().Params().N, s)
	s.FillBytes(b[32:64])
	b[64] ^= 1
	return "0x" + hex.EncodeToString(b)
}
