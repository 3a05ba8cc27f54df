/**
 * Allocation check for the interpreter: run the benchmark guest for tens of
 * millions of instructions and count garbage collections while it runs. An
 * interpreter that allocated even a few bytes per instruction would trigger
 * a scavenge every few hundred thousand instructions; zero (or a handful from
 * the benchmark harness itself) means the hot path allocates nothing.
 * Run with `pnpm bench:micro alloc`.
 */
import { PerformanceObserver } from "node:perf_hooks";
import { BARE_RAM_BASE, BareMachine } from "@hvkit/cpu";
import { assemble } from "@hvkit/isa";
import { mmuLoopProgram } from "./programs.js";

/** Collections tolerated during the measured run (the harness's own timers and promises may cause one). */
const MAX_GCS = 2;

export async function allocationCheck(): Promise<void> {
  const image = assemble(mmuLoopProgram(5_000_000), { base: BigInt(BARE_RAM_BASE) });
  const machine = new BareMachine({ ramSize: 1 << 22 });
  machine.ram.set(image.bytes);
  machine.hart.ramChanged(BARE_RAM_BASE, image.bytes.length);
  machine.setTohost(Number(image.symbols.get("tohost")));
  machine.hart.reset(image.entry);
  machine.run(2_000_000); // warm up: JIT tiers, decode cache, TLBs
  let gcs = 0;
  const observer = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  observer.observe({ entryTypes: ["gc"] });
  const before = machine.hart.instret;
  const result = machine.run(1e9);
  await new Promise((resolve) => setTimeout(resolve, 50)); // let the observer deliver
  observer.disconnect();
  if (result.exitCode !== 0) throw new Error("allocation check: guest did not finish correctly");
  const instructions = machine.hart.instret - before;
  console.log(
    `\nallocation check: ${gcs} GC(s) during ${(instructions / 1e6).toFixed(1)} M guest instructions`,
  );
  if (gcs > MAX_GCS) {
    console.error(
      `allocation check FAILED: more than ${MAX_GCS} collections; something allocates per instruction`,
    );
    process.exitCode = 1;
  }
}
