package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// No check of Verify reads a wallet's journal by account once per payment
// (quadratic in a busy wallet's payments): each payment's entries are
// found by their (kind, ref) key.
func TestVerify_PaymentChecksLookUpEntriesByRef(t *testing.T) {
	db := NewDB(filepath.Join(t.TempDir(), "plan.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range verifyChecks {
		if !strings.Contains(c.sql, "FROM payments") {
			continue
		}
		rows, err := db.read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+c.sql)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		got := strings.Join(plan, "; ")
		if strings.Contains(got, "entries_by_account") || !strings.Contains(got, "(kind=? AND ref=?)") {
			t.Errorf("%s: plan %q, want entries found by (kind, ref)", c.what, got)
		}
	}
}
