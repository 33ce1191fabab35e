package x402

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/paymeter/paymeter/internal/meter"
)

// The sign-in-with-x extension (x402 specs/extensions/sign-in-with-x): a
// 402 declares a CAIP-122 challenge, and a client that signs it sends the
// proof in the SIGN-IN-WITH-X header instead of paying. This file is its
// wire format; what a proof must say is package auth's (docs/design.md §3).
const (
	ExtensionSIWX = "sign-in-with-x"
	HeaderSIWX    = "SIGN-IN-WITH-X"
)

// SIWXInfo is the challenge a server declares: what the message to sign
// says, beside the chain and the address the client adds.
type SIWXInfo struct {
	Domain         string   `json:"domain"`
	URI            string   `json:"uri"`
	Version        string   `json:"version"`
	Nonce          string   `json:"nonce"`
	IssuedAt       string   `json:"issuedAt"`
	ExpirationTime string   `json:"expirationTime,omitempty"`
	Statement      string   `json:"statement,omitempty"`
	Resources      []string `json:"resources,omitempty"`
}

// SIWXChain is one chain a server accepts sign-ins for.
type SIWXChain struct {
	ChainID string `json:"chainId"` // CAIP-2, "eip155:8453"
	Type    string `json:"type"`    // "eip191" for EVM chains
}

// SIWXDeclaration is the value of extensions["sign-in-with-x"] in a 402.
type SIWXDeclaration struct {
	Info            SIWXInfo        `json:"info"`
	SupportedChains []SIWXChain     `json:"supportedChains"`
	Schema          json.RawMessage `json:"schema"`
}

// siwxSchema is the JSON Schema of a proof, as the spec declares it.
var siwxSchema = json.RawMessage(`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",` +
	`"properties":{"domain":{"type":"string"},"address":{"type":"string"},"statement":{"type":"string"},` +
	`"uri":{"type":"string","format":"uri"},"version":{"type":"string"},"chainId":{"type":"string"},` +
	`"type":{"type":"string"},"nonce":{"type":"string"},"issuedAt":{"type":"string","format":"date-time"},` +
	`"expirationTime":{"type":"string","format":"date-time"},"notBefore":{"type":"string","format":"date-time"},` +
	`"requestId":{"type":"string"},"resources":{"type":"array","items":{"type":"string","format":"uri"}},` +
	`"signature":{"type":"string"}},` +
	`"required":["domain","address","uri","version","chainId","type","nonce","issuedAt","signature"]}`)

// DeclareSIWX returns the declaration of info for EVM sign-ins on the
// networks given, each once, in their order: clients sign for the chain of
// the first requirement they can pay, so every network is offered.
func DeclareSIWX(info SIWXInfo, networks []*Network) json.RawMessage {
	d := SIWXDeclaration{Info: info, Schema: siwxSchema}
	seen := map[string]bool{}
	for _, n := range networks {
		if id := n.CAIP2(); !seen[id] {
			seen[id] = true
			d.SupportedChains = append(d.SupportedChains, SIWXChain{ChainID: id, Type: SIWXTypeEIP191})
		}
	}
	b, _ := json.Marshal(d) // plain structs: cannot fail
	return b
}

// SIWXTypeEIP191 is the signature type of EVM sign-ins: personal_sign of
// an EIP-4361 message (or a contract wallet's EIP-1271 answer for it).
const SIWXTypeEIP191 = "eip191"

// SIWXPayload is a decoded SIGN-IN-WITH-X header: the challenge echoed,
// the chain and address, and the signature. The optional fields are nil
// when absent, for the message names a present field even when empty.
type SIWXPayload struct {
	Domain          string   `json:"domain"`
	Address         string   `json:"address"`
	Statement       *string  `json:"statement,omitempty"`
	URI             string   `json:"uri"`
	Version         string   `json:"version"`
	ChainID         string   `json:"chainId"`
	Type            string   `json:"type"`
	Nonce           string   `json:"nonce"`
	IssuedAt        string   `json:"issuedAt"`
	ExpirationTime  *string  `json:"expirationTime,omitempty"`
	NotBefore       *string  `json:"notBefore,omitempty"`
	RequestID       *string  `json:"requestId,omitempty"`
	Resources       []string `json:"resources,omitempty"`
	SignatureScheme *string  `json:"signatureScheme,omitempty"`
	Signature       string   `json:"signature"`
}

// siwxFields are the payload's keys. Any other key is ignored, as newer
// clients may add some, but a key that is one of these in another case is
// refused, as is any key twice: encoding/json would take the last, in any
// case, and another parser something else.
var siwxFields = []string{"domain", "address", "statement", "uri", "version", "chainId", "type", "nonce",
	"issuedAt", "expirationTime", "notBefore", "requestId", "resources", "signatureScheme", "signature"}

// siwxSchemes are the values the spec allows signatureScheme, a hint.
var siwxSchemes = map[string]bool{"eip191": true, "eip1271": true, "eip6492": true, "siws": true}

// InvalidSIWX returns a 401 invalid_siwx error with the reason given
// (the reasons are those of @x402/extensions: "invalid_siwx_…").
func InvalidSIWX(reason, format string, args ...any) *meter.Error {
	return meter.Errorf(meter.ECodeInvalidSIWX, format, args...).WithDetail("reason", reason)
}

// ReasonSIWXPayload is the reason of a header that is not a proof.
const ReasonSIWXPayload = "invalid_siwx_payload"

// DecodeSIWX decodes a SIGN-IN-WITH-X header: base64 JSON of the shape
// above, with every required field present. It checks the shape only;
// package auth checks what the fields say.
func DecodeSIWX(header string) (*SIWXPayload, error) {
	if len(header) > MaxHeaderBytes {
		return nil, InvalidSIWX(ReasonSIWXPayload, "%s is longer than %d bytes", HeaderSIWX, MaxHeaderBytes)
	}
	raw, err := decodeBase64(header)
	if err != nil {
		return nil, InvalidSIWX(ReasonSIWXPayload, "%s is not base64", HeaderSIWX)
	}
	p, err := decodeSIWXJSON(raw, true)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, v string }{{"domain", p.Domain}, {"address", p.Address}, {"uri", p.URI},
		{"version", p.Version}, {"chainId", p.ChainID}, {"type", p.Type}, {"nonce", p.Nonce},
		{"issuedAt", p.IssuedAt}, {"signature", p.Signature}} {
		if f.v == "" {
			return nil, InvalidSIWX(ReasonSIWXPayload, "%s lacks %q", HeaderSIWX, f.name)
		}
	}
	if p.SignatureScheme != nil && !siwxSchemes[*p.SignatureScheme] {
		return nil, InvalidSIWX(ReasonSIWXPayload, "signatureScheme %q is not one of eip191, eip1271, eip6492, siws", *p.SignatureScheme)
	}
	return p, nil
}

// decodeSIWXJSON decodes a proof's JSON: by the strict one-pass decoder
// when strict and it takes it, else checked (checkSIWXKeys) and decoded as
// encoding/json reads it (ext_siwx_fast.go).
func decodeSIWXJSON(raw []byte, strict bool) (*SIWXPayload, error) {
	var p SIWXPayload
	if strict && siwxStrictFast(raw, &p) {
		return &p, nil
	}
	p = SIWXPayload{}
	if err := checkSIWXKeys(raw); err != nil {
		return nil, InvalidSIWX(ReasonSIWXPayload, "%s: %v", HeaderSIWX, err)
	}
	if !decodeSIWXFast(raw, &p) {
		p = SIWXPayload{}
		if err := json.Unmarshal(raw, &p); err != nil { // one value: checkSIWXKeys saw json.Valid
			return nil, InvalidSIWX(ReasonSIWXPayload, "%s is not a sign-in-with-x proof: %v", HeaderSIWX, err)
		}
	}
	return &p, nil
}

// siwxExact maps the folded form of each payload key to the key.
var siwxExact = func() map[string]string {
	m := make(map[string]string, len(siwxFields))
	for _, f := range siwxFields {
		m[foldKey(f)] = f
	}
	return m
}()

// checkSIWXKeys refuses a payload that is not one JSON object, or whose
// object has a key twice or a payload key in another case ("Domain",
// "ſignature", "\u0064omain" is "domain" and counts as it). Only the top
// level is looked at: nothing below it is read.
func checkSIWXKeys(raw []byte) error {
	if !json.Valid(raw) {
		return fmt.Errorf("not JSON")
	}
	keys, err := topKeys(raw)
	if err != nil {
		return err
	}
	for i, key := range keys {
		if slices.Contains(keys[:i], key) { // a proof has a dozen keys: no map
			return fmt.Errorf("key %q appears twice", key)
		}
		if want, ok := siwxFieldOf(key); ok && want != key {
			return fmt.Errorf("key %q: field names are exact; want %q", key, want)
		}
	}
	return nil
}

// siwxFieldOf is the payload field key names when case is ignored, as
// siwxExact[foldKey(key)], without foldKey's allocations for the usual
// key: plain ASCII folds by lower-casing alone (ſ and the Kelvin sign
// are not ASCII).
func siwxFieldOf(key string) (string, bool) {
	var buf [24]byte
	if len(key) > len(buf) || !plainKey(key) {
		want, ok := siwxExact[foldKey(key)]
		return want, ok
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	want, ok := siwxExact[string(buf[:len(key)])]
	return want, ok
}

// topKeys returns the keys, unescaped, of the object raw holds; raw is
// valid JSON (json.Valid), so the scan need not check the grammar.
func topKeys(raw []byte) ([]string, error) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, fmt.Errorf("not a JSON object")
	}
	var keys []string
	for i = skipSpace(raw, i+1); i < len(raw) && raw[i] != '}'; i = skipSpace(raw, i) {
		if raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
		end := skipString(raw, i)
		key := string(raw[i+1 : end-1])
		if !plainKey(key) { // read it as encoding/json does
			key = ""
			if err := json.Unmarshal(raw[i:end], &key); err != nil {
				return nil, err
			}
		}
		keys = append(keys, key)
		i = skipValue(raw, skipSpace(raw, end)+1) // past the ':'
	}
	return keys, nil
}

// plainKey reports whether key reads the same raw and unescaped: ASCII
// without escapes.
func plainKey(key string) bool {
	for i := 0; i < len(key); i++ {
		if key[i] == '\\' || key[i] >= 0x80 {
			return false
		}
	}
	return true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// skipValue returns the index after the value at or after b[i].
func skipValue(b []byte, i int) int {
	i = skipSpace(b, i)
	depth := 0
	for i < len(b) {
		switch c := b[i]; {
		case c == '"':
			i = skipString(b, i)
		case c == '{' || c == '[':
			depth++
			i++
		case c == '}' || c == ']':
			if depth == 0 {
				return i
			}
			depth--
			i++
		case c == ',' && depth == 0:
			return i
		default:
			i++
		}
		if depth == 0 && i < len(b) && (b[i] == ',' || b[i] == '}') {
			return i
		}
	}
	return i
}

// EncodeSIWX is the header value of a proof: base64 of its JSON.
func EncodeSIWX(p *SIWXPayload) string { return encodeJSON(p) }
