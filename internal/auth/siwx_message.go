package auth

import (
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// Limits of a sign-in-with-x proof's fields: nothing longer is read.
const (
	maxSIWXField     = 256  // domain, request id, a time, the statement
	maxSIWXURI       = 1024 // the URI and each resource
	maxSIWXResources = maxSIWEResources
)

// SIWXMessage is the EIP-4361 message an EVM sign-in-with-x proof signs:
// the fields of the proof in the layout @x402/extensions writes (through
// its SIWE library), which the header does not carry, so it is rebuilt
// here byte for byte. It refuses what could be written two ways or read
// as another message: a field out of printable ASCII (a newline, a
// control or any non-ASCII character), an empty optional field, a chain
// outside eip155, an address in neither EIP-55 nor lower case. The text
// must then parse back (ParseSIWE) into the same fields.
func SIWXMessage(p *x402.SIWXPayload) (string, error) {
	if !strings.HasPrefix(p.ChainID, "eip155:") || p.Type != x402.SIWXTypeEIP191 {
		return "", x402.InvalidSIWX("invalid_siwx_unsupported_chain",
			"chain %q with type %q is not supported: sign in with an eip155 chain, type eip191", clip(p.ChainID), clip(p.Type))
	}
	chainID, err := x402.ParseCAIP2(p.ChainID)
	if err != nil {
		return "", x402.InvalidSIWX("invalid_siwx_chain_id", "chainId %q is not eip155:<chain id>", clip(p.ChainID))
	}
	if err := checkSIWXFields(p); err != nil {
		return "", err
	}
	addr, checksummed, err := siwxAddress(p.Address)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(512)
	b.WriteString(p.Domain + siweHeaderSuffix + "\n" + checksummed)
	if p.Statement == nil {
		b.WriteString("\n\n")
	} else {
		b.WriteString("\n\n" + *p.Statement + "\n")
	}
	b.WriteString("\nURI: " + p.URI + "\nVersion: " + p.Version + "\nChain ID: " + p.ChainID[len("eip155:"):] +
		"\nNonce: " + p.Nonce + "\nIssued At: " + p.IssuedAt)
	for _, f := range []struct {
		name string
		v    *string
	}{{"Expiration Time", p.ExpirationTime}, {"Not Before", p.NotBefore}, {"Request ID", p.RequestID}} {
		if f.v != nil {
			b.WriteString("\n" + f.name + ": " + *f.v)
		}
	}
	if p.Resources != nil {
		b.WriteString("\nResources:")
		for _, r := range p.Resources {
			b.WriteString("\n- " + r)
		}
	}
	msg := b.String()
	if err := sameMessage(msg, p, addr, chainID); err != nil {
		return "", err
	}
	return msg, nil
}

// checkSIWXFields bounds every field to printable ASCII (the ABNF of
// EIP-4361 allows no more), and the optional ones to non-empty values.
func checkSIWXFields(p *x402.SIWXPayload) error {
	type field struct {
		name string
		v    *string
		max  int
	}
	fields := []field{{"domain", &p.Domain, maxSIWXField}, {"uri", &p.URI, maxSIWXURI}, {"version", &p.Version, 8},
		{"nonce", &p.Nonce, 64}, {"issuedAt", &p.IssuedAt, 64}, {"statement", p.Statement, maxSIWXField},
		{"expirationTime", p.ExpirationTime, 64}, {"notBefore", p.NotBefore, 64}, {"requestId", p.RequestID, maxSIWXField}}
	if p.Resources != nil && (len(p.Resources) == 0 || len(p.Resources) > maxSIWXResources) {
		return siwxPayloadErr("resources must list 1 to %d URIs", maxSIWXResources)
	}
	for i := range p.Resources {
		fields = append(fields, field{"resources", &p.Resources[i], maxSIWXURI})
	}
	for _, f := range fields {
		if f.v == nil {
			continue
		}
		if *f.v == "" || len(*f.v) > f.max {
			return siwxPayloadErr("%s must be 1 to %d characters", f.name, f.max)
		}
		for i := 0; i < len(*f.v); i++ {
			if c := (*f.v)[i]; c < 0x20 || c > 0x7e {
				return siwxPayloadErr("%s holds a character outside printable ASCII (byte %d)", f.name, i)
			}
		}
		if f.name != "statement" && strings.ContainsRune(*f.v, ' ') {
			return siwxPayloadErr("%s holds a space", f.name)
		}
	}
	return nil
}

// siwxAddress parses an EVM address written as EIP-55 or in lower case,
// and returns it with its EIP-55 form: what the message names, as the SIWE
// library writes it.
func siwxAddress(s string) (common.Address, string, error) {
	if len(s) != 42 || !strings.HasPrefix(s, "0x") || !common.IsHexAddress(s) {
		return common.Address{}, "", siwxPayloadErr("address must be 0x and 40 hex digits")
	}
	a := common.HexToAddress(s)
	checksummed := a.Hex()
	if s != checksummed && s != strings.ToLower(s) {
		return common.Address{}, "", siwxPayloadErr("address is neither EIP-55 checksummed (%s) nor lower case", checksummed)
	}
	return a, checksummed, nil
}

// sameMessage parses msg as Sign-In with Ethereum does and checks that it
// reads back as the proof's fields: what a wallet showed is what is checked.
func sameMessage(msg string, p *x402.SIWXPayload, addr common.Address, chainID int64) error {
	m, err := ParseSIWE(msg)
	if err != nil {
		return siwxPayloadErr("the message it signs is not a valid EIP-4361 message: %v", messageOf(err))
	}
	issued, _ := time.Parse(time.RFC3339Nano, p.IssuedAt)
	same := m.Domain == p.Domain && m.Scheme == "" && m.Address == addr && m.URI == p.URI && m.Version == p.Version &&
		m.ChainID == chainID && m.Nonce == p.Nonce && m.IssuedAt.Equal(issued) && m.Statement == deref(p.Statement) &&
		m.RequestID == deref(p.RequestID) && slices.Equal(m.Resources, p.Resources) &&
		sameTime(m.ExpirationTime, p.ExpirationTime) && sameTime(m.NotBefore, p.NotBefore)
	if !same {
		return siwxPayloadErr("its fields do not read back from the message they make")
	}
	return nil
}

func sameTime(t time.Time, s *string) bool {
	if s == nil {
		return t.IsZero()
	}
	u, err := time.Parse(time.RFC3339Nano, *s)
	return err == nil && t.Equal(u)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// messageOf is a meter.Error's client message, or the error's text.
func messageOf(err error) string {
	if me, ok := err.(*meter.Error); ok {
		return me.Message
	}
	return err.Error()
}

// clip bounds a client's string quoted in an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func siwxPayloadErr(format string, args ...any) error {
	return x402.InvalidSIWX(x402.ReasonSIWXPayload, "SIGN-IN-WITH-X: "+format, args...)
}
