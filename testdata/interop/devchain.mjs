// viem, as a facilitator or a wallet would use it, against the demo's chain
// (internal/devchain): reads blocks, state, logs and fees, simulates a
// revert, sends a contract write and a transfer and waits for them.
// Prints what it saw as one JSON object for internal/devchain's TestRPC_Viem.
//
//   node devchain.mjs RPC_URL CHAIN_ID PRIVATE_KEY TOKEN PAYER
import { createWalletClient, defineChain, http, parseAbi, publicActions } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

const [rpcURL, chainID, key, token, payer] = process.argv.slice(2)
const chain = defineChain({
  id: Number(chainID), name: 'devchain', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [rpcURL] } },
})
const account = privateKeyToAccount(key)
const viem = createWalletClient({ account, chain, transport: http(rpcURL), pollingInterval: 100 }).extend(publicActions)
const abi = parseAbi([
  'function balanceOf(address) view returns (uint256)',
  'function mint(address to, uint256 value)',
  'function transfer(address to, uint256 value) returns (bool)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
])

const out = { chainId: await viem.getChainId(), head: Number(await viem.getBlockNumber()) }
const block = await viem.getBlock({ blockNumber: 1n, includeTransactions: true })
out.block1 = { txs: block.transactions.length, from: block.transactions[1].from, withdrawals: block.withdrawals.length }
out.code = (await viem.getCode({ address: token })).length > 2
out.balanceBefore = String(await viem.readContract({ address: token, abi, functionName: 'balanceOf', args: [payer] }))
try {
  // The payer's key holds no ether, but a simulation needs none.
  await viem.simulateContract({ account: payer, address: token, abi, functionName: 'transfer', args: [account.address, 10n ** 12n] })
  out.revert = 'none'
} catch (e) {
  out.revert = e.walk((x) => typeof x.reason === 'string')?.reason ?? e.shortMessage
}
const fees = await viem.estimateFeesPerGas()
out.fees = fees.maxFeePerGas > fees.maxPriorityFeePerGas
const mint = await viem.writeContract({ address: token, abi, functionName: 'mint', args: [payer, 5n] })
const rc = await viem.waitForTransactionReceipt({ hash: mint })
out.mint = { status: rc.status, from: rc.from, to: rc.to, logs: rc.logs.length, contractAddress: rc.contractAddress }
const send = await viem.sendTransaction({ to: payer, value: 3n })
out.transfer = (await viem.waitForTransactionReceipt({ hash: send })).status
out.sender = (await viem.getTransaction({ hash: send })).from
out.nonce = await viem.getTransactionCount({ address: account.address, blockTag: 'pending' })
out.ether = String(await viem.getBalance({ address: payer }))
out.balanceAfter = String(await viem.readContract({ address: token, abi, functionName: 'balanceOf', args: [payer] }))
const logs = await viem.getLogs({ address: token, event: abi[3], args: { to: payer }, fromBlock: 0n })
out.logs = logs.map((l) => String(l.args.value))
console.log(JSON.stringify(out))
