// Compiles the test contracts with the solc-js pinned in package-lock.json and writes
// build/<Name>.abi and build/<Name>.bin, the inputs of abigen (make contracts), and for the contracts
// placed in a genesis allocation rather than deployed, build/<Name>.runtime.bin, their runtime code
// (contracts/upto.go embeds it).
// The output depends only on the sources and the settings below, so a rebuild gives no diff.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

const here = dirname(fileURLToPath(import.meta.url));
const contracts = ["TestUSDC", "TestWallet", "TestPermit2", "TestUptoProxy"];
// Runtime code is all that a genesis allocation holds: these have no constructor and no immutables.
const genesis = new Set(["TestPermit2", "TestUptoProxy"]);

const input = {
  language: "Solidity",
  sources: Object.fromEntries(
    contracts.map((name) => [`${name}.sol`, { content: readFileSync(join(here, `${name}.sol`), "utf8") }]),
  ),
  settings: {
    // Fixed rather than the compiler's default, which moves with solc releases. Cancun runs on
    // go-ethereum's simulated backend, geth --dev and Base.
    evmVersion: "cancun",
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "evm.deployedBytecode.immutableReferences"] } },
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input)));
const diagnostics = output.errors ?? [];
for (const d of diagnostics) {
  console.error(d.formattedMessage);
}
// Warnings fail the build too: the sources are small enough to keep clean.
if (diagnostics.length > 0) {
  process.exit(1);
}

const out = join(here, "build");
mkdirSync(out, { recursive: true });
for (const name of contracts) {
  const c = output.contracts[`${name}.sol`][name];
  writeFileSync(join(out, `${name}.abi`), JSON.stringify(c.abi, null, 2) + "\n");
  writeFileSync(join(out, `${name}.bin`), c.evm.bytecode.object + "\n");
  if (genesis.has(name)) {
    // An immutable would be a hole of zeros in the runtime code, filled only by a constructor.
    if (Object.keys(c.evm.deployedBytecode.immutableReferences ?? {}).length > 0) {
      console.error(`${name}: has immutables, so its runtime code cannot be allocated in genesis`);
      process.exit(1);
    }
    writeFileSync(join(out, `${name}.runtime.bin`), c.evm.deployedBytecode.object + "\n");
  }
}
console.log(
  `solc ${solc.version()}: wrote ${contracts.map((n) => `build/${n}.{abi,bin${genesis.has(n) ? ",runtime.bin" : ""}}`).join(", ")}`,
);
