package x402

import (
	"testing"

	"github.com/paymeter/paymeter/internal/meter"
)

// The replay of an upto payment answers with what its first answer said
// (UptoPayer.ReceiptHeaderValue's receipt) and charged, by the state the
// first authorization is in.
func TestUptoReplayAnswer(t *testing.T) {
	const payer, network = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23", "eip155:84532"
	for _, tc := range []struct {
		state   meter.UptoState
		amount  meter.USDC
		tx      string
		receipt string // its amount
		cost    meter.Amount
		metered bool
	}{
		{meter.UptoClaimed, 0, "", "", 0, false},
		{meter.UptoDue, 34, "", "34", 34_000, true},
		{meter.UptoSettling, 34, "0xabc", "34", 34_000, true},
		{meter.UptoSettled, 34, "0xabc", "34", 34_000, true},
		{meter.UptoFailed, 34, "0xdef", "34", 34_000, true},
		{meter.UptoReleased, 0, "", "0", 0, true},
	} {
		t.Run(string(tc.state), func(t *testing.T) {
			first := &meter.UptoAuthorization{State: tc.state, Amount: tc.amount, TxHash: tc.tx, Payer: payer, Reason: "permit2_allowance_required"}
			r := uptoReplayAnswer(first, network)
			want := UptoSettleResponse{Success: true, Network: network, Payer: payer, Amount: tc.receipt}
			if r.UptoReceipt == nil || *r.UptoReceipt != want || r.Receipt != nil || r.Version != 2 {
				t.Fatalf("receipt %+v (exact %+v, v%d), want %+v", r.UptoReceipt, r.Receipt, r.Version, want)
			}
			if r.Cost != tc.cost || r.Metered != tc.metered {
				t.Fatalf("cost %s metered %v, want %s %v", r.Cost, r.Metered, tc.cost, tc.metered)
			}
			if got := r.ReceiptValue(); got != encodeJSON(want) {
				t.Fatalf("header %s, want %s", got, encodeJSON(want))
			}
			d := r.Err.Details
			if r.Err.Code != meter.ECodePaymentReplayed || d["payment_state"] != string(tc.state) || d["metered"] != tc.metered {
				t.Fatalf("error %+v", r.Err)
			}
			if tx, ok := d["transaction"]; (tc.tx != "") != ok || (ok && tx != tc.tx) {
				t.Fatalf("details.transaction %v, want %q", tx, tc.tx)
			}
		})
	}
}
