package payclient

import "testing"

// A server's text printed by pay cannot forge a line or reorder what the
// terminal shows: controls, separators and format characters become "?".
func TestPrintable(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"insufficient_funds", 64, "insufficient_funds"},
		{"0xabc\nreceipt: forged", 64, "0xabc?receipt: forged"},
		{"evil\x1b[2J", 64, "evil?[2J"},
		{"paid\u202e1 USDC", 64, "paid?1 USDC"},      // right-to-left override
		{"a\u2066b\u2069c", 64, "a?b?c"},             // isolates
		{"zero\u200bwidth\u200f", 64, "zero?width?"}, // zero-width space, right-to-left mark
		{"line\u2028sep\u2029", 64, "line?sep?"},     // line and paragraph separators
		{"\u0085next line", 64, "?next line"},        // C1 control
		{"café ünïcode", 64, "café ünïcode"},         // letters stay
		{"0123456789abcdefghij", 10, "0123456789…"},
	} {
		if got := printable(tc.in, tc.n); got != tc.want {
			t.Errorf("printable(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
