// Pays one proxied chat completion through a running paymeter with the real
// x402 v2 client, @x402/fetch + @x402/evm: first request → 402 with the
// base64 JSON `PAYMENT-REQUIRED` header → retry with `PAYMENT-SIGNATURE` → 200
// with `PAYMENT-RESPONSE`.
//
//   PAYMETER_URL=http://127.0.0.1:PORT PAYER_KEY=0x… [ASSET=0x…] [MAX_VALUE=atomic] [MODEL=…] node x402v2.mjs
//
// By default @x402/fetch only pays a network's canonical stablecoin (its
// DEFAULT_ASSETS table, e.g. Base Sepolia USDC) and at most $1 of it. ASSET
// (a locally deployed token) is added to the spend controls' allowlist on
// every eip155 network, uncapped unless MAX_VALUE (atomic units) is given.
// Prints one JSON line {status, paymentResponse, body}; exits non-zero on a
// non-200 answer or a missing `PAYMENT-RESPONSE` header.
import { wrapFetchWithPayment, x402Client, decodePaymentResponseHeader } from '@x402/fetch'
import { registerExactEvmScheme } from '@x402/evm/exact/client'
import { privateKeyToAccount } from 'viem/accounts'

const { PAYMETER_URL, PAYER_KEY, ASSET, MAX_VALUE, MODEL = 'demo-mini' } = process.env
if (!PAYMETER_URL || !PAYER_KEY) {
  console.error('x402v2: PAYMETER_URL and PAYER_KEY are required')
  process.exit(2)
}

// A viem local account is a complete ClientEvmSigner (address + signTypedData):
// no RPC is used. registerExactEvmScheme registers the v2 exact scheme for
// "eip155:*" and the v1 one for every known v1 network name.
const client = new x402Client()
registerExactEvmScheme(client, { signer: privateKeyToAccount(PAYER_KEY) })
if (ASSET) {
  client.setSpendControls({
    allowedAssets: [{ network: 'eip155:*', asset: ASSET, ...(MAX_VALUE && { maxAmountPerPayment: MAX_VALUE }) }],
  })
}

const payFetch = wrapFetchWithPayment(fetch, client)
const res = await payFetch(new URL('/v1/chat/completions', PAYMETER_URL), {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hello' }], max_tokens: 16 }),
})

const text = await res.text()
let body
try { body = JSON.parse(text) } catch { body = text }
// Only the v2 receipt counts: @x402/fetch itself would also accept X-PAYMENT-RESPONSE.
const receipt = res.headers.get('payment-response')
const paymentResponse = receipt ? decodePaymentResponseHeader(receipt) : null
console.log(JSON.stringify({ status: res.status, paymentResponse, body }))
if (res.status !== 200 || !paymentResponse) {
  console.error(`x402v2: status ${res.status}, PAYMENT-RESPONSE ${receipt ? 'present' : 'missing'}`)
  process.exit(1)
}
