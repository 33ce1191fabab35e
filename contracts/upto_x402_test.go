package contracts_test

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/paymeter/paymeter/contracts"
	"github.com/paymeter/paymeter/internal/x402"
)

// The upto permit has two Go spellings: contracts.UptoPermit (what these
// tests settle through the proxy) and internal/x402's, which paymeter
// verifies and `paymeter pay` signs. They hash to the same digest, on
// every chain id.
func TestUptoDigestAgreesWithX402(t *testing.T) {
	p := &contracts.UptoPermit{
		Owner: common.HexToAddress("0x00000000000000000000000000000000000000a1"), Token: common.HexToAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e"),
		Amount: big.NewInt(123_456), Nonce: new(big.Int).Lsh(big.NewInt(0xabcdef), 200), Deadline: big.NewInt(1_750_000_300),
		To: common.HexToAddress("0x209693Bc6afc0C5328bA36FaF03C514EF312287C"), Facilitator: common.HexToAddress("0x1111111111111111111111111111111111111111"),
		ValidAfter: big.NewInt(0),
	}
	a := &x402.Permit2Authorization{From: p.Owner, Token: p.Token, Amount: p.Amount, Spender: contracts.UptoProxyAddress, Nonce: p.Nonce,
		Deadline: p.Deadline, To: p.To, Facilitator: p.Facilitator, ValidAfter: p.ValidAfter}
	if x402.UptoProxyAddress != contracts.UptoProxyAddress || x402.Permit2Address != contracts.Permit2Address {
		t.Fatalf("addresses: x402 %s %s, contracts %s %s", x402.UptoProxyAddress, x402.Permit2Address, contracts.UptoProxyAddress, contracts.Permit2Address)
	}
	for _, chainID := range []int64{1, 8453, 84532, 1337} {
		want, err := p.Digest(chainID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := x402.UptoDigest(chainID, a)
		if err != nil || got != want {
			t.Fatalf("chain %d: x402 digest %s (%v), contracts %s", chainID, got, err, want)
		}
	}
}
