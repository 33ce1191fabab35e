package chain

import (
	"container/list"
	"context"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Defaults of Contracts' code cache. An address without code is
// remembered for less time: a counterfactual wallet may be deployed any
// moment, and until then it cannot sign anyway.
const (
	defaultHasCodeTTL = 10 * time.Minute
	defaultNoCodeTTL  = time.Minute
	defaultMaxCached  = 10_000
	// codeLookupTimeout bounds one eth_getCode, which may be awaited by
	// several requests besides the one that asked.
	codeLookupTimeout = 10 * time.Second
)

// codeCache is a bounded LRU of whether addresses have code, with one
// lookup in flight per address: concurrent requests for an address wait
// for the first one's answer instead of asking the chain themselves.
type codeCache struct {
	mu      sync.Mutex
	entries map[codeKey]*list.Element // of *codeEntry; front: most recent
	lru     *list.List
	calls   map[codeKey]*codeCall
}

type codeKey struct {
	chainID int64
	addr    common.Address
}

type codeEntry struct {
	key   codeKey
	has   bool
	until time.Time
}

type codeCall struct {
	done chan struct{}
	has  bool
	err  error
}

type codeReader interface {
	CodeAt(ctx context.Context, account common.Address, blockNumber *big.Int) ([]byte, error)
}

// hasCode reports whether addr has code on chainID, from the cache or, at
// most once at a time per address, from b. Errors are not remembered.
func (c *Contracts) hasCode(ctx context.Context, chainID int64, b codeReader, addr common.Address) (bool, error) {
	k := codeKey{chainID: chainID, addr: addr}
	cc := &c.codes
	cc.mu.Lock()
	if cc.entries == nil {
		cc.entries, cc.lru, cc.calls = map[codeKey]*list.Element{}, list.New(), map[codeKey]*codeCall{}
	}
	if has, ok := cc.get(k, c.now()); ok {
		cc.mu.Unlock()
		return has, nil
	}
	if call, ok := cc.calls[k]; ok {
		cc.mu.Unlock()
		select {
		case <-call.done:
			return call.has, call.err
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	call := &codeCall{done: make(chan struct{})}
	cc.calls[k] = call
	cc.mu.Unlock()

	// The lookup is not the caller's alone: it outlives a caller who
	// leaves, for the others waiting on it.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), codeLookupTimeout)
	code, err := b.CodeAt(lctx, addr, nil)
	cancel()
	call.has, call.err = len(code) > 0, err

	cc.mu.Lock()
	delete(cc.calls, k)
	if err == nil {
		ttl := or(c.NoCodeTTL, defaultNoCodeTTL)
		if call.has {
			ttl = or(c.HasCodeTTL, defaultHasCodeTTL)
		}
		cc.put(codeEntry{key: k, has: call.has, until: c.now().Add(ttl)}, or(c.MaxCached, defaultMaxCached))
	}
	cc.mu.Unlock()
	close(call.done)
	return call.has, call.err
}

// get returns a fresh entry and marks it used; a stale one is dropped.
func (cc *codeCache) get(k codeKey, now time.Time) (has, ok bool) {
	el, found := cc.entries[k]
	if !found {
		return false, false
	}
	e := el.Value.(*codeEntry)
	if !now.Before(e.until) {
		cc.lru.Remove(el)
		delete(cc.entries, k)
		return false, false
	}
	cc.lru.MoveToFront(el)
	return e.has, true
}

// put stores e, evicting the least recently used entries beyond max.
func (cc *codeCache) put(e codeEntry, max int) {
	if el, found := cc.entries[e.key]; found {
		cc.lru.Remove(el)
	}
	cc.entries[e.key] = cc.lru.PushFront(&e)
	for cc.lru.Len() > max {
		oldest := cc.lru.Back()
		cc.lru.Remove(oldest)
		delete(cc.entries, oldest.Value.(*codeEntry).key)
	}
}

func (c *Contracts) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// or is v, or def when v is zero.
func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
