package sqlite_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestVerify_DetectsTampering(t *testing.T) {
	for _, tt := range []struct {
		name, tamper, want string
	}{
		{"balance off the journal", `UPDATE accounts SET balance = balance + 1`, "sum of its journal entries"},
		{"held off the holds", `UPDATE accounts SET held = 1`, "sum of its active holds"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := MustOpenDB(t)
			l := MustOpenLedger(t, db)
			mustApp(t, l, "3")
			mustVerify(t, l)
			if err := db.Exec(tt.tamper); err != nil {
				t.Fatal(err)
			}
			v, err := l.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(v) == 0 || !strings.Contains(strings.Join(v, "\n"), tt.want) {
				t.Fatalf("violations=%q, want one about %q", v, tt.want)
			}
		})
	}
}

func TestJournal_AppendOnly(t *testing.T) {
	db := MustOpenDB(t)
	l := MustOpenLedger(t, db)
	mustApp(t, l, "3")
	if err := db.Exec(`UPDATE entries SET amount = 100`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("update err=%v, want append-only refusal", err)
	}
	if err := db.Exec(`DELETE FROM entries`); err == nil {
		t.Fatal("delete succeeded, want append-only refusal")
	}
	// The CHECK refuses a negative available balance even to raw SQL.
	if err := db.Exec(`UPDATE accounts SET held = balance + 1`); err == nil {
		t.Fatal("negative available accepted, want CHECK failure")
	}
}

func TestVerify_NoticesAPaymentCreditedTwiceOrBeforeSettlement(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	l := MustOpenLedger(t, db)
	p := newPayment("k-verify", meter.PurposeTopup, 1000)
	if err := l.ClaimPayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	a, err := l.SettlePayment(ctx, p.ID, "0x1")
	if err != nil {
		t.Fatal(err)
	}
	mustVerify(t, l)
	// A second credit for the same payment under the other kind.
	if _, err := l.Credit(ctx, a.ID, meter.EntryPayment, meter.USDC(1000).Amount(), "k-verify"); err != nil {
		t.Fatal(err)
	}
	q := newPayment("k-open", meter.PurposeTopup, 1000)
	if err := l.ClaimPayment(ctx, q); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Credit(ctx, a.ID, meter.EntryTopup, meter.USDC(1000).Amount(), "k-open"); err != nil {
		t.Fatal(err)
	}
	v, err := l.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 2 {
		t.Fatalf("violations %q, want the double credit and the early credit", v)
	}
}
