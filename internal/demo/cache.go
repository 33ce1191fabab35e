package demo

import "sync"

// The demo's prompt cache and reasoning model, so that `paymeter demo`
// shows cached input and reasoning tokens priced at their own rates.
//
// A prompt is a list of parts (chat messages, Responses input items,
// Messages blocks, with the system prompt first). Every prefix of whole
// parts a Server has seen is remembered; a later prompt of the same model
// that starts with a remembered prefix reports its tokens as cached, in
// whole blocks of cacheBlock tokens and only from cacheMinTokens up, as
// OpenAI does with 1024 and 128 (smaller here, so that a curl line can
// show it). The same sequence of requests to a fresh Server always gets
// the same counts.
const (
	cacheMinTokens = 128
	cacheBlock     = 64
	// cacheMaxPrefixes bounds what a Server remembers: past it, it forgets
	// everything at once (still deterministic), so that a load test cannot
	// grow it without end.
	cacheMaxPrefixes = 1 << 16
)

// promptCache is the prefixes a Server has seen. The zero value is empty
// and ready to use.
type promptCache struct {
	mu   sync.Mutex
	seen map[uint64]struct{}
}

// promptPrefixes collects the prefixes of one prompt that are long enough
// to be cached, part by part. Start one with newPromptPrefixes.
type promptPrefixes struct {
	h      uint64
	total  int
	hashes []uint64 // hash of the prompt through each cacheable part
	tokens []int    // and its tokens
}

// newPromptPrefixes starts the prefixes of a prompt to model: caches are
// per model.
func newPromptPrefixes(model string) promptPrefixes {
	p := promptPrefixes{h: 14695981039346656037}
	p.mix([]byte(model))
	return p
}

// mix folds b, then its length, into the running FNV-1a hash: the length
// keeps ("ab","c") and ("a","bc") apart.
func (p *promptPrefixes) mix(b []byte) {
	for _, c := range b {
		p.h ^= uint64(c)
		p.h *= 1099511628211
	}
	for n := len(b); ; n >>= 8 {
		p.h ^= uint64(n & 0xff)
		p.h *= 1099511628211
		if n < 256 {
			break
		}
	}
}

// add appends one part of the prompt: its role (or kind) and text, and the
// tokens it counts.
func (p *promptPrefixes) add(role string, text []byte, tokens int) {
	p.mix([]byte(role))
	p.mix(text)
	p.total += tokens
	if p.total >= cacheMinTokens {
		p.hashes = append(p.hashes, p.h)
		p.tokens = append(p.tokens, p.total)
	}
}

// cacheable is how many tokens of a prefix of n tokens a cache holds.
func cacheable(n int) int {
	if n < cacheMinTokens {
		return 0
	}
	return n / cacheBlock * cacheBlock
}

// cachedTokens looks the prompt up in the Server's cache and remembers its
// prefixes: read is how many of its tokens were cached by an earlier
// prompt (the longest remembered prefix, in whole blocks), written how
// many more this prompt adds to the cache (Anthropic's cache writes). A
// prompt shorter than cacheMinTokens neither reads nor writes, and takes
// no lock.
func (s *Server) cachedTokens(p *promptPrefixes) (read, written int) {
	if len(p.hashes) == 0 {
		return 0, 0
	}
	c := s.promptCache()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(p.hashes) - 1; i >= 0; i-- {
		if _, ok := c.seen[p.hashes[i]]; ok {
			read = cacheable(p.tokens[i])
			break
		}
	}
	if c.seen == nil || len(c.seen)+len(p.hashes) > cacheMaxPrefixes {
		c.seen = make(map[uint64]struct{}, 64)
	}
	for _, h := range p.hashes {
		c.seen[h] = struct{}{}
	}
	return read, max(cacheable(p.tokens[len(p.tokens)-1])-read, 0)
}

// promptCache returns the Server's cache, making it on first use. A
// Server copied before its first request has a cache of its own.
func (s *Server) promptCache() *promptCache {
	if c, ok := s.cache.Load().(*promptCache); ok {
		return c
	}
	s.cache.CompareAndSwap(nil, &promptCache{})
	return s.cache.Load().(*promptCache)
}

// reasoningModels are the demo models that think before they answer.
var reasoningModels = map[string]bool{"demo-reasoner": true}

// reasoningTokens is how many of a reply's completion tokens a model
// spends reasoning: half of them (rounded down) for a reasoning model, so
// that the visible answer plus the reasoning stay within the same cap
// (OpenAI's reasoning tokens count as completion tokens and against
// max_completion_tokens); none for the others.
func reasoningTokens(model string, completionTokens int) int {
	if !reasoningModels[model] {
		return 0
	}
	return completionTokens / 2
}
