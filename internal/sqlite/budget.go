package sqlite

import (
	"context"
	"fmt"

	"github.com/paymeter/paymeter/internal/meter"
)

// FindBudgetUse returns what the budget's subject has spent and holds
// within it. A budget in the book answers from the book, which counts
// holds and captures not yet committed, as HoldWithin sees them; any
// other is read from the journal: it has no hold, since a budget with
// holds is never dropped from the book.
func (l *Ledger) FindBudgetUse(ctx context.Context, accountID int64, budget meter.Budget) (meter.BudgetUse, error) {
	k := budgetKey{accountID: accountID, subject: budget.Subject, since: budget.Since.UnixMilli()}
	if use, ok := l.book.budgetUse(k); ok {
		return use, nil
	}
	var spent meter.Amount
	if err := l.db.read.QueryRowContext(ctx, stmtSQL["budgetSpent"], k.accountID, k.subject, k.since).Scan(&spent); err != nil {
		return meter.BudgetUse{}, fmt.Errorf("read budget of %s: %w", k.subject, err)
	}
	return meter.BudgetUse{Spent: spent}, nil
}

// budgetUse returns a budget's figures, if it is in the book.
func (b *book) budgetUse(k budgetKey) (meter.BudgetUse, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bb := b.budgets[k]
	if bb == nil {
		return meter.BudgetUse{}, false
	}
	return meter.BudgetUse{Spent: bb.spent, Held: bb.held}, true
}

// Available returns what the account can spend now. An account in the
// book answers from it, without a database read: its balance as of the
// last commit that touched it, less every active hold, those not yet
// written included, as Hold decides. Any other is read from its row.
func (l *Ledger) Available(ctx context.Context, accountID int64) (meter.Amount, error) {
	if available, ok := l.book.available(accountID); ok {
		return available, nil
	}
	a, err := l.FindAccountByID(ctx, accountID)
	if err != nil {
		return 0, err
	}
	return a.Available(), nil
}

// available returns the account's balance less its holds, if the account
// is in the book.
func (b *book) available(accountID int64) (meter.Amount, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if a := b.accounts[accountID]; a != nil {
		return a.balance - a.held, true
	}
	return 0, false
}
