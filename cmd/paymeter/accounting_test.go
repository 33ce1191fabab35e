package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/meter"
)

// withCost is an upstream body with paymeter's cost written into its
// usage, the body's last object: what a client gets.
func withCost(body []byte, cost string) string {
	s := strings.TrimRight(string(body), "\n")
	i := strings.LastIndex(s, "}}")
	return s[:i] + `,"paymeter_cost":"` + cost + `"}}` + string(body[len(s):])
}

// usageCost reads the paymeter_cost of a JSON body's (or chunk's) usage.
func usageCost(t *testing.T, data string) string {
	t.Helper()
	var v struct {
		Usage map[string]json.RawMessage `json:"usage"`
	}
	if err := json.Unmarshal([]byte(data), &v); err != nil {
		t.Fatalf("%q: %v", data, err)
	}
	var cost string
	if raw, ok := v.Usage["paymeter_cost"]; !ok || json.Unmarshal(raw, &cost) != nil {
		t.Fatalf("no paymeter_cost string in %s", data)
	}
	return cost
}

// chunks returns the JSON data of a stream's events, [DONE] left out.
func chunks(stream string) []string {
	var out []string
	for _, ev := range strings.Split(stream, "\n\n") {
		if data, ok := strings.CutPrefix(ev, "data: "); ok && data != "[DONE]" {
			out = append(out, data)
		}
	}
	return out
}

// The cost is in the body of a whole answer, in its usage, as the header
// says, and the balance left is in X-Paymeter-Balance.
func TestCostInBand_WholeAnswer(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	resp := post(t, m, "/v1/chat/completions", key, helloChat)
	body := string(readAll(t, resp))
	// 19 in, 16 out at 0.5 and 1.5 per million.
	if want := withCost(fixture("chat.json"), "0.0000335"); resp.StatusCode != http.StatusOK || body != want {
		t.Fatalf("status=%d body=%s, want 200 and %s", resp.StatusCode, body, want)
	}
	if got := resp.Header.Get("X-Paymeter-Cost"); got != usageCost(t, body) {
		t.Fatalf("X-Paymeter-Cost=%q, body's paymeter_cost=%q, want equal", got, usageCost(t, body))
	}
	if e := usageEntries(t, m, a.ID)[0]; -e.Amount != amt(t, usageCost(t, body)) {
		t.Fatalf("journal charged %s, the body says %s", -e.Amount, usageCost(t, body))
	}
	if got, want := resp.Header.Get("X-Paymeter-Balance"), "0.9999665"; got != want {
		t.Fatalf("X-Paymeter-Balance=%q, want %q", got, want)
	}
	mustVerify(t, m)
}

// A streamed answer carries the cost in the usage chunk, as the trailer
// and the journal say; X-Paymeter-Balance at its start is what is left
// with its worst case held.
func TestCostInBand_Stream(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	body := strings.Replace(streamChat, `"stream":true`, `"stream":true,"stream_options":{"include_usage":true}`, 1)
	worst := worstCase(t, m, body)

	resp := post(t, m, "/v1/chat/completions", key, body)
	if got, want := resp.Header.Get("X-Paymeter-Balance"), (amt(t, "1") - worst).String(); got != want {
		t.Fatalf("X-Paymeter-Balance=%q, want %q (1 less the hold %s)", got, want, worst)
	}
	stream := string(readAll(t, resp))
	cs := chunks(stream)
	last := cs[len(cs)-1]
	// 19 in and 8 out at 0.5 and 1.5 per million.
	if got, want := usageCost(t, last), "0.0000215"; got != want || resp.Trailer.Get("X-Paymeter-Cost") != want {
		t.Fatalf("usage chunk's paymeter_cost=%q, trailer %q, want both %q", got, resp.Trailer.Get("X-Paymeter-Cost"), want)
	}
	if e := usageEntries(t, m, a.ID)[0]; e.Amount != -amt(t, "0.0000215") {
		t.Fatalf("journal charged %s, want 0.0000215", -e.Amount)
	}
	if n := strings.Count(stream, "paymeter_cost"); n != 1 {
		t.Fatalf("paymeter_cost %d times in the stream, want once", n)
	}
	mustVerify(t, m)
}

// usageInContent is a stream whose usage comes in the chunk that also
// carries the last content and the finish_reason.
var usageInContent = []string{
	"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"demo-small\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Forty\"},\"finish_reason\":null}]}\n\n",
	"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"demo-small\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"-two.\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":7,\"total_tokens\":37}}\n\n",
	"data: [DONE]\n\n",
}

// continuousUsage repeats the usage, cumulative, in every chunk (vLLM's
// continuous_usage_stats), CRLF line ends: the last one is charged.
var continuousUsage = []string{
	"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":1}}\r\n\r\n",
	"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"}}],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":2}}\r\n\r\n",
	"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":3}}\r\n\r\n",
	"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":5}}\r\n\r\n",
	"data: [DONE]\r\n\r\n",
}

// Usage is read from whichever chunk carries it, the last one winning; a
// chunk that carries content is passed on even to a client that did not
// ask for usage; each usage chunk carries the cost so far, the last one
// what the trailer and the journal say.
func TestStream_UsageFromAnyChunk(t *testing.T) {
	for _, tt := range []struct {
		name        string
		events      []string
		askUsage    bool
		wantContent []string
		wantCosts   []string
		want        meter.Usage
	}{
		// 30 × 500 + 7 × 1500 nano-credits.
		{"in the chunk with content, not asked", usageInContent, false, []string{"Forty", "-two."}, []string{"0.0000255"},
			meter.Usage{InputTokens: 30, OutputTokens: 7}},
		{"in the chunk with content, asked", usageInContent, true, []string{"Forty", "-two."}, []string{"0.0000255"},
			meter.Usage{InputTokens: 30, OutputTokens: 7}},
		// 30 × 500 + n × 1500; the last, usage-only chunk is dropped when not asked.
		{"cumulative in every chunk, not asked", continuousUsage, false, []string{"Hi", " there"},
			[]string{"0.0000165", "0.000018", "0.0000195"}, meter.Usage{InputTokens: 30, OutputTokens: 5}},
		{"cumulative in every chunk, asked", continuousUsage, true, []string{"Hi", " there"},
			[]string{"0.0000165", "0.000018", "0.0000195", "0.0000225"}, meter.Usage{InputTokens: 30, OutputTokens: 5}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			up := newFixtureUpstream(t)
			up.Events = tt.events
			m := MustRunMain(t, testConfig(t, up.URL()))
			a, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
			body := streamChat
			if tt.askUsage {
				body = strings.Replace(body, `"stream":true`, `"stream":true,"stream_options":{"include_usage":true}`, 1)
			}
			resp := post(t, m, "/v1/chat/completions", key, body)
			stream := strings.ReplaceAll(string(readAll(t, resp)), "\r\n", "\n")
			for _, c := range tt.wantContent {
				if !strings.Contains(stream, `"content":"`+c+`"`) {
					t.Fatalf("content %q not passed on: %s", c, stream)
				}
			}
			var costs []string
			for _, c := range chunks(stream) {
				if strings.Contains(c, `"usage"`) {
					costs = append(costs, usageCost(t, c))
				}
			}
			if strings.Join(costs, " ") != strings.Join(tt.wantCosts, " ") {
				t.Fatalf("paymeter_cost of the usage chunks=%v, want %v", costs, tt.wantCosts)
			}
			e := usageEntries(t, m, a.ID)
			if len(e) != 1 || e[0].Usage != tt.want || e[0].Estimated || e[0].Amount != -amt(t, resp.Trailer.Get("X-Paymeter-Cost")) {
				t.Fatalf("entries=%+v, want one of %+v charging the trailer's %s", e, tt.want, resp.Trailer.Get("X-Paymeter-Cost"))
			}
			if want := meter.Amount(15000 + 1500*tt.want.OutputTokens); e[0].Amount != -want {
				t.Fatalf("charged %d, want %d nano-credits", -e[0].Amount, want)
			}
			mustVerify(t, m)
		})
	}
}

// X-Paymeter-Balance is what the payer may be told: a session token with
// a cap is told what its cap leaves, one without learns nothing of the
// app's balance (docs/security.md, M6).
func TestBalanceHeader_SubPrincipals(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	_, key := mustApp(t, m, "1", meter.DefaultKeyScopes)

	capped := mintSession(t, m, key, `{"spendCap":"0.001"}`)
	resp := post(t, m, "/v1/chat/completions", capped.SessionToken, chatWith(20, ""))
	readAll(t, resp)
	if got, want := resp.Header.Get("X-Paymeter-Balance"), "0.0009665"; resp.StatusCode != http.StatusOK || got != want {
		t.Fatalf("status=%d X-Paymeter-Balance=%q, want 200 and %q (the cap less 0.0000335)", resp.StatusCode, got, want)
	}
	uncapped := mintSession(t, m, key, `{}`)
	for _, body := range []string{chatWith(20, ""), streamChat} {
		resp = post(t, m, "/v1/chat/completions", uncapped.SessionToken, body)
		readAll(t, resp)
		if got, ok := resp.Header["X-Paymeter-Balance"]; resp.StatusCode != http.StatusOK || ok {
			t.Fatalf("status=%d X-Paymeter-Balance=%q, want 200 and none", resp.StatusCode, got)
		}
	}
}

// affordable reads details.affordable_max_tokens of a refusal; ok is
// false when it has none.
func affordable(t *testing.T, e apiError) (n int64, ok bool) {
	t.Helper()
	v, ok := e.Error.Details["affordable_max_tokens"].(float64)
	return int64(v), ok
}

func chatWith(maxTokens int64, extra string) string {
	return strings.Replace(helloChat, `"model"`, extra+`"max_tokens":`+strconv.FormatInt(maxTokens, 10)+`,"model"`, 1)
}

// A 402 says how many output tokens the balance covers: exactly the most
// that it does, so that the retry with it is served and one more is not.
func TestAffordableMaxTokens(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	// The input's bound costs what a hold for one output token does, less
	// that token (1500 nano-credits at 1.5 per million).
	input := worstCase(t, m, chatWith(1, "")) - 1500
	// 48 bytes of content and roles, 2 × 8 per message, 16 per request.
	if want := meter.Amount(80 * 500); input != want {
		t.Fatalf("input bound costs %d, want %d", input, want)
	}
	const n = 1000
	// Enough for n output tokens and two thirds of one more.
	a, key := mustApp(t, m, (input + n*1500 + 1000).Decimal().String(), meter.DefaultKeyScopes)

	for _, tt := range []struct {
		name       string
		body       string
		wantAfford int64
	}{
		{"max_tokens 4096", chatWith(4096, ""), n},
		{"one too many", chatWith(n+1, ""), n},
		{"two choices share it", chatWith(4096, `"n":2,`), n / 2},
		{"no max_tokens: the model's cap", helloChat, n},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := mustError(t, post(t, m, "/v1/chat/completions", key, tt.body), http.StatusPaymentRequired, meter.ECodeInsufficientCredit)
			if got, ok := affordable(t, e); !ok || got != tt.wantAfford {
				t.Fatalf("affordable_max_tokens=%d (%t), want %d; details %v", got, ok, tt.wantAfford, e.Error.Details)
			}
		})
	}
	resp := post(t, m, "/v1/chat/completions", key, chatWith(n, ""))
	if raw := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("retry with max_tokens %d: %d %s", n, resp.StatusCode, raw)
	}
	waitSettled(t, m, a.ID)

	// Not even the input: 0.
	_, poor := mustApp(t, m, (input - 1).Decimal().String(), meter.DefaultKeyScopes)
	e := mustError(t, post(t, m, "/v1/chat/completions", poor, chatWith(10, "")), http.StatusPaymentRequired, meter.ECodeInsufficientCredit)
	if got, ok := affordable(t, e); !ok || got != 0 {
		t.Fatalf("affordable_max_tokens=%d (%t), want 0", got, ok)
	}
	mustVerify(t, m)
}

// A session token refused by its own cap is told what its cap covers; one
// refused because the app is short is told nothing that would disclose
// the app's balance (M6).
func TestAffordableMaxTokens_SubPrincipals(t *testing.T) {
	up := newFixtureUpstream(t)
	m := MustRunMain(t, testConfig(t, up.URL()))
	input := meter.Amount(80 * 500) // as in TestAffordableMaxTokens
	_, key := mustApp(t, m, "1", meter.DefaultKeyScopes)
	capped := mintSession(t, m, key, `{"spendCap":"`+(input+300*1500).Decimal().String()+`"}`)
	e := mustError(t, post(t, m, "/v1/chat/completions", capped.SessionToken, chatWith(4096, "")), http.StatusForbidden, meter.ECodeSpendCapExceeded)
	if got, ok := affordable(t, e); !ok || got != 300 {
		t.Fatalf("affordable_max_tokens=%d (%t), want 300; details %v", got, ok, e.Error.Details)
	}
	resp := post(t, m, "/v1/chat/completions", capped.SessionToken, chatWith(300, ""))
	if raw := readAll(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("retry with max_tokens 300: %d %s", resp.StatusCode, raw)
	}

	_, shortKey := mustApp(t, m, (input + 10*1500).Decimal().String(), meter.DefaultKeyScopes)
	for _, body := range []string{`{}`, `{"spendCap":"1"}`} {
		s := mintSession(t, m, shortKey, body)
		e := mustError(t, post(t, m, "/v1/chat/completions", s.SessionToken, chatWith(4096, "")), http.StatusPaymentRequired, meter.ECodeInsufficientCredit)
		if _, ok := affordable(t, e); ok || e.Error.Details["available"] != nil {
			t.Fatalf("session %s: details %v, want neither affordable_max_tokens nor available", body, e.Error.Details)
		}
	}
}

// A request that paid for itself with x402 has no balance to tell: no
// X-Paymeter-Balance; its cost is in the body as in the header.
func TestBalanceHeader_NotForX402(t *testing.T) {
	up := newFixtureUpstream(t)
	fac := newFacilitatorStub(t)
	m := MustRunMain(t, x402Config(t, up.URL(), fac.URL))
	key, _ := crypto.GenerateKey()
	c := mustChallenge(t, post(t, m, "/v1/chat/completions", "", chatBody), meter.ECodePaymentRequired)
	h, v, _ := payment(t, key, c, 2)
	resp := postWith(t, m, "/v1/chat/completions", chatBody, h, v)
	body := string(readAll(t, resp))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("paid request: %d %s", resp.StatusCode, body)
	}
	if got, ok := resp.Header["X-Paymeter-Balance"]; ok {
		t.Fatalf("X-Paymeter-Balance=%q, want none", got)
	}
	if got := usageCost(t, body); got != resp.Header.Get("X-Paymeter-Cost") {
		t.Fatalf("paymeter_cost=%q, X-Paymeter-Cost=%q, want equal", got, resp.Header.Get("X-Paymeter-Cost"))
	}
}

// A JWT user is told what its daily cap leaves, after each answer; with
// no cap, nothing (the app's balance is not its to know).
func TestBalanceHeader_JWTUsers(t *testing.T) {
	up := newFixtureUpstream(t)
	idp := newIdentityProvider(t)
	for _, tt := range []struct {
		name, cap string
		want      []string
	}{
		{"daily cap", "0.0002", []string{"0.0001665", "0.000133"}}, // less 0.0000335 each
		{"no cap", "", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _ := jwtConfig(t, up.URL(), idp, "1")
			if tt.cap != "" {
				cfg.Auth.JWT.DailySpendCap = amt(t, tt.cap)
			}
			m := MustRunMain(t, cfg)
			alice := idp.token(t, "did:privy:alice", nil)
			for i := range 2 {
				resp := post(t, m, "/v1/chat/completions", alice, chatWith(20, ""))
				readAll(t, resp)
				got, ok := resp.Header["X-Paymeter-Balance"]
				switch {
				case resp.StatusCode != http.StatusOK:
					t.Fatalf("status=%d", resp.StatusCode)
				case tt.want == nil && ok:
					t.Fatalf("X-Paymeter-Balance=%q, want none", got)
				case tt.want != nil && resp.Header.Get("X-Paymeter-Balance") != tt.want[i]:
					t.Fatalf("request %d: X-Paymeter-Balance=%q, want %q", i, got, tt.want[i])
				}
			}
		})
	}
}
