package devchain

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/contracts"
)

// Domain is a token's EIP-712 domain: what payers sign over.
type Domain struct {
	Name, Version string
	ChainID       int64
}

// BaseSepoliaUSDC is the domain of USDC on Base Sepolia, whose signatures
// x402 clients make for the network base-sepolia (eip155:84532).
var BaseSepoliaUSDC = Domain{Name: "USDC", Version: "2", ChainID: 84532}

// USDC is a test USDC (contracts.TestUSDC: EIP-3009, 6 decimals, anyone
// may mint) on a chain.
type USDC struct {
	Address common.Address
	Domain  Domain
	*contracts.TestUSDC

	chain  *Chain
	minter *bind.TransactOpts
}

// mintGas is the gas limit of one mint, fixed so that mints can be sent in
// the deployment's block, before the contract has code to estimate
// against. A first mint to an address uses about 245,000 under the dev
// chain's forks (state growth is dear there); the rest is not charged.
const mintGas = 1_000_000

// DeployUSDC deploys a test USDC from deployer, whose account must hold
// ether, and mints units to each of mints, all in one block.
func (c *Chain) DeployUSDC(ctx context.Context, deployer *ecdsa.PrivateKey, d Domain, mints map[common.Address]int64) (*USDC, error) {
	return c.DeployUSDCApproved(ctx, deployer, d, mints, nil)
}

// DeployUSDCApproved is DeployUSDC, and in the same block each of
// approvers gives Permit2 an unlimited allowance of the token, as x402
// upto payers must (contracts/upto.go): by an EIP-2612 permit that the
// deployer submits, so that they need no ether.
func (c *Chain) DeployUSDCApproved(ctx context.Context, deployer *ecdsa.PrivateKey, d Domain, mints map[common.Address]int64, approvers []*ecdsa.PrivateKey) (*USDC, error) {
	opts, err := bind.NewKeyedTransactorWithChainID(deployer, big.NewInt(c.ChainID))
	if err != nil {
		return nil, err
	}
	opts.Context = ctx
	// Hold the sealer off until every transaction is in the pool.
	c.sealMu.Lock()
	addr, tx, token, err := contracts.DeployTestUSDC(opts, c.client, d.Name, d.Version, big.NewInt(d.ChainID))
	if err != nil {
		c.sealMu.Unlock()
		return nil, fmt.Errorf("devchain: deploy USDC: %w", err)
	}
	u := &USDC{Address: addr, Domain: d, TestUSDC: token, chain: c, minter: opts}
	txs := []*types.Transaction{tx}
	for to, units := range mints {
		mint, err := u.sendMint(to, units)
		if err != nil {
			c.sealMu.Unlock()
			return nil, err
		}
		txs = append(txs, mint)
	}
	for _, owner := range approvers {
		// The deployer's nonces order these after the deployment.
		approve, err := u.sendPermit2Approval(ctx, owner, big.NewInt(0), contracts.MaxUint256)
		if err != nil {
			c.sealMu.Unlock()
			return nil, err
		}
		txs = append(txs, approve)
	}
	c.sealMu.Unlock()
	c.commit()
	for _, tx := range txs {
		if _, err := c.Wait(ctx, tx); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func (u *USDC) sendMint(to common.Address, units int64) (*types.Transaction, error) {
	opts := *u.minter
	opts.GasLimit = mintGas
	tx, err := u.TestUSDC.Mint(&opts, to, big.NewInt(units))
	if err != nil {
		return nil, fmt.Errorf("devchain: mint: %w", err)
	}
	return tx, nil
}

// Mint mints units to to and waits until it is mined.
func (u *USDC) Mint(ctx context.Context, to common.Address, units int64) error {
	tx, err := u.sendMint(to, units)
	if err != nil {
		return err
	}
	_, err = u.chain.Wait(ctx, tx)
	return err
}

// Balance is a's balance in atomic units (10⁻⁶ USDC).
func (u *USDC) Balance(ctx context.Context, a common.Address) (*big.Int, error) {
	return u.BalanceOf(&bind.CallOpts{Context: ctx}, a)
}

// permitGas is the gas limit of one permit, fixed for the same reason as
// mintGas; it uses about 80,000.
const permitGas = 300_000

// ApprovePermit2 gives Permit2 an unlimited allowance of owner's tokens,
// by owner's EIP-2612 permit, which the deployer submits (owner needs no
// ether), and waits until it is mined.
func (u *USDC) ApprovePermit2(ctx context.Context, owner *ecdsa.PrivateKey) error {
	return u.SetPermit2Allowance(ctx, owner, contracts.MaxUint256)
}

// SetPermit2Allowance sets Permit2's allowance of owner's tokens to value
// (0 revokes it) as ApprovePermit2 does, and waits until it is mined.
func (u *USDC) SetPermit2Allowance(ctx context.Context, owner *ecdsa.PrivateKey, value *big.Int) error {
	nonce, err := u.Nonces(&bind.CallOpts{Context: ctx}, crypto.PubkeyToAddress(owner.PublicKey))
	if err != nil {
		return fmt.Errorf("devchain: permit nonce: %w", err)
	}
	tx, err := u.sendPermit2Approval(ctx, owner, nonce, value)
	if err != nil {
		return err
	}
	_, err = u.chain.Wait(ctx, tx)
	return err
}

// sendPermit2Approval sends owner's permit of Permit2 for value, without
// expiry, at owner's permit nonce.
func (u *USDC) sendPermit2Approval(ctx context.Context, owner *ecdsa.PrivateKey, nonce, value *big.Int) (*types.Transaction, error) {
	from := crypto.PubkeyToAddress(owner.PublicKey)
	p := contracts.ERC2612Permit{Owner: from, Spender: contracts.Permit2Address, Value: value,
		Nonce: nonce, Deadline: contracts.MaxUint256}
	sig, err := p.Sign(owner, u.Domain.Name, u.Domain.Version, u.Domain.ChainID, u.Address)
	if err != nil {
		return nil, fmt.Errorf("devchain: permit: %w", err)
	}
	opts := *u.minter
	opts.Context, opts.GasLimit = ctx, permitGas
	tx, err := u.TestUSDC.Permit(&opts, from, contracts.Permit2Address, value, contracts.MaxUint256, sig)
	if err != nil {
		return nil, fmt.Errorf("devchain: permit: %w", err)
	}
	return tx, nil
}
