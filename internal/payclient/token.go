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

// balanceOfABI is ERC-20's balanceOf, all a payer needs to see its tokens.
var balanceOfABI = func() abi.ABI {
	a, err := abi.JSON(strings.NewReader(`[{"type":"function","name":"balanceOf","stateMutability":"view",
	 "inputs":[{"name":"account","type":"address"}],"outputs":[{"name":"","type":"uint256"}]}]`))
	if err != nil {
		panic(err)
	}
	return a
}()

// TokenBalance reads addr's balance of the ERC-20 token on the chain at
// rpcURL (JSON-RPC), in the token's atomic units.
func TokenBalance(ctx context.Context, rpcURL string, token, addr common.Address) (*big.Int, error) {
	client, err := ethclient.DialContext(ctx, rpcURL)
	if err != nil {
		// An RPC URL may carry a provider's key in its path: name the host only.
		return nil, fmt.Errorf("dial %s: %s", x402.RedactURL(rpcURL), x402.Redact(err))
	}
	defer client.Close()
	return TokenBalanceOf(ctx, client, token, addr)
}

// TokenBalanceOf is TokenBalance over an open connection.
func TokenBalanceOf(ctx context.Context, caller ethereum.ContractCaller, token, addr common.Address) (*big.Int, error) {
	data, err := balanceOfABI.Pack("balanceOf", addr)
	if err != nil {
		return nil, err
	}
	out, err := caller.CallContract(ctx, ethereum.CallMsg{To: &token, Data: data}, nil)
	if err != nil {
		return nil, fmt.Errorf("balanceOf(%s) on %s: %s", addr.Hex(), token.Hex(), x402.Redact(err))
	}
	if len(out) != 32 { // one uint256; no code at the address answers nothing
		return nil, fmt.Errorf("balanceOf on %s answered %d bytes, not a uint256: is it a token?", token.Hex(), len(out))
	}
	return new(big.Int).SetBytes(out), nil
}
