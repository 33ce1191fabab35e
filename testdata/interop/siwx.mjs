// Signs in with x (the x402 extension sign-in-with-x) to a running paymeter
// with the real client of @x402/extensions, signing with a viem account.
//
//   MODE=fetch PAYMETER_URL=http://127.0.0.1:PORT SIGNER_KEY=0x… [ADDRESS=0x…] [MODEL=…] node siwx.mjs
//     wrapFetchWithSIWx sends one chat completion: 402 with the extension in
//     PAYMENT-REQUIRED → the same request again with SIGN-IN-WITH-X. Prints
//     {status, cost, balance, sent: [whether each request carried the header], body}.
//
//   MODE=sign SIGNER_KEY=… node siwx.mjs < challenges.json
//     signs each {info, requestUrl?, key?, address?} of a JSON array (info
//     being the 402's declared info plus chainId and type) with
//     createSIWxPayload and prints the array of SIGN-IN-WITH-X values. With
//     requestUrl the client's own check that the challenge is bound to the
//     origin it came from runs; without, the payload is built from the same
//     functions (createSIWxMessage, encodeSIWxHeader) without that check, to
//     sign what a hostile server could ask.
//
//   MODE=format node siwx.mjs < infos.json
//     prints the message createSIWxMessage makes of each {info, address}.
//
// ADDRESS (or an entry's address) makes the signer a smart-contract wallet:
// the address is the contract's, the key its owner's (EIP-1271).
import {
  wrapFetchWithSIWx, createSIWxPayload, createSIWxMessage, encodeSIWxHeader,
} from '@x402/extensions/sign-in-with-x'
import { privateKeyToAccount } from 'viem/accounts'
import { readFileSync } from 'node:fs'

const { MODE = 'fetch', PAYMETER_URL, SIGNER_KEY, ADDRESS, MODEL = 'demo-small' } = process.env

function signer(key, address) {
  const account = privateKeyToAccount(key)
  if (!address) return account
  return { address, signMessage: ({ message }) => account.signMessage({ message }) }
}

async function fetchMode() {
  if (!PAYMETER_URL || !SIGNER_KEY) {
    console.error('siwx: PAYMETER_URL and SIGNER_KEY are required')
    process.exit(2)
  }
  const sent = []
  const recording = async (req) => {
    sent.push(req.headers.has('SIGN-IN-WITH-X'))
    return fetch(req)
  }
  const siwxFetch = wrapFetchWithSIWx(recording, signer(SIGNER_KEY, ADDRESS))
  const res = await siwxFetch(new URL('/v1/chat/completions', PAYMETER_URL), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hello' }], max_tokens: 16 }),
  })
  const text = await res.text()
  let body
  try { body = JSON.parse(text) } catch { body = text }
  console.log(JSON.stringify({
    status: res.status, cost: res.headers.get('x-paymeter-cost'), balance: res.headers.get('x-paymeter-balance'), sent, body,
  }))
}

async function signMode() {
  const entries = JSON.parse(readFileSync(0, 'utf8'))
  const out = []
  for (const e of entries) {
    const s = signer(e.key ?? SIGNER_KEY, e.address ?? ADDRESS)
    if (e.requestUrl) {
      out.push(encodeSIWxHeader(await createSIWxPayload(e.info, s, e.requestUrl)))
      continue
    }
    // createSIWxPayload less its origin check, field for field.
    const info = e.info
    const address = s.address
    const signature = await s.signMessage({ message: createSIWxMessage(info, address) })
    out.push(encodeSIWxHeader({
      domain: info.domain, address, statement: info.statement, uri: info.uri, version: info.version,
      chainId: info.chainId, type: info.type, nonce: info.nonce, issuedAt: info.issuedAt,
      expirationTime: info.expirationTime, notBefore: info.notBefore, requestId: info.requestId,
      resources: info.resources, signatureScheme: info.signatureScheme, signature,
    }))
  }
  console.log(JSON.stringify(out))
}

function formatMode() {
  const entries = JSON.parse(readFileSync(0, 'utf8'))
  console.log(JSON.stringify(entries.map((e) => createSIWxMessage(e.info, e.address))))
}

await (MODE === 'sign' ? signMode() : MODE === 'format' ? formatMode() : fetchMode())
