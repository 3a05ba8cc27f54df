/** Runs every microbenchmark suite in sequence: `pnpm bench:micro [suite]`. */
import { cpuSuite } from "./cpu.bench.js";
import { decodeSuite } from "./decode.bench.js";

const suites: [string, () => Promise<unknown>][] = [
  ["decode", decodeSuite],
  ["cpu", cpuSuite],
];
const only = process.argv[2];
for (const [name, run] of suites) {
  if (only && only !== name) continue;
  await run();
}
