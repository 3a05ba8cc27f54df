/**
 * The table of exits per block for the hvkit kernel's io workload, every
 * block backend under every strategy:
 *
 *   node --conditions=@hvkit/source --import tsx packages/io/passthrough/scripts/io-exits.ts [small large]
 *
 * Each cell differences two runs (default n = 256 and n = 768 blocks), so the
 * boot and the console output cancel out.
 */
import { IO_BACKENDS, IO_STRATEGIES, measureIoExits } from "./io-exits-lib.js";

const small = Number(process.argv[2] ?? 256);
const large = Number(process.argv[3] ?? 768);
const f = (x: number, d = 1): string =>
  x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: 0 });
console.log(
  `io workload, per block (one sector written and read back), n = ${small} vs ${large}, modern cost profile\n`,
);
console.log(
  "| Strategy | Backend | Exits per block | MMIO exits per block | Controller register accesses per block | IOMMU translations per block | Guest instructions per block | Modeled cycles per block |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const strategy of IO_STRATEGIES) {
  for (const backend of IO_BACKENDS) {
    const r = measureIoExits(strategy, backend, small, large);
    console.log(
      `| ${r.strategy} | ${backend === "ramdisk" ? "RAM disk (no device)" : `${backend} (${r.device})`} | ${f(r.exits)} | ${f(r.mmioExits)} | ${f(r.deviceAccesses)} | ${f(r.iommuTranslations)} | ${f(r.instructions, 0)} | ${f(r.cycles, 0)} |`,
    );
  }
}
