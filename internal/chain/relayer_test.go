package chain

import (
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/paymeter/paymeter/internal/x402"
)

// dataError is what geth answers a reverted eth_call or estimateGas with:
// "execution reverted" and the ABI-encoded Error(string) as hex data.
type dataError struct{ data string }

func (e dataError) Error() string          { return "execution reverted" }
func (e dataError) ErrorData() interface{} { return e.data }

func revertWith(t *testing.T, reason string) error {
	t.Helper()
	args := abi.Arguments{{Type: mustType(t, "string")}}
	packed, err := args.Pack(reason)
	if err != nil {
		t.Fatal(err)
	}
	selector := []byte{0x08, 0xc3, 0x79, 0xa0} // Error(string)
	return dataError{data: hexutil.Encode(append(selector, packed...))}
}

func mustType(t *testing.T, name string) abi.Type {
	t.Helper()
	ty, err := abi.NewType(name, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return ty
}

func TestRevertReasonMapsUSDCMessages(t *testing.T) {
	for reason, want := range map[string]string{
		"FiatTokenV2: authorization is not yet valid":    x402.ReasonValidAfter,
		"FiatTokenV2: authorization is expired":          x402.ReasonValidBefore,
		"FiatTokenV2: authorization is used or canceled": x402.ReasonTransactionState,
		"FiatTokenV2: invalid signature":                 x402.ReasonSignature,
		"ECRecover: invalid signature 's' value":         x402.ReasonSignature,
		"ERC20: transfer amount exceeds balance":         x402.ReasonInsufficientFunds,
		"Pausable: paused":                               x402.ReasonUnexpectedSettle,
	} {
		got, ok := revertReason(revertWith(t, reason))
		if !ok || got != want {
			t.Errorf("%q → %q (%v), want %q", reason, got, ok, want)
		}
	}
	// A message-only revert, as some nodes send it.
	if got, ok := revertReason(errors.New("execution reverted: FiatTokenV2: authorization is expired")); !ok || got != x402.ReasonValidBefore {
		t.Errorf("message-only revert → %q %v", got, ok)
	}
	// Not a revert: the node could not be reached. The outcome is unknown.
	if _, ok := revertReason(errors.New("dial tcp 127.0.0.1:8545: connection refused")); ok {
		t.Error("a connection error was taken for a revert")
	}
	if _, ok := revertReason(nil); ok {
		t.Error("nil was taken for a revert")
	}
}

func TestIsMagic1271_OnlyTheExactEncoding(t *testing.T) {
	word := func(b ...byte) []byte { return append(b, make([]byte, 32-len(b))...) }
	magic := magic1271[:]
	echo := append(append([]byte{}, magic...), make([]byte, 96)...) // selector + digest + offset…: an echoing contract
	echo[10] = 1
	for _, tc := range []struct {
		name string
		out  []byte
		want bool
	}{
		{"the magic value", word(magic...), true},
		{"empty", nil, false},
		{"four bytes only", append([]byte{}, magic...), false},
		{"an echo of the calldata", echo, false},
		{"the magic then a non-zero byte", append(word(magic...)[:31], 1), false},
		{"another value", word(0xff, 0xff, 0xff, 0xff), false},
		{"the magic right-aligned", append(make([]byte, 28), magic...), false},
	} {
		if got := isMagic1271(tc.out); got != tc.want {
			t.Errorf("%s: isMagic1271(%x) = %v, want %v", tc.name, tc.out, got, tc.want)
		}
	}
}
