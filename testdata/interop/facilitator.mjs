// A small x402 facilitator: the reference verify/settle logic of
// @x402/core/facilitator + @x402/evm's exact scheme (v2 and v1) and upto
// scheme (v2), over a viem wallet that relays transferWithAuthorization, or
// the upto proxy's settle, through a JSON-RPC node (geth --dev or
// internal/devchain in the Go tests). upto needs Permit2 and the upto proxy
// at their canonical addresses (internal/devchain has them) and the payer's
// Permit2 allowance; its /supported kind carries extra.facilitatorAddress
// (the relayer), which the payer's permit must name.
//
//   RPC_URL=http://127.0.0.1:8545 RELAYER_KEY=0x… CHAIN_ID=1337 [PORT=0] [NETWORKS=eip155:84532,…] node facilitator.mjs
//
// CHAIN_ID is the chain the node really runs (transactions are signed for it).
// NETWORKS are the CAIP-2 ids accepted for v2 payments (default
// "eip155:84532,eip155:$CHAIN_ID"): the signature is checked against the
// EIP-712 chain id *named by the payment's network*, so a local token whose
// domain says 84532 is paid as "eip155:84532" (v2) or "base-sepolia" (v1, all
// v1 names are registered). Prints its base URL on one stdout line, then serves
//   POST /verify   {x402Version, paymentPayload, paymentRequirements} → {isValid, invalidReason?, invalidMessage?, payer?}
//   POST /settle   same body → {success, errorReason?, errorMessage?, transaction, network, payer?}
//   GET  /supported           → {kinds:[{x402Version, scheme, network, extra?}], extensions:[], signers:{"eip155:*":[relayer]}}
// For upto, /settle's paymentRequirements.amount is the amount to settle (at
// most the permit's; "0" settles nothing and sends no transaction).
// until killed.
import http from 'node:http'
import { createWalletClient, defineChain, http as rpc, nonceManager, publicActions } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { x402Facilitator } from '@x402/core/facilitator'
import { toFacilitatorEvmSigner } from '@x402/evm'
import { registerExactEvmScheme } from '@x402/evm/exact/facilitator'
import { UptoEvmScheme } from '@x402/evm/upto/facilitator'

const { RPC_URL, RELAYER_KEY, CHAIN_ID, PORT = '0' } = process.env
if (!RPC_URL || !RELAYER_KEY || !CHAIN_ID) {
  console.error('facilitator: RPC_URL, RELAYER_KEY and CHAIN_ID are required')
  process.exit(2)
}
const networks = (process.env.NETWORKS || `eip155:84532,eip155:${CHAIN_ID}`).split(',').map((n) => n.trim()).filter(Boolean)

// One relayer account; viem's nonce manager serialises concurrent settlements.
const account = privateKeyToAccount(RELAYER_KEY, { nonceManager })
const chain = defineChain({
  id: Number(CHAIN_ID),
  name: `local-${CHAIN_ID}`,
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [RPC_URL] } },
})
const viem = createWalletClient({ account, chain, transport: rpc(RPC_URL) }).extend(publicActions)

// FacilitatorEvmSigner: reads, EIP-1271-aware checks and writes all go through viem.
const signer = toFacilitatorEvmSigner({
  address: account.address,
  getCode: (a) => viem.getCode(a),
  readContract: (a) => viem.readContract({ ...a, args: a.args || [] }),
  verifyTypedData: (a) => viem.verifyTypedData(a),
  writeContract: (a) => viem.writeContract({ ...a, args: a.args || [] }),
  sendTransaction: (a) => viem.sendTransaction(a),
  waitForTransactionReceipt: (a) => viem.waitForTransactionReceipt(a),
}, { confirmationTimeoutMs: 30_000 })

const facilitator = new x402Facilitator()
registerExactEvmScheme(facilitator, { signer, networks })
facilitator.register(networks, new UptoEvmScheme(signer))

function send(res, status, obj) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(obj))
}

async function readJSON(req) {
  let size = 0
  const chunks = []
  for await (const c of req) {
    size += c.length
    if (size > 1 << 20) throw Object.assign(new Error('body too large'), { status: 413 })
    chunks.push(c)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw Object.assign(new Error('invalid JSON'), { status: 400 })
  }
}

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, 'http://x').pathname
  try {
    if (req.method === 'GET' && path === '/supported') return send(res, 200, facilitator.getSupported())
    if (req.method === 'POST' && (path === '/verify' || path === '/settle')) {
      const { paymentPayload, paymentRequirements } = await readJSON(req)
      if (!paymentPayload || !paymentRequirements) {
        return send(res, 400, { error: 'missing paymentPayload or paymentRequirements' })
      }
      const result = path === '/verify'
        ? await facilitator.verify(paymentPayload, paymentRequirements)
        : await facilitator.settle(paymentPayload, paymentRequirements)
      return send(res, 200, result)
    }
    return send(res, 404, { error: 'not found' })
  } catch (err) {
    // Unknown version/scheme/network, malformed payloads, RPC failures.
    console.error(`facilitator: ${req.method} ${path}:`, err)
    return send(res, err.status || 500, { error: err instanceof Error ? err.message : String(err) })
  }
})

server.listen(Number(PORT), '127.0.0.1', () => {
  console.log(`http://127.0.0.1:${server.address().port}`)
})
