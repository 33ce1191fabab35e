package main

import (
	"strings"

	"github.com/paymeter/paymeter/internal/meter"
)

// demoAnthropic names the built-in demo upstream as an anthropic upstream:
// the same server speaks both API families, and /v1/messages is served
// only for models whose upstream speaks Anthropic's (docs/design.md §2).
const demoAnthropic = "demo-anthropic"

// demoClaude is the demo model served on /v1/messages.
const demoClaude = "demo-claude"

// addDemoAnthropic declares the demo upstream a second time, as an
// anthropic upstream, and prices demoClaude on it (Claude Sonnet's rates:
// cache reads a tenth of input, 5-minute writes 1.25 ×).
func addDemoAnthropic(cfg *Config, up *demoUpstream) {
	if cfg.Upstreams == nil {
		cfg.Upstreams = map[string]NamedUpstream{}
	}
	cfg.Upstreams[demoAnthropic] = NamedUpstream{URL: up.url, APIKey: up.apiKey, API: "anthropic"}
	cachedInput, cacheWrite := 3*meter.Credit/10, 375*meter.Credit/100
	cfg.Models[demoClaude] = ModelConfig{Upstream: demoAnthropic, Input: 3 * meter.Credit, Output: 15 * meter.Credit,
		CachedInput: &cachedInput, CacheWrite: &cacheWrite, MaxOutputTokens: 4096}
}

// demoAPILines are the demo's examples of the other APIs, one curl each,
// for the funded app's key.
func demoAPILines(url, key string) string {
	bearer := `-H "Authorization: Bearer ` + key + `" -H "Content-Type: application/json"`
	lines := []string{
		"The Responses API (usage, and its paymeter_cost, in the response's usage):",
		"  curl -s " + url + "/v1/responses " + bearer + ` \`,
		`    -d '{"model":"demo-small","input":"Say hello."}'`,
		"",
		"The same, streamed (events up to response.completed, whose usage carries paymeter_cost):",
		"  curl -sN " + url + "/v1/responses " + bearer + ` \`,
		`    -d '{"model":"demo-small","stream":true,"input":"Tell me a story."}'`,
		"",
		"The Anthropic Messages API (the key as x-api-key, as Anthropic's SDKs send it):",
		"  curl -s " + url + `/v1/messages -H "x-api-key: ` + key + `" -H "anthropic-version: 2023-06-01" -H "Content-Type: application/json" \`,
		`    -d '{"model":"` + demoClaude + `","max_tokens":64,"messages":[{"role":"user","content":"Say hello."}]}'`,
		"",
		"Two images, priced per image by size and quality, and the prompt's tokens (the body carries paymeter_cost):",
		"  curl -s " + url + "/v1/images/generations " + bearer + ` \`,
		`    -d '{"model":"demo-image","prompt":"A paper meter.","n":2,"size":"1024x1024"}'`,
		"",
		"Embeddings:",
		"  curl -s " + url + "/v1/embeddings " + bearer + ` \`,
		`    -d '{"model":"demo-embed","input":["Say hello.","Say goodbye."]}'`,
		"",
		"Prompt caching: the same long system prompt twice; the second answer reports",
		"usage.prompt_tokens_details.cached_tokens, charged at the cached_input price:",
		`  SYS=$(printf 'You are a careful assistant. %.0s' $(seq 40)); for q in hello goodbye; do`,
		"  curl -s " + url + "/v1/chat/completions " + bearer + ` \`,
		`    -d '{"model":"demo-small","messages":[{"role":"system","content":"'"$SYS"'"},{"role":"user","content":"Say '"$q"'."}]}'; echo; done`,
		"",
		"A reasoning model (usage.completion_tokens_details.reasoning_tokens, charged as output):",
		"  curl -s " + url + "/v1/chat/completions " + bearer + ` \`,
		`    -d '{"model":"demo-reasoner","messages":[{"role":"user","content":"Why is the sky blue?"}]}'`,
	}
	return strings.Join(lines, "\n") + "\n"
}

// demoPayLines are the demo's examples of paying without an API key, with
// `paymeter pay` and the demo payer's key file, and of looking at the
// ledger and the chain afterwards.
func demoPayLines(i *demoInfo) string {
	pay := i.Command + " pay"
	kf := " --key-file " + shellWord(i.Payer.KeyFile)
	chat := `-d '{"model":"demo-small","messages":[{"role":"user","content":"Say hello."}]}' ` + i.BaseURL + "/v1/chat/completions"
	cfg := " --config " + shellWord(i.Config)
	lines := []string{
		"",
		"x402, per request, with no account: pay answers the 402, signs a USDC authorization for the quoted",
		"worst case (at most --max, 1 credit by default), and prints the receipt and the cost; the rest of",
		"the quote is change on the payer wallet's balance:",
		"  " + pay + kf + " " + chat,
		"",
		"The same with x402 v1 (X-PAYMENT), as older clients pay:",
		"  " + pay + kf + " --x402 1 " + chat,
		"",
		"x402 upto: pay signs a Permit2 permit of up to the worst case and is charged the metered cost, settled on",
		"the chain after the answer, with no change left (--asset names the demo's test USDC, which upto needs):",
		"  " + pay + kf + " --asset " + i.Token.Address + " " + chat,
		"",
		"A top-up: " + i.TopupAmounts[0] + " credits for " + i.TopupAmounts[0] + " test USDC, credited to the payer wallet's balance:",
		"  " + pay + " topup" + kf + " --url " + i.BaseURL + " " + i.TopupAmounts[0],
		"",
		"Spend that balance with wallet-signed requests (EIP-191, with the body's hash), no payment each time:",
		"  " + pay + kf + " --wallet " + chat,
		"",
		"Or with sign-in-with-x, as x402 clients spend a balance: the 402's challenge signed, nothing paid:",
		"  " + pay + kf + " --siwx " + chat,
		"",
		"Sign in with Ethereum: an API key for the wallet's account:",
		"  " + pay + " signin" + kf + " --url " + i.BaseURL,
		"",
		"The payer's balances, in paymeter and on the chain (its test USDC):",
		"  " + pay + " balance" + kf + " --url " + i.BaseURL + " --rpc " + i.Chain.RPCURL + " --token " + i.Token.Address,
		"",
		"The ledger, and every x402 credit checked against its transaction on the chain (in another terminal):",
		"  " + i.Command + " credits history" + cfg + " --account 1",
		"  " + i.Command + " ledger verify" + cfg,
		"  " + i.Command + " ledger reconcile" + cfg,
	}
	return strings.Join(lines, "\n") + "\n"
}
