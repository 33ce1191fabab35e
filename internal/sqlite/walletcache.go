package sqlite

// walletIDs remembers wallet accounts by address, so that a signed
// request, a sign-in or a payment finds its wallet's account without a
// query: accounts are never deleted and their addresses never change,
// and a wallet whose free credits were not refused (free_denied empty)
// has nothing more to be decided on its next requests (batch.wallet).
// Only the writer goroutine reads and writes it; a batch's findings join
// it once the batch is committed, so that an account rolled back with
// its batch is never remembered.
type walletIDs struct {
	known map[string]int64
	// pending are the current batch's findings, not yet committed.
	pending map[string]int64
}

// maxWalletIDs bounds the cache: past it, it starts over (wallets are
// cheap to create, and each costs an entry).
const maxWalletIDs = 100_000

func newWalletIDs() *walletIDs {
	return &walletIDs{known: make(map[string]int64), pending: make(map[string]int64)}
}

// seen notes that the wallet at address has account id, with nothing
// left to decide about its free credits.
func (w *walletIDs) seen(address string, id int64) { w.pending[address] = id }

// commit adds the batch's findings, after its commit.
func (w *walletIDs) commit() {
	if len(w.known)+len(w.pending) > maxWalletIDs {
		clear(w.known)
	}
	for a, id := range w.pending {
		w.known[a] = id
	}
	clear(w.pending)
}

// rollback forgets the findings of a batch that was not committed.
func (w *walletIDs) rollback() { clear(w.pending) }
