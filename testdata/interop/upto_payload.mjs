// Makes an x402 v2 `upto` payment with the unmodified npm client: UptoEvmScheme of
// @x402/evm/upto/client on an x402Client (the one @x402/fetch wraps), signing with a viem local
// account. No RPC, no request: it prints what @x402/fetch would send in PAYMENT-SIGNATURE.
//
//   PAYER_KEY=0x… [ASSET=0x…] [MAX_VALUE=atomic] [NOW=unix] node upto_payload.mjs < requirements.json
//
// stdin: the 402's PaymentRequired, as decoded from its PAYMENT-REQUIRED header
// ({"x402Version":2, "resource":{…}, "accepts":[…], "extensions":{…}?}), or one requirement object
// (it has "scheme"), which is offered alone under the resource http://localhost/. The client picks
// as @x402/fetch does; only "upto" on eip155:* is registered, so only an upto requirement can be
// picked, and it must carry extra.facilitatorAddress.
//
// Spend controls are the client's own: by default it pays only a network's canonical stablecoin
// (@x402/evm's DEFAULT_ASSETS) and at most $1 of it. ASSET (a local token) is allowed on every
// eip155 network, uncapped unless MAX_VALUE (atomic units) is given. NOW fixes the clock the
// deadline is computed from (deadline = NOW + maxTimeoutSeconds), for a chain whose clock differs.
//
// stdout: one JSON line {"paymentPayload": {…}, "header": "…"}: the payload object and the
// PAYMENT-SIGNATURE value @x402/core's encodePaymentSignatureHeader makes of it (base64 JSON).
// On a refusal (no upto requirement, no facilitatorAddress, spend controls) it prints the client's
// error on stderr and exits 1; 2 on bad usage. The key is never printed.
import { x402Client } from '@x402/fetch'
import { encodePaymentSignatureHeader } from '@x402/core/http'
import { UptoEvmScheme } from '@x402/evm/upto/client'
import { privateKeyToAccount } from 'viem/accounts'

const { PAYER_KEY, ASSET, MAX_VALUE, NOW } = process.env
if (!PAYER_KEY) {
  console.error('upto_payload: PAYER_KEY is required')
  process.exit(2)
}

let input = ''
for await (const chunk of process.stdin) input += chunk
let required
try {
  required = JSON.parse(input)
} catch (err) {
  console.error(`upto_payload: stdin is not JSON: ${err.message}`)
  process.exit(2)
}
if (required && typeof required.scheme === 'string') {
  required = { x402Version: 2, resource: { url: 'http://localhost/' }, accepts: [required] }
}

if (NOW) {
  // The client reads the clock once, through Date.now(), for the deadline.
  const fixed = Number(NOW) * 1000
  Date.now = () => fixed
}

const client = new x402Client()
client.register('eip155:*', new UptoEvmScheme(privateKeyToAccount(PAYER_KEY)))
if (ASSET) {
  client.setSpendControls({
    allowedAssets: [{ network: 'eip155:*', asset: ASSET, ...(MAX_VALUE && { maxAmountPerPayment: MAX_VALUE }) }],
  })
}

try {
  const paymentPayload = await client.createPaymentPayload(required)
  console.log(JSON.stringify({ paymentPayload, header: encodePaymentSignatureHeader(paymentPayload) }))
} catch (err) {
  console.error(`upto_payload: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
}
