// The official openai SDK's Responses API against a running paymeter:
// client.responses.create, whole and with stream: true.
//
//   node responses.mjs <paymeter base URL> <API key> <model>
//
// Prints one JSON line: for each call the text, the usage the SDK read and
// the cost paymeter put in it (usage.paymeter_cost), and for the stream
// the event types seen.
import OpenAI from 'openai'

const [baseURL, apiKey, model] = process.argv.slice(2)
if (!baseURL || !apiKey || !model) {
  console.error('usage: node responses.mjs <base URL> <API key> <model>')
  process.exit(2)
}
const client = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey, maxRetries: 0 })
const request = { model, instructions: 'Be brief.', input: 'Say hello.', max_output_tokens: 12 }

const whole = await client.responses.create(request)

const stream = await client.responses.create({ ...request, stream: true })
let text = ''
let final = null
const types = []
for await (const event of stream) {
  types.push(event.type)
  if (event.type === 'response.output_text.delta') text += event.delta
  if (event.type === 'response.completed' || event.type === 'response.incomplete') final = event.response
}

console.log(JSON.stringify({
  whole: { status: whole.status, text: whole.output_text, usage: whole.usage },
  stream: { status: final?.status, text, finalText: final?.output?.[0]?.content?.[0]?.text, usage: final?.usage, types },
}))
