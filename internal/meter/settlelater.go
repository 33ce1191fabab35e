package meter

import (
	"context"
	"sync"
)

// LazySettlement is Payments that can record a request payment's
// settlement together with its application, instead of in a commit of
// its own before the request is forwarded (docs/design.md §5). The
// payment is claimed durably before it is settled, as always; once it
// settled, the request is served, and the one transaction that books its
// cost also records the settlement. A settlement still unrecorded after a
// second (a long request) is recorded on its own, as a hold is stored
// after one, so that a crash can lose only the records of the
// settlements of the last second: the payments stay claimed, and the
// settlement sweep (RetryOpen) settles them again, which finds them
// settled.
type LazySettlement interface {
	Payments
	// SettleLater notes that request payment p (its ID and TxHash) has
	// settled; nothing is written yet.
	SettleLater(p *Payment)
	// SettleApply records p's settlement, unless it is recorded already,
	// and applies it with c (ApplyPayment), in one durable transaction.
	SettleApply(ctx context.Context, p *Payment, c Charge) (Amount, error)
}

// Unrecorded are settled request payments whose settlement is not written
// yet, by payment id: what an engine's LazySettlement keeps between
// SettleLater and the write that records it. Safe for concurrent use.
type Unrecorded struct {
	mu sync.Mutex
	m  map[int64]UnrecordedSettlement
}

// UnrecordedSettlement is one settlement not written yet.
type UnrecordedSettlement struct {
	TxHash string
	At     int64 // Unix ms, when it settled
}

// Put notes the settlement of payment id.
func (u *Unrecorded) Put(id int64, s UnrecordedSettlement) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = make(map[int64]UnrecordedSettlement)
	}
	u.m[id] = s
}

// Take forgets the settlement of id and reports whether it was here.
func (u *Unrecorded) Take(id int64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	_, ok := u.m[id]
	delete(u.m, id)
	return ok
}

// Due removes and returns the settlements made at or before cutoff.
func (u *Unrecorded) Due(cutoff int64) map[int64]UnrecordedSettlement {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out map[int64]UnrecordedSettlement
	for id, s := range u.m {
		if s.At <= cutoff {
			if out == nil {
				out = make(map[int64]UnrecordedSettlement)
			}
			out[id] = s
			delete(u.m, id)
		}
	}
	return out
}
