package meter

// FreeLimits keep fresh key pairs from farming initial free credits
// (docs/security.md): a wallet over either limit still gets its account,
// without the credits. Days are UTC days.
type FreeLimits struct {
	// PerClientPerDay is how many new wallets one client address (an IPv4
	// address, or an IPv6 /64) may have granted per day; 0: no limit.
	PerClientPerDay int
	// DailyBudget is the most granted to all wallets together per day; a
	// grant that would pass it is not made (never split); 0: no limit.
	DailyBudget Amount
}

// FreeGrant is what a wallet's account receives if its creation is what
// asks: the amount, the client address it is counted against, and the
// limits.
type FreeGrant struct {
	Amount Amount
	// Client is the IP address the wallet's first request came from.
	Client string
	FreeLimits
}
