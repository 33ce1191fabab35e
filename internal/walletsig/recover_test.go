package walletsig_test

import (
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/walletsig"
)

// Recover answers what crypto.SigToPub and PubkeyToAddress answer, for
// signatures of many keys.
func TestRecoverAgreesWithSigToPub(t *testing.T) {
	for i := range 200 {
		key, _ := crypto.GenerateKey()
		digest := walletsig.TextHash([]byte{byte(i), byte(i >> 8)})
		sig, _ := crypto.Sign(digest[:], key)
		pub, err := crypto.SigToPub(digest[:], sig)
		if err != nil {
			t.Fatal(err)
		}
		got, err := walletsig.Recover(digest, sig)
		if want := crypto.PubkeyToAddress(*pub); err != nil || got != want || want != crypto.PubkeyToAddress(key.PublicKey) {
			t.Fatalf("Recover=%s, %v; want %s", got.Hex(), err, want.Hex())
		}
	}
}

// The byte comparisons that check r and s refuse exactly what
// crypto.ValidateSignatureValues (homestead rules) refuses, at the edges
// of the ranges: 0, 1, n/2, n/2+1, n−1, n and 2^256−1.
func TestRecoverRangesAgreeWithValidateSignatureValues(t *testing.T) {
	n := crypto.S256().Params().N
	half := new(big.Int).Rsh(n, 1)
	max := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	edges := []*big.Int{big.NewInt(0), big.NewInt(1), half, new(big.Int).Add(half, big.NewInt(1)),
		new(big.Int).Sub(n, big.NewInt(1)), n, max}
	digest := walletsig.TextHash([]byte("edges"))
	for _, r := range edges {
		for _, s := range edges {
			sig := make([]byte, 65)
			r.FillBytes(sig[:32])
			s.FillBytes(sig[32:64])
			_, err := walletsig.Recover(digest, sig)
			valid := crypto.ValidateSignatureValues(0, r, s, true)
			if refused := errors.Is(err, walletsig.ErrNotCanonical); refused == valid {
				t.Errorf("r=%x s=%x: Recover err %v, ValidateSignatureValues %v", r, s, err, valid)
			}
		}
	}
}
