package x402

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// The digest hashed by hand equals apitypes' EIP-712 digest (UptoDigest,
// which viem's vector checks in TestVerifyUptoAcceptsThePermitOfTheNPMClient
// too), for random permits and for the extremes of every uint256.
func TestPermit2DigestByHandEqualsAPITypes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func() *big.Int {
		switch r.IntN(4) {
		case 0:
			return new(big.Int)
		case 1:
			return new(big.Int).Set(maxUint256)
		}
		b := make([]byte, r.IntN(33))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return new(big.Int).SetBytes(b)
	}
	addr := func() (a common.Address) {
		for i := range a {
			a[i] = byte(r.Uint32())
		}
		return a
	}
	for i := range 300 {
		a := &Permit2Authorization{From: addr(), Token: addr(), Amount: word(), Spender: addr(), Nonce: word(),
			Deadline: word(), To: addr(), Facilitator: addr(), ValidAfter: word()}
		chainID := []int64{1, 8453, 84532, 1337, int64(r.Uint32())}[i%5]
		want, err := UptoDigest(chainID, a)
		if err != nil {
			t.Fatal(err)
		}
		got, err := permit2Digest(permit2Domain(chainID), a)
		if err != nil || got != want {
			t.Fatalf("permit %+v on chain %d: by hand %s, %v; apitypes %s", a, chainID, got, err, want)
		}
	}
	a := &Permit2Authorization{Amount: new(big.Int).Lsh(big.NewInt(1), 256), Nonce: new(big.Int), Deadline: new(big.Int), ValidAfter: new(big.Int)}
	if _, err := permit2Digest(permit2Domain(1), a); err == nil {
		t.Fatal("an amount of 2^256 was hashed")
	}
	a.Amount = big.NewInt(-1)
	if _, err := permit2Digest(permit2Domain(1), a); err == nil {
		t.Fatal("a negative amount was hashed")
	}
}
