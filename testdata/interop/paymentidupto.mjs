// Names an @x402/fetch upto payment (@x402/evm's UptoEvmScheme) with
// @x402/extensions' payment-identifier client (an id of generatePaymentId(),
// attached by a registered client extension with
// appendPaymentIdentifierToExtensions), then:
//   1. pays one chat completion: 200 with PAYMENT-RESPONSE and X-Paymeter-Cost;
//   2. sends the very PAYMENT-SIGNATURE it paid with again: 409
//      payment_replayed, with the first answer's receipt and cost;
//   3. pays again through @x402/fetch, which signs a new permit under the
//      same id: 409 payment_identifier_conflict.
//
//   PAYMETER_URL=http://127.0.0.1:PORT PAYER_KEY=0x… ASSET=0x… [MODEL=…] node paymentidupto.mjs
//
// ASSET is the locally deployed token (see x402upto.mjs); the payer must
// have approved Permit2 on it. Prints one JSON line {id, sentId, scheme,
// first, replay, conflict, newPayment}.
import { wrapFetchWithPayment, x402Client } from '@x402/fetch'
import { UptoEvmScheme } from '@x402/evm/upto/client'
import {
  PAYMENT_IDENTIFIER, appendPaymentIdentifierToExtensions, generatePaymentId, extractPaymentIdentifier,
} from '@x402/extensions/payment-identifier'
import { privateKeyToAccount } from 'viem/accounts'

const { PAYMETER_URL, PAYER_KEY, ASSET, MODEL = 'demo-small' } = process.env
if (!PAYMETER_URL || !PAYER_KEY || !ASSET) {
  console.error('paymentidupto: PAYMETER_URL, PAYER_KEY and ASSET are required')
  process.exit(2)
}

const id = generatePaymentId()
const client = new x402Client()
client.register('eip155:*', new UptoEvmScheme(privateKeyToAccount(PAYER_KEY)))
client.setSpendControls({ allowedAssets: [{ network: 'eip155:*', asset: ASSET }] })
client.registerExtension({
  key: PAYMENT_IDENTIFIER,
  enrichPaymentPayload: async (payload) => ({
    ...payload,
    extensions: appendPaymentIdentifierToExtensions(structuredClone(payload.extensions ?? {}), id),
  }),
})

// Keeps the last payment sent, to send it again by hand.
let paid = null
const recording = async (input, init) => {
  const req = new Request(input, init)
  if (req.headers.get('payment-signature')) paid = req.headers.get('payment-signature')
  return fetch(req)
}
const payFetch = wrapFetchWithPayment(recording, client)
const url = new URL('/v1/chat/completions', PAYMETER_URL)
const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hello' }], max_tokens: 16 })
const opts = () => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body })

const summary = async (res) => {
  const text = await res.text()
  let code = null
  try { code = JSON.parse(text).error?.code ?? null } catch {}
  return { status: res.status, code, receipt: res.headers.get('payment-response'), cost: res.headers.get('x-paymeter-cost') }
}

const first = await summary(await payFetch(url, opts()))
const firstPayment = paid
const sent = JSON.parse(Buffer.from(firstPayment, 'base64').toString())
const replay = await summary(await fetch(url, {
  ...opts(), headers: { 'content-type': 'application/json', 'payment-signature': firstPayment },
}))
const conflict = await summary(await payFetch(url, opts()))
console.log(JSON.stringify({
  id, sentId: extractPaymentIdentifier(sent), scheme: sent.accepted?.scheme, first, replay, conflict,
  newPayment: paid !== firstPayment,
}))
