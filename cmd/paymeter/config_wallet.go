package main

import "slices"

// validateFreeCredits checks the free-credit limits and the EIP-1271 chain.
func (c *Config) validateFreeCredits(bad func(path, format string, args ...any)) {
	w := &c.Wallet
	if n := w.FreeCreditsPerIPPerDay; n < 0 || n > 1_000_000 {
		bad("wallet.free_credits_per_ip_per_day", "%d is outside 0 (no limit) … 1000000", n)
	}
	if w.FreeCreditsDailyBudget < 0 {
		bad("wallet.free_credits_daily_budget", "must not be negative (0: no limit)")
	}
	if w.EIP1271ChainID < 0 {
		bad("wallet.eip1271_chain_id", "%d is not a chain id", w.EIP1271ChainID)
	} else if w.EIP1271ChainID > 0 && !slices.Contains(c.rpcChainIDs(), w.EIP1271ChainID) {
		bad("wallet.eip1271_chain_id", "%d is not the chain_id of a network in x402.networks with an rpc_url", w.EIP1271ChainID)
	}
}

// rpcChainIDs are the distinct chain ids of the networks paymeter can
// reach over JSON-RPC.
func (c *Config) rpcChainIDs() []int64 {
	var ids []int64
	for _, nc := range c.X402.Networks {
		if nc.RPCURL == "" {
			continue
		}
		if n, err := nc.network(); err == nil && !slices.Contains(ids, n.ChainID) {
			ids = append(ids, n.ChainID)
		}
	}
	return ids
}

// ContractChainID is the chain wallet-header, SIWE and sign-in-with-x signatures of
// smart-contract wallets are checked on: wallet.eip1271_chain_id, or the
// only chain with an rpc_url; 0 (none) when that is ambiguous, so that one
// bad signature never costs a round trip to every chain.
func (c *Config) ContractChainID() int64 {
	if c.Wallet.EIP1271ChainID != 0 {
		return c.Wallet.EIP1271ChainID
	}
	if ids := c.rpcChainIDs(); len(ids) == 1 {
		return ids[0]
	}
	return 0
}
