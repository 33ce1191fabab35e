// Pays one proxied chat completion through a running paymeter with the real
// x402 v1 client, x402-fetch 1.2.0: first request → 402 with the v1 body
// {x402Version:1, accepts:[…]} → retry with `X-PAYMENT` → 200 with
// `X-PAYMENT-RESPONSE`.
//
//   PAYMETER_URL=http://127.0.0.1:PORT PAYER_KEY=0x… [MAX_VALUE=atomic] [MODEL=…] node x402v1.mjs
//
// MAX_VALUE raises x402-fetch's own cap (default 100000 atomic units, i.e. 0.10
// of a 6-decimals token, whatever the asset). Prints one JSON line
// {status, paymentResponse, body}; exits non-zero on a non-200 answer or a
// missing receipt header.
import { wrapFetchWithPayment, decodeXPaymentResponse } from 'x402-fetch'
import { createWalletClient, custom } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { baseSepolia } from 'viem/chains'

const { PAYMETER_URL, PAYER_KEY, MAX_VALUE, MODEL = 'demo-mini' } = process.env
if (!PAYMETER_URL || !PAYER_KEY) {
  console.error('x402v1: PAYMETER_URL and PAYER_KEY are required')
  process.exit(2)
}

// A wallet client with a local account signs EIP-712 without any RPC; the
// transport throws so a stray chain call shows up instead of going anywhere.
// The chain only steers x402-fetch's choice among several `accepts` entries
// (it prefers network === ChainIdToNetwork[chain.id], here "base-sepolia",
// and falls back to accepts[0]); the signing chain id always comes from the
// chosen entry's network name.
const wallet = createWalletClient({
  account: privateKeyToAccount(PAYER_KEY),
  chain: baseSepolia,
  transport: custom({ request: async ({ method }) => { throw new Error(`x402v1: unexpected RPC ${method}`) } }),
})

const payFetch = wrapFetchWithPayment(fetch, wallet, MAX_VALUE ? BigInt(MAX_VALUE) : undefined)

const res = await payFetch(new URL('/v1/chat/completions', PAYMETER_URL), {
  method: 'POST',
  // A plain object: x402-fetch spreads init.headers into the retry, which
  // would silently drop a Headers instance.
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hello' }], max_tokens: 16 }),
})

const text = await res.text()
let body
try { body = JSON.parse(text) } catch { body = text }
const receipt = res.headers.get('x-payment-response')
const paymentResponse = receipt ? decodeXPaymentResponse(receipt) : null
console.log(JSON.stringify({ status: res.status, paymentResponse, body }))
if (res.status !== 200 || !paymentResponse) {
  console.error(`x402v1: status ${res.status}, X-PAYMENT-RESPONSE ${receipt ? 'present' : 'missing'}`)
  process.exit(1)
}
