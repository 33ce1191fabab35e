package payclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
	"github.com/paymeter/paymeter/internal/x402"
)

// facilitator is the address an upto 402 names to settle.
var facilitator = common.HexToAddress("0x1111111111111111111111111111111111111111")

// uptoChallenge offers exact at exactUnits and upto of up to uptoUnits
// (asset: Base Sepolia's canonical USDC).
func uptoChallenge(exactUnits, uptoUnits meter.USDC) *x402.Challenge {
	ch := challenge(exactUnits)
	ch.Upto = &x402.UptoOffer{Amount: uptoUnits, MaxTimeoutSeconds: 300,
		Facilitators: map[*x402.Network]common.Address{ch.Networks[0]: facilitator}}
	return ch
}

// uptoHeader is a PAYMENT-REQUIRED value offering only the upto
// requirement of ch, as edited by edit (raw JSON: extra fields too).
func uptoHeader(t *testing.T, ch *x402.Challenge, edit func(r map[string]any)) string {
	t.Helper()
	b, _ := json.Marshal(ch.UptoRequirement(ch.Networks[0]))
	var r map[string]any
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	edit(r)
	pr, _ := json.Marshal(map[string]any{"x402Version": 2, "resource": ch.Resource, "accepts": []any{r}})
	return b64(string(pr))
}

// acceptAll answers the first request with header and any paid one 200,
// with receipt as its PAYMENT-RESPONSE.
func acceptAll(header, receipt string) func(n int, w http.ResponseWriter, r *http.Request) {
	return func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			write402(w, header, `{"error":{"code":"payment_required","message":"pay"}}`)
			return
		}
		if receipt != "" {
			w.Header().Set(x402.HeaderResponseV2, receipt)
		}
		io.WriteString(w, `{"object":"chat.completion"}`)
	}
}

// An upto payment signs exactly what @x402/evm's client signs: a Permit2
// permit of the quoted maximum of the 402's asset, spender the upto
// proxy, witness payTo and the 402's facilitator, validAfter 0, deadline
// now + maxTimeoutSeconds, the nonce drawn from Rand; the receipt's
// amount is the charge.
func TestDo_UptoPaysThePermit(t *testing.T) {
	ch := uptoChallenge(5000, 5000)
	receipt := b64(`{"success":true,"transaction":"","network":"eip155:84532","payer":"0xabc","amount":"34"}`)
	s := newServer(t, acceptAll(ch.HeaderV2("payment_required"), receipt))
	c := newClient(t)
	now := time.Unix(1_750_000_000, 0)
	nonce := bytes.Repeat([]byte{0xab}, 32)
	c.Now, c.Rand = func() time.Time { return now }, bytes.NewReader(nonce)
	res, err := post(t, c, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Response.Body.Close()
	if r := res.Paid; r.Scheme != "upto" || r.Units != 5000 || r.Facilitator != facilitator || r.Version != 2 || !res.HasCharged || res.Charged != 34 {
		t.Fatalf("paid %+v charged %d %v", r, res.Charged, res.HasCharged)
	}
	if req, pay := s.counts(); req != 2 || pay != 1 {
		t.Fatalf("%d requests, %d payments; want 2 and 1", req, pay)
	}
	p, err := x402.DecodeUpto(s.payments[0])
	if err != nil {
		t.Fatal(err)
	}
	a := p.Permit
	wantNonce := new(big.Int).SetBytes(nonce)
	if a.From != c.Address() || a.Token != asset || a.Amount.Int64() != 5000 || a.Spender != x402.UptoProxyAddress ||
		a.Nonce.Cmp(wantNonce) != 0 || a.Deadline.Int64() != now.Unix()+300 || a.To != payTo || a.Facilitator != facilitator ||
		a.ValidAfter.Sign() != 0 || p.Network != "eip155:84532" || p.Accepted.Scheme != "upto" || p.Accepted.Amount != "5000" {
		t.Fatalf("permit %+v accepted %+v", a, p.Accepted)
	}
	digest, err := x402.UptoDigest(84532, &a)
	if err != nil {
		t.Fatal(err)
	}
	sig := append([]byte(nil), p.Signature...)
	sig[64] -= 27
	if pub, err := crypto.SigToPub(digest[:], sig); err != nil || crypto.PubkeyToAddress(*pub) != c.Address() {
		t.Fatalf("the signature recovers to %v (%v), want %s", pub, err, c.Address())
	}
}

// Auto prefers upto, unless its maximum was raised above exact's price
// (the server's least settlement): then exact costs less; --scheme exact pays exact; v1 has no upto, so
// --x402 1 pays exact; an upto quote above Max falls back to exact within
// it; both above Max is over max at the cheaper.
func TestDo_UptoOrExact(t *testing.T) {
	for _, tt := range []struct {
		name          string
		exact, upto   meter.USDC
		scheme        string
		version       int
		wantScheme    string
		wantVersion   int
		overMaxAtUnit meter.USDC
	}{
		{"auto", 5000, 5000, "", 0, "upto", 2, 0},
		{"auto, upto raised above exact", 3000, 5000, "", 0, "exact", 2, 0},
		{"upto forced, raised above exact", 3000, 5000, "upto", 0, "upto", 2, 0},
		{"exact", 3000, 5000, "exact", 0, "exact", 2, 0},
		{"v1", 3000, 5000, "", 1, "exact", 1, 0},
		{"upto above max", 3000, 2_000_000, "", 0, "exact", 2, 0},
		{"both above max", 1_500_000, 2_000_000, "", 0, "", 0, 1_500_000},
		{"upto forced above max", 3000, 2_000_000, "upto", 0, "", 0, 2_000_000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ch := uptoChallenge(tt.exact, tt.upto)
			s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					write402(w, ch.HeaderV2("payment_required"), v1Of(ch, "payment_required"))
					return
				}
				io.WriteString(w, "{}")
			})
			c := newClient(t)
			c.Scheme, c.Version = tt.scheme, tt.version
			res, err := post(t, c, s.URL)
			var over *OverMaxError
			switch {
			case tt.overMaxAtUnit != 0:
				if !errors.As(err, &over) || over.Requirement.Units != tt.overMaxAtUnit {
					t.Fatalf("err %v, want over max at %d", err, tt.overMaxAtUnit)
				}
				if _, pay := s.counts(); pay != 0 {
					t.Fatalf("%d payments after over max", pay)
				}
			case err != nil:
				t.Fatal(err)
			case res.Paid.Scheme != tt.wantScheme || res.Paid.Version != tt.wantVersion:
				t.Fatalf("paid %s v%d, want %s v%d", res.Paid.Scheme, res.Paid.Version, tt.wantScheme, tt.wantVersion)
			}
		})
	}
}

// A hostile upto 402 gets nothing signed: each requirement is refused for
// what it is, and, offered beside a good exact one, exact is paid.
func TestDo_UptoHostile402(t *testing.T) {
	cbBTC := "0xcbB7C0000aB88B473b1f5aFd9ef808440eed33Bf"
	extra := func(r map[string]any) map[string]any { return r["extra"].(map[string]any) }
	for _, tt := range []struct {
		name   string
		edit   func(r map[string]any)
		reason string
	}{
		{"wrong spender", func(r map[string]any) { extra(r)["spender"] = "0x2222222222222222222222222222222222222222" },
			`upto: extra.spender names "0x2222222222222222222222222222222222222222", not the x402 upto proxy 0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002`},
		{"spender not an address", func(r map[string]any) { extra(r)["Spender"] = 7 }, `upto: extra.Spender names 7, not the x402 upto proxy`},
		{"asset not USDC", func(r map[string]any) { r["asset"] = cbBTC },
			"v2 upto on eip155:84532: asset 0xcbB7C0000aB88B473b1f5aFd9ef808440eed33Bf is not USDC there"},
		{"asset USDC of another chain", func(r map[string]any) { r["asset"] = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913" },
			"asset 0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913 is not USDC there"},
		{"no facilitatorAddress", func(r map[string]any) { delete(extra(r), "facilitatorAddress") },
			"upto: extra lacks facilitatorAddress, the one address the permit would let settle it"},
		{"no extra", func(r map[string]any) { delete(r, "extra") }, "upto: extra lacks facilitatorAddress"},
		{"zero facilitator", func(r map[string]any) { extra(r)["facilitatorAddress"] = common.Address{}.Hex() },
			`upto: extra.facilitatorAddress "0x0000000000000000000000000000000000000000" is not an address`},
		{"another transfer method", func(r map[string]any) { extra(r)["assetTransferMethod"] = "eip3009" },
			`upto: extra.assetTransferMethod "eip3009" is not "permit2"`},
		{"huge amount", func(r map[string]any) { r["amount"] = strings.Repeat("9", 30) }, "is not a positive integer of at most 18 digits"},
		{"exponent", func(r map[string]any) { r["amount"] = "1e6" }, `amount "1e6" is not a plain decimal integer`},
		{"timeout", func(r map[string]any) { r["maxTimeoutSeconds"] = 90_000 }, "maxTimeoutSeconds 90000 is outside 10 … 86400"},
		{"network", func(r map[string]any) { r["network"] = "solana:mainnet" }, `network "solana:mainnet" is not an eip155 network`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ch := uptoChallenge(3000, 5000)
			s := newServer(t, acceptAll(uptoHeader(t, ch, tt.edit), ""))
			_, err := post(t, newClient(t), s.URL)
			var bad *MalformedError
			if !errors.As(err, &bad) || !strings.Contains(bad.Reason, tt.reason) {
				t.Fatalf("err %v, want malformed with %q", err, tt.reason)
			}
			if req, pay := s.counts(); req != 1 || pay != 0 {
				t.Fatalf("%d requests, %d payments; want 1 and 0", req, pay)
			}
		})
	}
	// Beside a good exact requirement, a hostile upto one is passed over.
	ch := uptoChallenge(5000, 5000)
	good := ch.Requirement(ch.Networks[0])
	bad := ch.UptoRequirement(ch.Networks[0])
	bad.Asset = cbBTC
	pr, _ := json.Marshal(x402.PaymentRequired{X402Version: 2, Resource: ch.Resource, Accepts: []x402.Requirement{bad, good}})
	s := newServer(t, acceptAll(b64(string(pr)), ""))
	res, err := post(t, newClient(t), s.URL)
	if err != nil || res.Paid.Scheme != "exact" || res.Paid.Units != 5000 {
		t.Fatalf("err %v paid %+v, want exact", err, res)
	}
	// The asset is paid upto when the payer names it.
	s = newServer(t, acceptAll(b64(string(pr)), ""))
	c := newClient(t)
	c.Assets = []common.Address{common.HexToAddress(cbBTC)}
	if res, err = post(t, c, s.URL); err != nil || res.Paid.Scheme != "upto" || res.Paid.Asset != common.HexToAddress(cbBTC) {
		t.Fatalf("err %v paid %+v, want upto in the named asset", err, res)
	}
}

// An upto cap's 429 or 503 is the payment refused, with its Retry-After
// and a hint; another 503 is the server's answer, body whole.
func TestDo_UptoCapRefused(t *testing.T) {
	ch := uptoChallenge(5000, 5000)
	for _, tt := range []struct {
		name, code, hint string
		status           int
	}{
		{"limit", meter.ECodeUptoLimitReached, "upto payments served are settled in the background; retry after 3 s, or pay with --scheme exact", 429},
		{"capacity", meter.ECodeUptoCapacity, "upto payments served are settled in the background; retry after 3 s, or pay with --scheme exact", 503},
		{"failed", meter.ECodeUptoSettlementFailed, "an earlier upto payment of this wallet could not be settled: restore its token balance and Permit2 allowance", 402},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					write402(w, ch.HeaderV2("payment_required"), "")
					return
				}
				w.Header().Set("Retry-After", "3")
				w.WriteHeader(tt.status)
				io.WriteString(w, `{"error":{"code":"`+tt.code+`","message":"wait"}}`)
			})
			_, err := post(t, newClient(t), s.URL)
			var rej *RejectedError
			if !errors.As(err, &rej) || rej.Status != tt.status || rej.Code != tt.code || rej.Hint() != tt.hint {
				t.Fatalf("err %v (%+v), want refused %d %s", err, rej, tt.status, tt.code)
			}
		})
	}
	big := `{"error":{"code":"upstream_unavailable","message":"` + strings.Repeat("x", 70<<10) + `"}}`
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			write402(w, ch.HeaderV2("payment_required"), "")
			return
		}
		w.WriteHeader(503)
		io.WriteString(w, big)
	})
	res, err := post(t, newClient(t), s.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Response.Body)
	res.Response.Body.Close()
	if res.Response.StatusCode != 503 || string(body) != big || res.Paid.Scheme != "upto" {
		t.Fatalf("%d, body of %d bytes (want %d)", res.Response.StatusCode, len(body), len(big))
	}
}
