package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
)

// freshWallets returns n new keys.
func freshWallets(t *testing.T, n int) []*ecdsa.PrivateKey {
	t.Helper()
	keys := make([]*ecdsa.PrivateKey, n)
	for i := range keys {
		k, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
	}
	return keys
}

// firstRequest sends a fresh wallet's first signed chat request and
// returns its status and, for an error, its body.
func firstRequest(t *testing.T, m *Main, key *ecdsa.PrivateKey) (int, apiError) {
	t.Helper()
	resp, err := http.DefaultClient.Do(signedRequest(t, m, key, auth.DefaultRealm, "/v1/chat/completions", helloChat))
	if err != nil {
		t.Error(err)
		return 0, apiError{}
	}
	body := readAll(t, resp)
	var e apiError
	if resp.StatusCode != http.StatusOK {
		if err := json.Unmarshal(body, &e); err != nil {
			t.Errorf("status %d, body %q is not an error: %v", resp.StatusCode, body, err)
		}
	}
	return resp.StatusCode, e
}

// grantedWallets counts the wallet accounts and those given free credits.
func grantedWallets(t *testing.T, m *Main) (wallets, granted int) {
	t.Helper()
	all, err := m.Ledger.FindAccounts(context.Background(), meter.AccountWallet)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		switch a.FreeGranted {
		case 0:
		case m.Config.Wallet.InitialFreeCredits:
			granted++
		default:
			t.Fatalf("account %d got %s free credits, want 0 or %s", a.ID, a.FreeGranted, m.Config.Wallet.InitialFreeCredits)
		}
	}
	return len(all), granted
}

// mustDenied checks a wallet's first 402 says why it had no free credits.
func mustDenied(t *testing.T, status int, e apiError, why string) {
	t.Helper()
	if status != http.StatusPaymentRequired || e.Error.Code != meter.ECodeInsufficientCredit {
		t.Fatalf("status=%d code=%q, want 402 insufficient_credits", status, e.Error.Code)
	}
	if got, _ := e.Error.Details["free_credits"].(string); !strings.Contains(got, why) {
		t.Fatalf("details.free_credits=%q, want it to say %q (details %v)", got, why, e.Error.Details)
	}
}

// 20 fresh wallets from one address: the first 3 get their free credits
// and are served; the others get an account without, and their first 402
// says why. The count survives a restart.
func TestFreeCredits_PerIPPerDay(t *testing.T) {
	cfg := testConfig(t, newFixtureUpstream(t).URL())
	m := NewMain(cfg, discardLogger())
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	for i, key := range freshWallets(t, 20) {
		status, e := firstRequest(t, m, key)
		switch {
		case i < 3 && status != http.StatusOK:
			t.Fatalf("wallet %d: status=%d %+v, want 200 on its free credits", i, status, e.Error)
		case i >= 3:
			mustDenied(t, status, e, "this IP address has had its 3 free grants today")
		}
	}
	if wallets, granted := grantedWallets(t, m); wallets != 20 || granted != 3 {
		t.Fatalf("wallet accounts=%d granted=%d, want 20 and 3", wallets, granted)
	}
	mustVerify(t, m)
	http.DefaultClient.CloseIdleConnections()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	m = MustRunMain(t, cfg) // same database: the day's count is still 3
	status, e := firstRequest(t, m, freshWallets(t, 1)[0])
	mustDenied(t, status, e, "3 free grants today")
	if _, granted := grantedWallets(t, m); granted != 3 {
		t.Fatalf("granted=%d after a restart, want 3", granted)
	}
}

// 20 fresh wallets from one address at once: exactly 3 are granted.
func TestFreeCredits_PerIPConcurrent(t *testing.T) {
	m := MustRunMain(t, testConfig(t, newFixtureUpstream(t).URL()))
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for _, key := range freshWallets(t, 20) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, e := firstRequest(t, m, key)
			if status != http.StatusOK {
				if got, _ := e.Error.Details["free_credits"].(string); !strings.Contains(got, "free grants today") {
					t.Errorf("status=%d details=%v, want the reason", status, e.Error.Details)
				}
			}
			mu.Lock()
			statuses[status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if statuses[http.StatusOK] != 3 || statuses[http.StatusPaymentRequired] != 17 {
		t.Fatalf("statuses=%v, want 3 × 200 and 17 × 402", statuses)
	}
	if wallets, granted := grantedWallets(t, m); wallets != 20 || granted != 3 {
		t.Fatalf("wallet accounts=%d granted=%d, want 20 and 3", wallets, granted)
	}
	mustVerify(t, m)
}

// The daily budget caps all wallets together: with 12 credits a day and 5
// per wallet, two wallets are granted; the third is told the budget is
// spent, also after a restart. A grant is never split.
func TestFreeCredits_DailyBudget(t *testing.T) {
	cfg := testConfig(t, newFixtureUpstream(t).URL())
	cfg.Wallet.FreeCreditsPerIPPerDay = 0 // off: only the budget counts
	cfg.Wallet.FreeCreditsDailyBudget = amt(t, "12")
	m := NewMain(cfg, discardLogger())
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	for i, key := range freshWallets(t, 4) {
		status, e := firstRequest(t, m, key)
		switch {
		case i < 2 && status != http.StatusOK:
			t.Fatalf("wallet %d: status=%d %+v, want 200", i, status, e.Error)
		case i >= 2:
			mustDenied(t, status, e, "daily free-credit budget spent")
		}
	}
	if wallets, granted := grantedWallets(t, m); wallets != 4 || granted != 2 {
		t.Fatalf("wallet accounts=%d granted=%d, want 4 and 2", wallets, granted)
	}
	http.DefaultClient.CloseIdleConnections()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = MustRunMain(t, cfg)
	status, e := firstRequest(t, m, freshWallets(t, 1)[0])
	mustDenied(t, status, e, "daily free-credit budget spent")
	mustVerify(t, m)
}

// Sign-In with Ethereum creates accounts under the same limits: of 5 new
// wallets signing in from one address, 3 get free credits; the others
// get an account and a key, and the key's first 402 says why.
func TestFreeCredits_SIWEPerIP(t *testing.T) {
	cfg := testConfig(t, newFixtureUpstream(t).URL())
	cfg.SIWE.RateLimitPerMinute = 1000
	m := MustRunMain(t, cfg)
	var keys []string
	for i, key := range freshWallets(t, 5) {
		r := signIn(t, m, key)
		if !r.IsNewAccount {
			t.Fatalf("wallet %d: not a new account", i)
		}
		if want := map[bool]string{true: "5", false: "0"}[i < 3]; r.Account.FreeCreditsGranted != want {
			t.Fatalf("wallet %d: freeCreditsGranted=%q, want %s", i, r.Account.FreeCreditsGranted, want)
		}
		keys = append(keys, r.APIKey)
	}
	resp := post(t, m, "/v1/chat/completions", keys[3], helloChat)
	e := mustError(t, resp, http.StatusPaymentRequired, meter.ECodeInsufficientCredit)
	if got, _ := e.Error.Details["free_credits"].(string); !strings.Contains(got, "3 free grants today") {
		t.Fatalf("details=%v, want the reason", e.Error.Details)
	}
	if resp := post(t, m, "/v1/chat/completions", keys[0], helloChat); resp.StatusCode != http.StatusOK {
		t.Fatalf("granted wallet's key: %d %s", resp.StatusCode, readAll(t, resp))
	}
	mustVerify(t, m)
}

type signInResult struct {
	APIKey       string `json:"apiKey"`
	IsNewAccount bool   `json:"isNewAccount"`
	Account      struct {
		FreeCreditsGranted string `json:"freeCreditsGranted"`
	} `json:"account"`
}

// signIn signs in with Ethereum as key, on the chain the nonce names.
func signIn(t *testing.T, m *Main, key *ecdsa.PrivateKey) signInResult {
	t.Helper()
	resp, err := http.Get(m.URL() + "/api/auth/siwe/nonce")
	if err != nil {
		t.Fatal(err)
	}
	var nonce struct {
		Nonce, Domain, URI, Statement string
		ChainID                       int64
	}
	if err := json.Unmarshal(readAll(t, resp), &nonce); err != nil {
		t.Fatal(err)
	}
	msg := (&auth.SIWEMessage{Domain: nonce.Domain, Address: crypto.PubkeyToAddress(key.PublicKey), Statement: nonce.Statement,
		URI: nonce.URI, Version: "1", ChainID: nonce.ChainID, Nonce: nonce.Nonce, IssuedAt: time.Now().UTC().Truncate(time.Second)}).String()
	sig, err := crypto.Sign(accounts.TextHash([]byte(msg)), key)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	body, _ := json.Marshal(map[string]string{"message": msg, "signature": "0x" + hex.EncodeToString(sig)})
	resp = postWith(t, m, "/api/auth/siwe/verify", string(body))
	b := readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, b)
	}
	var r signInResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// The free-credit limits and the EIP-1271 chain are checked by field name;
// the chain defaults to the one network paymeter can reach, and is none
// when several chains could be meant.
func TestConfig_FreeCreditsAndEIP1271Chain(t *testing.T) {
	cfg := testConfig(t, "http://127.0.0.1:1/v1")
	if cfg.Wallet.FreeCreditsPerIPPerDay != 3 || cfg.Wallet.FreeCreditsDailyBudget != 100*meter.Credit || cfg.Wallet.EIP1271ChainID != 0 {
		t.Fatalf("defaults: %+v", cfg.Wallet)
	}
	cfg.Wallet.FreeCreditsPerIPPerDay = -1
	cfg.Wallet.FreeCreditsDailyBudget = -1
	cfg.Wallet.EIP1271ChainID = 8453 // no network with an rpc_url is on it
	err := cfg.Validate()
	for _, field := range []string{"wallet.free_credits_per_ip_per_day:", "wallet.free_credits_daily_budget:", "wallet.eip1271_chain_id:"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}

	network := func(name string) NetworkConfig {
		return NetworkConfig{Name: name, Asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", TokenName: "USDC", TokenVersion: "2",
			PayTo: "0x00000000000000000000000000000000000Fee01", Settlement: "chain", RPCURL: "http://127.0.0.1:8545"}
	}
	cfg = testConfig(t, "http://127.0.0.1:1/v1")
	cfg.X402.RelayerKey = strings.Repeat("11", 32)
	cfg.X402.Networks = []NetworkConfig{network("base-sepolia")}
	if err := cfg.Validate(); err != nil || cfg.ContractChainID() != 84532 {
		t.Fatalf("one chain: err=%v chain=%d, want 84532", err, cfg.ContractChainID())
	}
	cfg.X402.Networks = append(cfg.X402.Networks, network("base"))
	if cfg.ContractChainID() != 0 {
		t.Fatalf("two chains, none named: chain=%d, want 0 (off)", cfg.ContractChainID())
	}
	cfg.Wallet.EIP1271ChainID = 8453
	if err := cfg.Validate(); err != nil || cfg.ContractChainID() != 8453 {
		t.Fatalf("two chains, one named: err=%v chain=%d, want 8453", err, cfg.ContractChainID())
	}
}

// Behind a trusted proxy, the free-credit limit counts each IPv6 client by
// its /64 (one host holds a whole /64) and each IPv4 client alone.
func TestFreeCredits_IPv6ClientsCountedBy64(t *testing.T) {
	up := newFixtureUpstream(t)
	cfg := testConfig(t, up.URL())
	cfg.Server.TrustedProxies = []string{"127.0.0.1/32"}
	m := MustRunMain(t, cfg)
	from := func(key *ecdsa.PrivateKey, client string) int {
		req := signedRequest(t, m, key, auth.DefaultRealm, "/v1/chat/completions", helloChat)
		req.Header.Set("X-Forwarded-For", client)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		return resp.StatusCode
	}
	served := 0
	for i, key := range freshWallets(t, 8) {
		// Eight hosts of one /64, each with its own interface id.
		if from(key, "2001:db8:1:2::"+strings.Repeat("a", 1+i%4)+":"+string(rune('1'+i))) == http.StatusOK {
			served++
		}
	}
	if served != 3 {
		t.Fatalf("%d of 8 fresh wallets in one /64 got free credits, want 3", served)
	}
	if from(freshWallets(t, 1)[0], "2001:db8:1:3::1") != http.StatusOK {
		t.Fatal("a wallet from the next /64 was refused its free credits")
	}
	if _, granted := grantedWallets(t, m); granted != 4 {
		t.Fatalf("%d wallets granted, want 4", granted)
	}
}
