// Drives /v1/messages of a running paymeter with the official Anthropic
// client, @anthropic-ai/sdk: messages.create, messages.stream, and the
// errors it raises for paymeter's refusals.
//
//   node messages.mjs PAYMETER_URL KEY BROKE_KEY
//
// Prints one JSON line: each answer's text and usage (with the
// paymeter_cost of its usage object), and, for a key with no credits and
// for a malformed key, the status, type and paymeter code the client read.
import Anthropic from '@anthropic-ai/sdk'

const [url, key, brokeKey] = process.argv.slice(2)
if (!url || !key || !brokeKey) {
  console.error('messages.mjs: PAYMETER_URL KEY BROKE_KEY are required')
  process.exit(2)
}
const client = (apiKey) => new Anthropic({ apiKey, baseURL: url, maxRetries: 0 })
const request = {
  model: 'demo-large',
  max_tokens: 8,
  system: 'Be brief.',
  messages: [{ role: 'user', content: 'Say hello.' }],
}
const text = (msg) => msg.content.filter((b) => b.type === 'text').map((b) => b.text).join('')

const plain = await client(key).messages.create(request)

// The stream's final usage object (message_delta's) carries the cost; the
// SDK's accumulated message keeps only the counts.
let streamCost = null
const stream = client(key).messages.stream(request)
stream.on('streamEvent', (event) => {
  if (event.type === 'message_delta') streamCost = event.usage.paymeter_cost ?? null
})
const streamed = await stream.finalMessage()

async function refusal(apiKey) {
  try {
    await client(apiKey).messages.create(request)
    return { status: 200 }
  } catch (err) {
    if (!(err instanceof Anthropic.APIError)) throw err
    return {
      status: err.status,
      class: err.constructor.name,
      type: err.type,
      code: err.error?.error?.code ?? null,
      errorCode: err.errorCode,
      requestID: err.error?.request_id ?? null,
      x402Version: err.error?.x402Version ?? null,
      accepts: err.error?.accepts?.length ?? 0,
    }
  }
}

console.log(JSON.stringify({
  plain: { text: text(plain), usage: plain.usage },
  streamed: { text: text(streamed), usage: streamed.usage, cost: streamCost },
  broke: await refusal(brokeKey),
  invalid: await refusal('pm_live_not-a-key'),
}))
