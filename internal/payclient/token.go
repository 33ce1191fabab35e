package payclient

import (
	"context"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/paymeter/paymeter/internal/x402"
)

// balanceOfABI is ERC-20's balanceOf and allowance: a payer's tokens, and
// what Permit2 may move of them (upto pays through it).
var balanceOfABI = func() abi.ABI {
	a, err := abi.JSON(strings.NewReader(`[{"type":"function","name":"balanceOf","stateMutability":"view",
	 "inputs":[{"name":"account","type":"address"}],"outputs":[{"name":"","type":"uint256"}]},
	 {"type":"function","name":"allowance","stateMutability":"view",
	 "inputs":[{"name":"owner","type":"address"},{"name":"spender","type":"address"}],"outputs":[{"name":"","type":"uint256"}]}]`))
	if err != nil {
		panic(err)
	}
	return a
}()

// TokenBalanceOf reads addr's balance of the ERC-20 token, in its atomic
// units.
func TokenBalanceOf(ctx context.Context, caller ethereum.ContractCaller, token, addr common.Address) (*big.Int, error) {
	return callUint(ctx, caller, token, "balanceOf", addr)
}

// Permit2AllowanceOf is what Permit2 may move of addr's token: what upto
// payments in it can spend, until addr approves more.
func Permit2AllowanceOf(ctx context.Context, caller ethereum.ContractCaller, token, addr common.Address) (*big.Int, error) {
	return callUint(ctx, caller, token, "allowance", addr, x402.Permit2Address)
}

// TokenFunds reads addr's balance of token and its allowance to Permit2
// on the chain at rpcURL, over one connection.
func TokenFunds(ctx context.Context, rpcURL string, token, addr common.Address) (balance, permit2 *big.Int, err error) {
	client, err := ethclient.DialContext(ctx, rpcURL)
	if err != nil {
		return nil, nil, fmt.Errorf("dial %s: %s", x402.RedactURL(rpcURL), x402.Redact(err))
	}
	defer client.Close()
	if balance, err = TokenBalanceOf(ctx, client, token, addr); err != nil {
		return nil, nil, err
	}
	if permit2, err = Permit2AllowanceOf(ctx, client, token, addr); err != nil {
		return nil, nil, err
	}
	return balance, permit2, nil
}

// callUint calls a view function of token that returns one uint256.
func callUint(ctx context.Context, caller ethereum.ContractCaller, token common.Address, method string, args ...any) (*big.Int, error) {
	data, err := balanceOfABI.Pack(method, args...)
	if err != nil {
		return nil, err
	}
	out, err := caller.CallContract(ctx, ethereum.CallMsg{To: &token, Data: data}, nil)
	if err != nil {
		return nil, fmt.Errorf("%s(%s) on %s: %s", method, args[0].(common.Address).Hex(), token.Hex(), x402.Redact(err))
	}
	if len(out) != 32 { // one uint256; no code at the address answers nothing
		return nil, fmt.Errorf("%s on %s answered %d bytes, not a uint256: is it a token?", method, token.Hex(), len(out))
	}
	return new(big.Int).SetBytes(out), nil
}
