package auth

import (
	"context"
	"sync"
	"time"
)

// recordCache remembers records looked up by the SHA-256 of a secret (API
// keys, session tokens) for ttl, so that a busy credential costs one
// lookup per ttl instead of one per request, and a change to it (revoked,
// rotated) is seen within ttl. It holds at most maxCachedKeys records;
// past that, expired ones are swept, and while it is full of fresh ones
// new records are simply not cached.
type recordCache[V any] struct {
	mu      sync.RWMutex
	records map[[32]byte]cached[V]
}

type cached[V any] struct {
	v        V
	loadedAt time.Time
}

// get returns the cached record of hash, or, when there is none younger
// than ttl, the one load finds, remembering it.
func (c *recordCache[V]) get(ctx context.Context, hash [32]byte, now time.Time, ttl time.Duration,
	load func(context.Context, [32]byte) (V, error)) (V, error) {
	c.mu.RLock()
	r, ok := c.records[hash]
	c.mu.RUnlock()
	if ok && now.Sub(r.loadedAt) < ttl {
		return r.v, nil
	}
	v, err := load(ctx, hash)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.records == nil {
		c.records = make(map[[32]byte]cached[V])
	}
	if len(c.records) >= maxCachedKeys {
		for h, r := range c.records {
			if now.Sub(r.loadedAt) >= ttl {
				delete(c.records, h)
			}
		}
	}
	if len(c.records) < maxCachedKeys {
		c.records[hash] = cached[V]{v: v, loadedAt: now}
	}
	return v, nil
}
