package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"hash/crc32"
	"math/big"
	"strings"

	"github.com/paymeter/paymeter/internal/meter"
)

// API key format (docs/design.md §3):
//
//	pm_live_ | 43 base62 chars: 32 random bytes | 6 base62 chars: CRC32 of everything before
//
// The checksum lets a malformed or mistyped key be refused before any
// database lookup, and lets secret scanners recognise a real key.
const (
	LiveKeyPrefix = "pm_live_"
	TestKeyPrefix = "pm_test_"

	keyBodyLen     = 43 // ceil(256 / log2(62))
	keyChecksumLen = 6  // ceil(32 / log2(62))
	keyLen         = len(LiveKeyPrefix) + keyBodyLen + keyChecksumLen

	// DisplayLen is how much of a key may be shown in logs and listings.
	DisplayLen = 12
)

const base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// GenerateKey returns a new random API key: a live key, or a test key when
// test is set.
func GenerateKey(test bool) string {
	prefix := LiveKeyPrefix
	if test {
		prefix = TestKeyPrefix
	}
	return generate(prefix)
}

// generate returns prefix, 32 random bytes in base62 and the checksum.
func generate(prefix string) string {
	var secret [32]byte
	rand.Read(secret[:]) // never returns an error (crypto/rand, Go ≥ 1.24)
	body := prefix + base62(new(big.Int).SetBytes(secret[:]), keyBodyLen)
	sum := checksum(body)
	return body + string(sum[:])
}

// IsKeyShaped reports whether s looks like an API key (by its prefix), so
// that the caller can route it to key checking rather than another scheme.
func IsKeyShaped(s string) bool {
	return strings.HasPrefix(s, LiveKeyPrefix) || strings.HasPrefix(s, TestKeyPrefix)
}

// CheckKeyFormat validates a key's prefix, length, alphabet and checksum,
// with no lookup. It returns an invalid_api_key error that never repeats
// the key.
func CheckKeyFormat(s string) error {
	if !IsKeyShaped(s) {
		return meter.Errorf(meter.ECodeInvalidAPIKey, "malformed API key")
	}
	switch checkFormat(s) {
	case errMalformed:
		return meter.Errorf(meter.ECodeInvalidAPIKey, "malformed API key")
	case errChecksum:
		return meter.Errorf(meter.ECodeInvalidAPIKey, "API key checksum mismatch")
	}
	return nil
}

type formatError uint8

const (
	formatOK formatError = iota
	errMalformed
	errChecksum
)

// checkFormat checks the length, alphabet and checksum of a key or token
// whose 8-character prefix the caller has checked.
func checkFormat(s string) formatError {
	if len(s) != keyLen {
		return errMalformed
	}
	for i := len(LiveKeyPrefix); i < len(s); i++ {
		if !isBase62[s[i]] {
			return errMalformed
		}
	}
	body := s[:len(s)-keyChecksumLen]
	if sum := checksum(body); string(sum[:]) != s[len(body):] {
		return errChecksum
	}
	return formatOK
}

// HashKey returns the SHA-256 of a key: the only form in which keys are stored.
func HashKey(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// DisplayKey returns the part of a key that may be shown: its first 12 characters.
func DisplayKey(s string) string {
	if len(s) > DisplayLen {
		return s[:DisplayLen]
	}
	return s
}

// isBase62 marks the bytes of base62Alphabet.
var isBase62 = func() (t [256]bool) {
	for i := 0; i < len(base62Alphabet); i++ {
		t[base62Alphabet[i]] = true
	}
	return t
}()

// checksum is the CRC32 of body in six base62 digits. It runs on every
// request, so it avoids big.Int.
func checksum(body string) (out [keyChecksumLen]byte) {
	n := crc32.ChecksumIEEE([]byte(body))
	for i := keyChecksumLen - 1; i >= 0; i-- {
		out[i] = base62Alphabet[n%62]
		n /= 62
	}
	return out
}

// base62 encodes n in exactly width digits, zero-padded on the left.
func base62(n *big.Int, width int) string {
	out := make([]byte, width)
	sixtyTwo := big.NewInt(62)
	rem := new(big.Int)
	for i := width - 1; i >= 0; i-- {
		n.DivMod(n, sixtyTwo, rem)
		out[i] = base62Alphabet[rem.Int64()]
	}
	return string(out)
}
