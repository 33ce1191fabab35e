package devchain

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/paymeter/paymeter/contracts"
)

// Every chain has Permit2 and the x402 upto proxy from genesis; DeployUSDCApproved has its payers
// approve Permit2 in the deployment's block, with no ether of theirs; a permit the payer signs in
// Go settles through the proxy for less than its maximum, once.
func TestChain_UptoOnDevchain(t *testing.T) {
	deployer, deployerAddr := NewKey()
	payerKey, payer := NewKey()
	laterKey, later := NewKey()
	_, payTo := NewKey()
	c, err := Start(Config{ChainID: 1337, Permit2ChainID: 84532, Alloc: types.GenesisAlloc{deployerAddr: {Balance: Ether(10)}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call := &bind.CallOpts{Context: ctx}

	permit2, err := contracts.NewTestPermit2(contracts.Permit2Address, c.Client())
	if err != nil {
		t.Fatal(err)
	}
	if id, err := permit2.DomainChainId(call); err != nil || id.Int64() != 84532 {
		t.Fatalf("Permit2 domain chain id %v (%v), want 84532", id, err)
	}
	proxy, err := contracts.NewTestUptoProxy(contracts.UptoProxyAddress, c.Client())
	if err != nil {
		t.Fatal(err)
	}
	if p, err := proxy.PERMIT2(call); err != nil || p != contracts.Permit2Address {
		t.Fatalf("proxy's PERMIT2 %s (%v)", p, err)
	}

	u, err := c.DeployUSDCApproved(ctx, deployer, BaseSepoliaUSDC, map[common.Address]int64{payer: 10_000_000},
		[]*ecdsa.PrivateKey{payerKey})
	if err != nil {
		t.Fatal(err)
	}
	if head, err := c.Client().BlockNumber(ctx); err != nil || head != 1 {
		t.Fatalf("deploy, mint and approve took blocks up to %d (%v), want one block", head, err)
	}
	for _, who := range []common.Address{payer, later} {
		if wei, err := c.Client().BalanceAt(ctx, who, nil); err != nil || wei.Sign() != 0 {
			t.Fatalf("%s holds %v wei (%v), want none", who, wei, err)
		}
	}
	if a, err := u.Allowance(call, payer, contracts.Permit2Address); err != nil || a.Cmp(contracts.MaxUint256) != 0 {
		t.Fatalf("payer's allowance of Permit2 %v (%v), want max", a, err)
	}
	if err := u.ApprovePermit2(ctx, laterKey); err != nil {
		t.Fatal(err)
	}
	if a, err := u.Allowance(call, later, contracts.Permit2Address); err != nil || a.Cmp(contracts.MaxUint256) != 0 {
		t.Fatalf("later approver's allowance of Permit2 %v (%v), want max", a, err)
	}
	if err := u.SetPermit2Allowance(ctx, laterKey, new(big.Int)); err != nil {
		t.Fatal(err)
	}
	if a, err := u.Allowance(call, later, contracts.Permit2Address); err != nil || a.Sign() != 0 {
		t.Fatalf("revoked allowance of Permit2 %v (%v), want 0", a, err)
	}

	// The deployer is the facilitator here: it pays the gas and is the one caller allowed.
	nonce, _ := rand.Int(rand.Reader, contracts.MaxUint256)
	p := &contracts.UptoPermit{Owner: payer, Token: u.Address, Amount: big.NewInt(3_000_000), Nonce: nonce,
		Deadline: big.NewInt(time.Now().Unix() + 300), To: payTo, Facilitator: deployerAddr, ValidAfter: new(big.Int)}
	sig, err := p.Sign(payerKey, 84532)
	if err != nil {
		t.Fatal(err)
	}
	opts := *u.minter
	opts.Context = ctx
	tx, err := proxy.Settle(&opts, p.Permit(), big.NewInt(1_250_000), payer, p.Witness(), sig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wait(ctx, tx); err != nil {
		t.Fatal(err)
	}
	for who, want := range map[common.Address]int64{payer: 8_750_000, payTo: 1_250_000} {
		if b, err := u.Balance(ctx, who); err != nil || b.Int64() != want {
			t.Fatalf("%s holds %v (%v), want %d", who, b, err, want)
		}
	}
	_, err = proxy.Settle(&opts, p.Permit(), big.NewInt(1), payer, p.Witness(), sig)
	parsed, _ := contracts.TestPermit2MetaData.GetAbi()
	var de rpc.DataError
	if !errors.As(err, &de) || de.ErrorData() != hexutil.Encode(parsed.Errors["InvalidNonce"].ID.Bytes()[:4]) {
		t.Fatalf("second settlement of one permit: %v, want Permit2's InvalidNonce", err)
	}
}
