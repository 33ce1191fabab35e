package sqlite

import (
	"sync"

	"github.com/paymeter/paymeter/internal/meter"
)

// book is the ledger's in-memory view of what each account may still
// spend, so that a hold is decided without waiting for the writer.
//
// An account's balance here is its durable balance as of the writer's last
// commit that touched it; held is every active hold: those already written
// and those decided but still on their way to the writer. Holds are added
// by Hold, under the lock, and only the writer takes them away, after the
// commit that settles them. So the book never shows more available credit
// than the database will have once the queued holds are written, and two
// holds can never spend the same credit. Credits booked by another process
// (the CLI) make the book's balance stale on the low side: a hold it would
// refuse re-reads the balance first.
type book struct {
	mu       sync.Mutex
	accounts map[int64]*bookAccount
	holds    map[string]bookHold
}

type bookAccount struct {
	balance meter.Amount
	held    meter.Amount
}

type bookHold struct {
	accountID int64
	amount    meter.Amount
	// created and expires are Unix ms; queued is set once the hold has
	// been sent to the writer to be stored.
	created, expires int64
	queued           bool
}

func newBook() *book {
	return &book{accounts: make(map[int64]*bookAccount), holds: make(map[string]bookHold)}
}

// reserve records a hold on the account if its available credit covers
// it. loaded is false when the account is not in the book yet.
func (b *book) reserve(holdID string, h bookHold) (loaded bool, available meter.Amount, ok bool) {
	accountID, amount := h.accountID, h.amount
	b.mu.Lock()
	defer b.mu.Unlock()
	a := b.accounts[accountID]
	if a == nil {
		return false, 0, false
	}
	if available = a.balance - a.held; available < amount {
		return true, available, false
	}
	a.held += amount
	b.holds[holdID] = h
	return true, available, true
}

// load enters an account with its stored balance and held total, or, if
// it is there already, refreshes its balance only: its held total also
// counts holds not yet written, which the database cannot know.
func (b *book) load(accountID int64, balance, held meter.Amount) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if a := b.accounts[accountID]; a != nil {
		a.balance = balance
		return
	}
	b.accounts[accountID] = &bookAccount{balance: balance, held: held}
}

// hold returns an active hold.
func (b *book) hold(id string) (bookHold, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h, ok := b.holds[id]
	return h, ok
}

// held returns the account's held total, if the account is in the book.
func (b *book) held(accountID int64) (meter.Amount, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if a := b.accounts[accountID]; a != nil {
		return a.held, true
	}
	return 0, false
}

// settle applies a committed batch: holds it captured, released or
// expired are gone, and the accounts it wrote have their new balances.
func (b *book) settle(settled map[string]bookHold, balances map[int64]meter.Amount) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, h := range settled {
		delete(b.holds, id)
		if a := b.accounts[h.accountID]; a != nil {
			a.held -= h.amount
		}
	}
	for id, bal := range balances {
		if a := b.accounts[id]; a != nil {
			a.balance = bal
		}
	}
}

// due marks and returns the holds created at or before cutoff that have
// not been sent to the writer yet.
func (b *book) due(cutoff int64) map[string]bookHold {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out map[string]bookHold
	for id, h := range b.holds {
		if h.queued || h.created > cutoff {
			continue
		}
		if out == nil {
			out = make(map[string]bookHold)
		}
		h.queued = true
		b.holds[id] = h
		out[id] = h
	}
	return out
}

// forget drops a hold whose write failed, so that its credit is not
// reserved forever.
func (b *book) forget(id string) {
	if h, ok := b.hold(id); ok {
		b.settle(map[string]bookHold{id: h}, nil)
	}
}
