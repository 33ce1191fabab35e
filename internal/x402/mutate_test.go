package x402

import "math/rand/v2"

// mutate returns seed changed one to three times, in the ways a decoder's
// fast path must not be fooled by: a letter's case flipped, a cut, a byte
// deleted, a stretch repeated (a key and its value, sometimes), or one of
// pieces inserted. The decoders' differential tests feed it thousands of
// times per seed.
func mutate(r *rand.Rand, seed string, pieces []string) []byte {
	b := []byte(seed)
	for range 1 + r.IntN(3) {
		i := r.IntN(len(b) + 1)
		switch r.IntN(5) {
		case 0:
			if i < len(b) && (b[i]|0x20) >= 'a' && (b[i]|0x20) <= 'z' {
				b[i] ^= 0x20
			}
		case 1:
			b = b[:i]
		case 2:
			if i < len(b) {
				b = append(b[:i:i], b[i+1:]...)
			}
		case 3:
			j := min(len(b), i+r.IntN(80))
			b = append(append(b[:j:j], b[i:j]...), b[j:]...)
		default:
			b = append(append(b[:i:i], pieces[r.IntN(len(pieces))]...), b[i:]...)
		}
	}
	return b
}
