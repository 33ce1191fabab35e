package auth

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/paymeter/paymeter/internal/meter"
)

// SIWEMessage is a parsed EIP-4361 (Sign-In with Ethereum) message.
type SIWEMessage struct {
	Scheme    string // optional, before the domain
	Domain    string
	Address   common.Address
	Statement string
	URI       string
	Version   string
	ChainID   int64
	Nonce     string
	IssuedAt  time.Time
	// Optional fields; zero when absent.
	ExpirationTime time.Time
	NotBefore      time.Time
	RequestID      string
	Resources      []string
}

// Limits of the strict parser: nothing longer is read.
const (
	maxSIWEMessage   = 4096
	maxSIWELine      = 1024
	maxSIWEResources = 16
	minNonceLen      = 8 // EIP-4361's minimum; paymeter issues 24
)

const siweHeaderSuffix = " wants you to sign in with your Ethereum account:"

// ParseSIWE parses a message in EIP-4361's fixed line order. It is strict:
// no field may be missing, repeated, reordered or too long, and every
// error is a bad_request naming the line. Both layouts of a message without
// a statement are accepted (one blank line after the address, as viem
// writes it, or two, as the ABNF says).
func ParseSIWE(msg string) (*SIWEMessage, error) {
	if len(msg) > maxSIWEMessage {
		return nil, siweErr("the message is longer than %d bytes", maxSIWEMessage)
	}
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		if len(l) > maxSIWELine {
			return nil, siweErr("line %d is longer than %d bytes", i+1, maxSIWELine)
		}
		if strings.ContainsRune(l, '\r') {
			return nil, siweErr("line %d contains a carriage return; lines end with \\n only", i+1)
		}
	}
	p := &siweParser{lines: lines}
	m := &SIWEMessage{}
	if err := p.header(m); err != nil {
		return nil, err
	}
	if err := p.statement(m); err != nil {
		return nil, err
	}
	if err := p.fields(m); err != nil {
		return nil, err
	}
	if p.i != len(p.lines) {
		return nil, siweErr("unexpected text on line %d", p.i+1)
	}
	return m, nil
}

type siweParser struct {
	lines []string
	i     int
}

func (p *siweParser) next() (string, bool) {
	if p.i >= len(p.lines) {
		return "", false
	}
	l := p.lines[p.i]
	p.i++
	return l, true
}

func (p *siweParser) peek() string {
	if p.i >= len(p.lines) {
		return ""
	}
	return p.lines[p.i]
}

func (p *siweParser) header(m *SIWEMessage) error {
	l, _ := p.next()
	authority, ok := strings.CutSuffix(l, siweHeaderSuffix)
	if !ok || authority == "" {
		return siweErr("line 1 must be \"<domain>%s\"", siweHeaderSuffix)
	}
	if scheme, rest, found := strings.Cut(authority, "://"); found {
		m.Scheme, authority = scheme, rest
	}
	if authority == "" || strings.ContainsAny(authority, " /?#@") {
		return siweErr("line 1: %q is not a domain", authority)
	}
	m.Domain = authority
	addr, _ := p.next()
	if !common.IsHexAddress(addr) || !strings.HasPrefix(addr, "0x") || len(addr) != 42 {
		return siweErr("line 2 must be an Ethereum address")
	}
	m.Address = common.HexToAddress(addr)
	if m.Address.Hex() != addr {
		return siweErr("line 2: the address must be in its EIP-55 checksummed form %s", m.Address.Hex())
	}
	if l, _ := p.next(); l != "" {
		return siweErr("line 3 must be empty")
	}
	return nil
}

// statement reads the optional statement and the blank lines around it.
func (p *siweParser) statement(m *SIWEMessage) error {
	switch l := p.peek(); {
	case strings.HasPrefix(l, "URI: "): // no statement, viem's layout
		return nil
	case l == "": // no statement, the ABNF's layout
		p.i++
		return nil
	default:
		p.i++
		m.Statement = l
		if next, _ := p.next(); next != "" {
			return siweErr("line %d, after the statement, must be empty", p.i)
		}
		return nil
	}
}

func (p *siweParser) field(name string) (string, error) {
	l, ok := p.next()
	v, found := strings.CutPrefix(l, name+": ")
	if !ok || !found || v == "" {
		return "", siweErr("line %d must be \"%s: …\"", p.i, name)
	}
	return v, nil
}

// optional reads a field if it is the next line.
func (p *siweParser) optional(name string) (string, bool, error) {
	if !strings.HasPrefix(p.peek(), name+": ") {
		return "", false, nil
	}
	v, err := p.field(name)
	return v, true, err
}

func (p *siweParser) fields(m *SIWEMessage) (err error) {
	if m.URI, err = p.field("URI"); err != nil {
		return err
	}
	if _, err := url.ParseRequestURI(m.URI); err != nil {
		return siweErr("URI %q is not a URI", m.URI)
	}
	if m.Version, err = p.field("Version"); err != nil {
		return err
	}
	chain, err := p.field("Chain ID")
	if err != nil {
		return err
	}
	if m.ChainID, err = strconv.ParseInt(chain, 10, 64); err != nil || m.ChainID <= 0 {
		return siweErr("Chain ID %q is not a positive integer", chain)
	}
	if m.Nonce, err = p.field("Nonce"); err != nil {
		return err
	}
	if !isAlphanumeric(m.Nonce) || len(m.Nonce) < minNonceLen {
		return siweErr("Nonce must be at least %d letters and digits", minNonceLen)
	}
	if m.IssuedAt, err = p.timestamp("Issued At", true); err != nil {
		return err
	}
	if m.ExpirationTime, err = p.timestamp("Expiration Time", false); err != nil {
		return err
	}
	if m.NotBefore, err = p.timestamp("Not Before", false); err != nil {
		return err
	}
	if m.RequestID, _, err = p.optional("Request ID"); err != nil {
		return err
	}
	return p.resources(m)
}

func (p *siweParser) timestamp(name string, required bool) (time.Time, error) {
	v, present, err := p.optional(name)
	switch {
	case err != nil:
		return time.Time{}, err
	case !present && required:
		return time.Time{}, siweErr("line %d must be \"%s: …\"", p.i+1, name)
	case !present:
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, siweErr("%s %q is not an RFC 3339 time", name, v)
	}
	return t, nil
}

func (p *siweParser) resources(m *SIWEMessage) error {
	if p.peek() != "Resources:" {
		return nil
	}
	p.i++
	for strings.HasPrefix(p.peek(), "- ") {
		l, _ := p.next()
		if len(m.Resources) == maxSIWEResources {
			return siweErr("more than %d resources", maxSIWEResources)
		}
		m.Resources = append(m.Resources, strings.TrimPrefix(l, "- "))
	}
	return nil
}

func isAlphanumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func siweErr(format string, args ...any) error {
	return meter.Errorf(meter.ECodeBadRequest, "SIWE message: "+format, args...)
}

// String writes m in EIP-4361's layout (the ABNF's, with two blank lines
// when there is no statement).
func (m *SIWEMessage) String() string {
	var b strings.Builder
	if m.Scheme != "" {
		b.WriteString(m.Scheme + "://")
	}
	b.WriteString(m.Domain + siweHeaderSuffix + "\n" + m.Address.Hex() + "\n\n")
	if m.Statement != "" {
		b.WriteString(m.Statement + "\n")
	}
	b.WriteString("\nURI: " + m.URI + "\nVersion: " + m.Version + "\nChain ID: " + strconv.FormatInt(m.ChainID, 10) +
		"\nNonce: " + m.Nonce + "\nIssued At: " + m.IssuedAt.Format(time.RFC3339Nano))
	if !m.ExpirationTime.IsZero() {
		b.WriteString("\nExpiration Time: " + m.ExpirationTime.Format(time.RFC3339Nano))
	}
	if !m.NotBefore.IsZero() {
		b.WriteString("\nNot Before: " + m.NotBefore.Format(time.RFC3339Nano))
	}
	if m.RequestID != "" {
		b.WriteString("\nRequest ID: " + m.RequestID)
	}
	if len(m.Resources) > 0 {
		b.WriteString("\nResources:")
		for _, r := range m.Resources {
			b.WriteString("\n- " + r)
		}
	}
	return b.String()
}
