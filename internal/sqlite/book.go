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
	budgets  map[budgetKey]*bookBudget
}

// budgetKey names a meter.Budget in the book.
type budgetKey struct {
	accountID int64
	subject   string
	since     int64 // Unix ms
}

// bookBudget is what a budget's subject has spent since the budget's
// start (its usage entries, as of the last commit that booked one) and
// holds now. Like an account's, its held total counts holds not yet
// written; only the writer takes holds away.
type bookBudget struct {
	spent, held meter.Amount
}

// maxBudgets bounds the budgets kept; past it, idle ones are dropped (and
// read again from the journal when next needed).
const maxBudgets = 10_000

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
	// budget is the hold's budget, if any; charged is what its capture
	// charged, set by the batch that settles it.
	budget  *budgetKey
	charged meter.Amount
}

func newBook() *book {
	return &book{accounts: make(map[int64]*bookAccount), holds: make(map[string]bookHold),
		budgets: make(map[budgetKey]*bookBudget)}
}

// budgetShort says why a hold within a budget was refused: what was spent
// and is held under it.
type budgetShort struct {
	spent, held meter.Amount
}

// reserveWithin is reserve that also keeps the hold's budget within
// limit. loaded is false when the account or the budget is not in the
// book yet; short is set when the budget refused the hold.
func (b *book) reserveWithin(holdID string, h bookHold, limit meter.Amount) (loaded bool, available meter.Amount, short *budgetShort, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, bb := b.accounts[h.accountID], b.budgets[*h.budget]
	if a == nil || bb == nil {
		return false, 0, nil, false
	}
	if bb.spent+bb.held+h.amount > limit {
		return true, a.balance - a.held, &budgetShort{spent: bb.spent, held: bb.held}, false
	}
	if available = a.balance - a.held; available < h.amount {
		return true, available, nil, false
	}
	a.held += h.amount
	bb.held += h.amount
	b.holds[holdID] = h
	return true, available, nil, true
}

// loadBudget enters a budget with what its subject has spent, unless it is
// there already: then the book's figures, which count holds and captures
// the journal does not show yet, stand.
func (b *book) loadBudget(k budgetKey, spent meter.Amount) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.budgets[k] != nil {
		return
	}
	if len(b.budgets) >= maxBudgets {
		for key, bb := range b.budgets {
			if bb.held == 0 {
				delete(b.budgets, key)
			}
		}
	}
	b.budgets[k] = &bookBudget{spent: spent}
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

// size is the number of active holds.
func (b *book) size() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.holds)
}

// snapshot copies the active holds.
func (b *book) snapshot() map[string]bookHold {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]bookHold, len(b.holds))
	for id, h := range b.holds {
		out[id] = h
	}
	return out
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
		// A hold settled from its stored row (expired) carries no budget:
		// the book's own record of it does.
		own, inBook := b.holds[id]
		delete(b.holds, id)
		if a := b.accounts[h.accountID]; a != nil {
			a.held -= h.amount
		}
		if inBook && own.budget != nil {
			if bb := b.budgets[*own.budget]; bb != nil {
				bb.held -= h.amount
				bb.spent += h.charged
			}
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

// renew moves the expiry of an active hold to now plus its original
// lifetime, unless it is later already, and returns its expiry; ok is
// false if the hold is not in the book.
func (b *book) renew(id string, now int64) (expires int64, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h, ok := b.holds[id]
	if !ok {
		return 0, false
	}
	if next := now + (h.expires - h.created); next > h.expires {
		h.expires = next
		b.holds[id] = h
	}
	return h.expires, true
}

// lateCharge is a capture booked after its hold was gone: what it charged
// to whom, and when.
type lateCharge struct {
	accountID int64
	subject   string
	at        int64 // Unix ms
	amount    meter.Amount
}

// spendLate counts committed late charges in every budget of their
// subject that had started by then, as the journal will when read again:
// a charge whose hold was gone is still spent under the subject's cap.
func (b *book) spendLate(late []lateCharge) {
	if len(late) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range late {
		for k, bb := range b.budgets {
			if k.accountID == c.accountID && k.subject == c.subject && k.since <= c.at {
				bb.spent += c.amount
			}
		}
	}
}
