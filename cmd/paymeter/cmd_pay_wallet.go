package main

import (
	"context"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/common"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/payclient"
)

// runPayTopUp runs `paymeter pay topup --url BASE AMOUNT`: an x402
// top-up credited to the signer's wallet. Unless --max says otherwise,
// the most it pays is AMOUNT credits, what the command line asks to buy.
func runPayTopUp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f payFlags
	fs := newFlags("pay topup")
	f.register(fs)
	base := fs.String("url", "", "paymeter's base URL")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *base == "" {
		return usagef("pay topup: want --url BASE and one AMOUNT (credits)")
	}
	amount, err := meter.ParseAmount(pos[0])
	if err != nil || amount <= 0 {
		return usagef("pay topup: %q is not a positive amount of credits", pos[0])
	}
	c, err := f.client(stderr, true)
	if err != nil {
		return err
	}
	if f.max == "" {
		c.Max = amount
	}
	res, err := c.TopUp(ctx, *base, amount)
	if err != nil {
		return payExit(err)
	}
	fmt.Fprintln(stderr, paidLine(res.Paid))
	fmt.Fprintf(stderr, "receipt: %s on %s payer %s\n", res.Transaction, res.Paid.Network, c.Address().Hex())
	fmt.Fprintf(stdout, "balance: %s credits (wallet %s, account %d)\n", res.Account.Balance, c.Address().Hex(), res.Account.ID)
	return nil
}

// runPaySignIn runs `paymeter pay signin --url BASE`: Sign-In with
// Ethereum. The API key alone goes to stdout, for KEY=$(…).
func runPaySignIn(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f payFlags
	fs := newFlags("pay signin")
	f.register(fs)
	base := fs.String("url", "", "paymeter's base URL")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *base == "" {
		return usagef("pay signin: want --url BASE and nothing else")
	}
	c, err := f.client(stderr, true)
	if err != nil {
		return err
	}
	res, err := c.SignIn(ctx, *base)
	if err != nil {
		return payExit(err)
	}
	fresh := ""
	if res.IsNewAccount {
		fresh = ", new"
	}
	fmt.Fprintf(stderr, "signed in: %s (account %d%s, balance %s credits)\n", res.Address, res.Account.ID, fresh, res.Account.Balance)
	fmt.Fprintln(stdout, res.APIKey)
	return nil
}

// runPayBalance runs `paymeter pay balance`: the wallet's credits (with
// --url) and its token balance on chain (with --rpc and --token).
func runPayBalance(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f payFlags
	fs := newFlags("pay balance")
	f.register(fs)
	base := fs.String("url", "", "paymeter's base URL: the wallet's credits")
	rpc := fs.String("rpc", "", "a chain's JSON-RPC URL: the wallet's token balance (with --token)")
	token := fs.String("token", "", "the token's address (with --rpc)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || (*base == "" && *rpc == "") || (*rpc != "") != (*token != "") {
		return usagef("pay balance: want --url BASE, or --rpc URL --token ADDR, or both")
	}
	if *token != "" && !common.IsHexAddress(*token) {
		return usagef("pay balance: --token %q is not an address", *token)
	}
	c, err := f.client(stderr, true)
	if err != nil {
		return err
	}
	if *base != "" {
		a, err := c.Balance(ctx, *base)
		if err != nil {
			return payExit(err)
		}
		fmt.Fprintf(stdout, "balance: %s credits (wallet %s, account %d)\n", a.Balance, c.Address().Hex(), a.ID)
	}
	if *rpc != "" {
		units, permit2, err := payclient.TokenFunds(ctx, *rpc, common.HexToAddress(*token), c.Address())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token: %s units of %s (wallet %s)\n", units, common.HexToAddress(*token).Hex(), c.Address().Hex())
		fmt.Fprintln(stdout, permit2Line(permit2))
	}
	return nil
}
