// Pays one proxied chat completion through a running paymeter with the real
// x402 v2 upto client, @x402/fetch + @x402/evm's UptoEvmScheme: first request
// → 402 with the base64 JSON `PAYMENT-REQUIRED` header (exact and upto
// requirements) → the client picks upto (the only scheme registered here),
// signs a Permit2 permit of up to the quote naming the requirement's
// facilitatorAddress → retry with `PAYMENT-SIGNATURE` → 200 with
// `PAYMENT-RESPONSE` (the amount to be settled; the transaction follows).
//
//   PAYMETER_URL=http://127.0.0.1:PORT PAYER_KEY=0x… [ASSET=0x…] [MAX_VALUE=atomic] [MODEL=…] [STREAM=1] node x402upto.mjs
//
// @x402/fetch pays only a network's canonical stablecoin unless told: ASSET
// (a locally deployed token) is allowed on every eip155 network, uncapped
// unless MAX_VALUE (atomic units) is given. The payer must have approved
// Permit2 on the token already. Prints one JSON line {status, paymentResponse,
// accepted, cost, body}; exits non-zero on a non-200 answer.
import { wrapFetchWithPayment, x402Client, decodePaymentResponseHeader } from '@x402/fetch'
import { UptoEvmScheme } from '@x402/evm/upto/client'
import { privateKeyToAccount } from 'viem/accounts'

const { PAYMETER_URL, PAYER_KEY, ASSET, MAX_VALUE, MODEL = 'demo-mini', STREAM } = process.env
if (!PAYMETER_URL || !PAYER_KEY) {
  console.error('x402upto: PAYMETER_URL and PAYER_KEY are required')
  process.exit(2)
}

const client = new x402Client()
client.register('eip155:*', new UptoEvmScheme(privateKeyToAccount(PAYER_KEY)))
if (ASSET) {
  client.setSpendControls({
    allowedAssets: [{ network: 'eip155:*', asset: ASSET, ...(MAX_VALUE && { maxAmountPerPayment: MAX_VALUE }) }],
  })
}
// What the client chose to pay, as it signed it.
let accepted = null
client.onAfterPaymentCreation(async ({ paymentPayload }) => {
  accepted = paymentPayload.accepted
})

const payFetch = wrapFetchWithPayment(fetch, client)
const res = await payFetch(new URL('/v1/chat/completions', PAYMETER_URL), {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hello' }], max_tokens: 16,
    ...(STREAM && { stream: true }) }),
})

const text = await res.text()
let body
try { body = JSON.parse(text) } catch { body = text }
const receipt = res.headers.get('payment-response')
const paymentResponse = receipt ? decodePaymentResponseHeader(receipt) : null
console.log(JSON.stringify({ status: res.status, paymentResponse, accepted, cost: res.headers.get('x-paymeter-cost'), body }))
if (res.status !== 200) {
  console.error(`x402upto: status ${res.status}`)
  process.exit(1)
}
