// Drives a running paymeter as a wallet-only client would, with real
// third-party libraries: siwe builds the Sign-In with Ethereum message,
// viem signs it and the per-request wallet headers.
//
//   node wallet.mjs <paymeter base URL> <wallet realm>
//
// Prints one JSON line with what it saw; exits non-zero on any surprise.
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { SiweMessage } from 'siwe'

const [base, realm = 'Paymeter'] = process.argv.slice(2)
const chat = JSON.stringify({ model: 'demo-small', messages: [{ role: 'user', content: 'Say hello.' }] })

function check(cond, what, detail) {
  if (!cond) {
    console.error(`interop: ${what}`, detail ?? '')
    process.exit(1)
  }
}

async function json(res, what) {
  const text = await res.text()
  check(res.status === 200, `${what}: status ${res.status}`, text)
  return JSON.parse(text)
}

// 1. Sign-In with Ethereum: nonce → message → signature → API key.
const signer = privateKeyToAccount(generatePrivateKey())
const nonce = await json(await fetch(`${base}/api/auth/siwe/nonce`), 'nonce')
const message = new SiweMessage({
  domain: nonce.domain,
  address: signer.address,
  statement: nonce.statement,
  uri: nonce.uri,
  version: nonce.version,
  chainId: nonce.chainId,
  nonce: nonce.nonce,
  issuedAt: new Date().toISOString(),
}).prepareMessage()
const signature = await signer.signMessage({ message })
const signIn = await json(await fetch(`${base}/api/auth/siwe/verify`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ message, signature }),
}), 'verify')
check(signIn.isNewAccount === true && signIn.address === signer.address, 'sign-in result', signIn)
check(/^pm_live_[0-9A-Za-z]{49}$/.test(signIn.apiKey), 'api key shape', signIn.apiKey.slice(0, 12))

// 2. A metered request with that key.
const keyed = await fetch(`${base}/v1/chat/completions`, {
  method: 'POST',
  headers: { authorization: `Bearer ${signIn.apiKey}`, 'content-type': 'application/json' },
  body: chat,
})
await json(keyed, 'chat with the SIWE key')
const keyedCost = keyed.headers.get('x-paymeter-cost')
check(keyedCost && Number(keyedCost) > 0, 'cost header on the keyed request', keyedCost)

// 3. A second wallet that never signs in: wallet headers on each request.
const wallet = privateKeyToAccount(generatePrivateKey())
async function signed(method, path, body) {
  const ts = Date.now().toString()
  const sig = await wallet.signMessage({ message: `${realm} Authentication\nTimestamp: ${ts}\nMethod: ${method}\nPath: ${path}` })
  return fetch(`${base}${path}`, {
    method,
    headers: { 'x-wallet-address': wallet.address, 'x-timestamp': ts, 'x-wallet-signature': sig, 'content-type': 'application/json' },
    body,
  })
}
const walletChat = await signed('POST', '/v1/chat/completions', chat)
await json(walletChat, 'chat with wallet headers')
const walletCost = walletChat.headers.get('x-paymeter-cost')
const account = await json(await signed('GET', '/api/v1/account'), 'account with wallet headers')
check(account.kind === 'wallet' && account.address === wallet.address, 'wallet account', account)

console.log(JSON.stringify({
  siweAddress: signer.address, siweAccount: signIn.account.id, keyedCost,
  walletAddress: wallet.address, walletCost, walletBalance: account.balance, walletFree: account.freeCreditsGranted,
}))
