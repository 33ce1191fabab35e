package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/contracts"
	"github.com/paymeter/paymeter/internal/auth"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// siwxNode runs testdata/interop/siwx.mjs with env and stdin, for at most a
// minute, and returns what it printed.
func siwxNode(t *testing.T, node string, stdin []byte, env ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "siwx.mjs")
	cmd.Dir = interopDir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("node siwx.mjs: %v\n%s%s", err, out, stderr)
	}
	return out
}

func hexKey(k *ecdsa.PrivateKey) string { return "0x" + hex.EncodeToString(crypto.FromECDSA(k)) }

// siwxFetched is what siwx.mjs prints in fetch mode.
type siwxFetched struct {
	Status  int             `json:"status"`
	Cost    string          `json:"cost"`
	Balance string          `json:"balance"`
	Sent    []bool          `json:"sent"`
	Body    json.RawMessage `json:"body"`
}

// siwxFetch has @x402/extensions' wrapFetchWithSIWx send one chat
// completion to m as key (or, with address, as that contract wallet).
func siwxFetch(t *testing.T, node string, m *Main, key *ecdsa.PrivateKey, address string) siwxFetched {
	t.Helper()
	env := []string{"MODE=fetch", "PAYMETER_URL=" + m.URL(), "SIGNER_KEY=" + hexKey(key)}
	if address != "" {
		env = append(env, "ADDRESS="+address)
	}
	out := siwxNode(t, node, nil, env...)
	var got siwxFetched
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("siwx.mjs printed %s: %v", out, err)
	}
	return got
}

// The real sign-in-with-x client of @x402/extensions spends a balance that
// x402 top-ups on a real EVM funded: an EOA's (EIP-191) and a contract
// wallet's (EIP-1271, its owner signing), by exactly X-Paymeter-Cost, with
// no new payment; a wallet with nothing gets the 402 again.
func TestInterop_SIWXSpendsToppedUpBalance(t *testing.T) {
	node := needNode(t)
	c := newSimChain(t)
	up := newFixtureUpstream(t)
	cfg := chainConfig(t, up.URL(), c)
	cfg.Wallet.InitialFreeCredits = 0 // a wallet holds what it topped up, nothing more
	m := mustRunChainMain(t, cfg, c)

	walletKey, _ := crypto.GenerateKey()
	wallet := crypto.PubkeyToAddress(walletKey.PublicKey)
	c.mint(t, wallet, 20_000_000)
	h, _ := c.signFor(t, walletKey, 10_000_000)
	topup(t, m, wallet, h)

	got := siwxFetch(t, node, m, walletKey, "")
	spent := mustSIWXServed(t, got, 10*meter.Credit)
	if w := walletOf(t, m, wallet); w.Balance != 10*meter.Credit-spent || w.FreeGranted != 0 {
		t.Fatalf("wallet %+v, want 10 credits less %s", w, spent)
	}
	if got := c.balance(t, wallet); got != 10_000_000 {
		t.Fatalf("the wallet holds %d tokens, want 10000000: sign-in paid nothing on chain", got)
	}
	// The account route takes a proof too (signed for a 402's challenge).
	info := siwxChallenge(t, m)
	hdr := siwxSign(t, node, []siwxEntry{{Info: info, RequestURL: m.URL() + "/api/v1/account", Key: hexKey(walletKey)}})[0]
	req, _ := http.NewRequest(http.MethodGet, m.URL()+"/api/v1/account", nil)
	req.Header.Set(x402.HeaderSIWX, hdr)
	resp := do(t, req)
	var acct struct{ Address, Balance string }
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK || json.Unmarshal(body, &acct) != nil ||
		acct.Address != wallet.Hex() || acct.Balance != (10*meter.Credit-spent).String() {
		t.Fatalf("GET /api/v1/account with SIGN-IN-WITH-X: %d %s", resp.StatusCode, body)
	}

	// A contract wallet, topped up by someone else, signs through its owner.
	ownerKey, _ := crypto.GenerateKey()
	contract, tx, _, err := contracts.DeployTestWallet(c.deployer, c.client, crypto.PubkeyToAddress(ownerKey.PublicKey))
	c.mined(t, tx, err)
	h, _ = c.signFor(t, walletKey, 10_000_000)
	topup(t, m, contract, h)
	got = siwxFetch(t, node, m, ownerKey, contract.Hex())
	spent = mustSIWXServed(t, got, 10*meter.Credit)
	if w := walletOf(t, m, contract); w.Balance != 10*meter.Credit-spent {
		t.Fatalf("contract wallet %+v, want 10 credits less %s", w, spent)
	}
	// A stranger's signature for the contract wallet is refused.
	stranger, _ := crypto.GenerateKey()
	hdr = siwxSign(t, node, []siwxEntry{{Info: siwxChallenge(t, m), RequestURL: m.URL(), Key: hexKey(stranger), Address: contract.Hex()}})[0]
	mustSIWXRefused(t, siwxSend(t, m.URL(), hdr), meter.ECodeInvalidSignature, "invalid_siwx_signature")
	if w := walletOf(t, m, contract); w.Balance != 10*meter.Credit-spent {
		t.Fatalf("contract wallet %+v after a stranger's proof", w)
	}

	// A wallet with no balance: its proof is taken, and the 402 comes again.
	poorKey, _ := crypto.GenerateKey()
	got = siwxFetch(t, node, m, poorKey, "")
	var e struct{ Error apiErrorFields }
	if json.Unmarshal(got.Body, &e) != nil || got.Status != http.StatusPaymentRequired ||
		e.Error.Code != meter.ECodeInsufficientCredit || fmt.Sprint(got.Sent) != "[false true]" {
		t.Fatalf("a wallet with nothing: %+v", got)
	}
	if w := walletOf(t, m, crypto.PubkeyToAddress(poorKey.PublicKey)); w == nil || w.Balance != 0 {
		t.Fatalf("the poor wallet's account %+v, want one with 0", w)
	}
	mustVerify(t, m)
}

// topup credits wallet's account with a top-up of 10 paid by header (v1).
func topup(t *testing.T, m *Main, wallet common.Address, header string) {
	t.Helper()
	resp := postWith(t, m, "/api/v1/topup/10", fmt.Sprintf(`{"walletAddress":%q}`, wallet.Hex()), x402.HeaderPaymentV1, header)
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("top-up of %s: %d %s", wallet.Hex(), resp.StatusCode, body)
	}
}

// mustSIWXServed checks that a fetch was served on its second request,
// the one with the proof, and that the balance it reports is before less
// the cost it reports; it returns the cost.
func mustSIWXServed(t *testing.T, got siwxFetched, before meter.Amount) meter.Amount {
	t.Helper()
	if got.Status != http.StatusOK || fmt.Sprint(got.Sent) != "[false true]" {
		t.Fatalf("wrapFetchWithSIWx: %+v, want 200 on the second request, the one signed", got)
	}
	cost, err := meter.ParseAmount(got.Cost)
	if err != nil || cost <= 0 {
		t.Fatalf("X-Paymeter-Cost %q", got.Cost)
	}
	if got.Balance != (before - cost).String() {
		t.Fatalf("X-Paymeter-Balance %s, want %s less %s", got.Balance, before, cost)
	}
	return cost
}

// paymeter rebuilds, byte for byte, the message @x402/extensions has a
// wallet sign (its SIWE library's layout), for every optional field
// present or absent and for an address in lower case.
func TestInterop_SIWXMessageLayout(t *testing.T) {
	node := needNode(t)
	addr := "0x857b06519E91e3A54538791bDbb0E22373e36b66"
	str := func(s string) *string { return &s }
	base := x402.SIWXPayload{Domain: "api.example.com", Address: addr, URI: "https://api.example.com/v1/chat/completions",
		Version: "1", ChainID: "eip155:84532", Type: "eip191", Nonce: "a1b2c3d4e5f67890a1b2c3d4e5f67890",
		IssuedAt: "2026-01-15T10:30:00.000Z", Signature: "0x00"}
	cases := []func(p *x402.SIWXPayload){
		func(p *x402.SIWXPayload) {},
		func(p *x402.SIWXPayload) { p.Statement = str("Sign in to paymeter to pay from this wallet's balance.") },
		func(p *x402.SIWXPayload) { p.ExpirationTime = str("2026-01-15T10:35:00.000Z") },
		func(p *x402.SIWXPayload) { p.NotBefore, p.RequestID = str("2026-01-15T10:29:00Z"), str("req-1") },
		func(p *x402.SIWXPayload) {
			p.Resources = []string{"https://api.example.com/a", "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"}
		},
		func(p *x402.SIWXPayload) {
			p.Statement, p.ExpirationTime, p.NotBefore = str("All of them."), str("2026-01-15T10:35:00.000Z"), str("2026-01-15T10:30:00.000Z")
			p.RequestID, p.Resources = str("r"), []string{"https://api.example.com/"}
		},
		func(p *x402.SIWXPayload) { p.Address = strings.ToLower(addr) },
	}
	type entry struct {
		Info    *x402.SIWXPayload `json:"info"`
		Address string            `json:"address"`
	}
	var entries []entry
	var want []string
	for _, edit := range cases {
		p := base
		edit(&p)
		msg, err := auth.SIWXMessage(&p)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, entry{&p, p.Address})
		want = append(want, msg)
	}
	in, _ := json.Marshal(entries)
	var got []string
	if out := siwxNode(t, node, in, "MODE=format"); json.Unmarshal(out, &got) != nil || len(got) != len(want) {
		t.Fatalf("siwx.mjs format printed %s", out)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("case %d: @x402/extensions writes\n%q\npaymeter\n%q", i, got[i], want[i])
		}
	}
}
