package meter

import "testing"

func TestMetered(t *testing.T) {
	p := Price{Input: 2 * Credit, Output: 4 * Credit} // per million tokens
	u := Usage{InputTokens: 1_000_000, OutputTokens: 1_000_000}
	for _, tt := range []struct {
		held             Amount
		estimated, cpped bool
		want             Amount
	}{
		{held: Credit, want: 6 * Credit},                       // reported, no cap: in full
		{held: Credit, estimated: true, want: Credit},          // an estimate never past the hold
		{held: Credit, cpped: true, want: Credit},              // under a spend cap never past the hold
		{held: 10 * Credit, estimated: true, want: 6 * Credit}, // below the hold: as it is
		{held: 0, estimated: true, cpped: true, want: 0},       // an empty hold charges nothing estimated
		{held: 6*Credit - 1, cpped: true, want: 6*Credit - 1},  // one nano-credit short
	} {
		if got := Metered(p, u, tt.held, tt.estimated, tt.cpped); got != tt.want {
			t.Errorf("Metered(held %s, estimated %v, capped %v) = %s, want %s", tt.held, tt.estimated, tt.cpped, got, tt.want)
		}
	}
}

func TestChargesUnreported(t *testing.T) {
	for _, tt := range []struct {
		delivered       int64
		gone, cut, want bool
	}{
		{0, false, false, false}, // the upstream failed before anything reached the client
		{1, false, false, true},
		{0, true, false, true},
		{0, false, true, true},
	} {
		if got := ChargesUnreported(tt.delivered, tt.gone, tt.cut); got != tt.want {
			t.Errorf("ChargesUnreported(%d, %v, %v) = %v, want %v", tt.delivered, tt.gone, tt.cut, got, tt.want)
		}
	}
}
