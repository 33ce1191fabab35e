package sqlite

import (
	"strconv"
	"testing"
)

// What a batch found is remembered once it is committed, never when it
// is rolled back; a full cache starts over.
func TestWalletIDs_CommitAndRollback(t *testing.T) {
	w := newWalletIDs()
	w.seen("0xA", 1)
	w.rollback()
	w.commit()
	if _, ok := w.known["0xA"]; ok {
		t.Fatal("a rolled-back finding was remembered")
	}
	w.seen("0xB", 2)
	w.commit()
	if id, ok := w.known["0xB"]; !ok || id != 2 {
		t.Fatalf("committed finding: %d %v", id, ok)
	}
	for i := range maxWalletIDs {
		w.known[strconv.Itoa(i)] = int64(i)
	}
	w.seen("0xC", 3)
	w.commit()
	if len(w.known) != 1 || w.known["0xC"] != 3 {
		t.Fatalf("full cache: %d entries", len(w.known))
	}
}
