/** Runs every microbenchmark suite in sequence: `pnpm bench:micro [suite]`. */
import { allocationCheck } from "./alloc-check.js";
import { cpuSuite } from "./cpu.bench.js";
import { decodeSuite } from "./decode.bench.js";
import { translatorSuite } from "./translator.bench.js";

const suites: [string, () => Promise<unknown>][] = [
  ["decode", decodeSuite],
  ["cpu", cpuSuite],
  ["translator", translatorSuite],
  ["alloc", allocationCheck],
];
const only = process.argv[2];
for (const [name, run] of suites) {
  if (only && only !== name) continue;
  await run();
}
