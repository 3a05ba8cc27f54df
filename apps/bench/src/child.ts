/**
 * A measuring child process (see pool.ts): receives one job over IPC, runs
 * it, reports each finished run as a message, and exits. Each job gets a
 * fresh Node process so that no strategy's numbers inherit another's JIT
 * warm-up or heap (measured for the boot benchmark: a second boot in one
 * process ran 15-20% faster than the first).
 */
import { readFileSync } from "node:fs";
import { readHvkitImage } from "@hvkit/guests/node";
import { COST_PROFILES, type CostProfile } from "@hvkit/hypervisor";
import { BenchError } from "./errors.js";
import { bootLinux, runHvkitKernel } from "./measure.js";
import type { ChildJob, ChildMessage } from "./pool.js";
import { benchStrategy, registerStrategyModules } from "./strategies.js";

/** Workloads of the warm-up run that starts every hvkit-kernel job: user and kernel mode, traps, page faults, fork. */
const WARM_UP = ["syscall", "ptemod", "forkwait"];
const WARM_UP_N = 100;
/** Boot progress is reported at most this often. */
const PROGRESS_MS = 1000;

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()));
}

function failure(e: unknown): { code: string; message: string } {
  if (e instanceof BenchError) return { code: e.code, message: e.message };
  const err = e as Error;
  return { code: "BENCH_CELL_FAILED", message: err?.stack ?? String(e) };
}

async function run(job: ChildJob): Promise<void> {
  await registerStrategyModules(job.modules);
  const strategy = benchStrategy(job.strategy);
  const profiles: CostProfile[] = job.profiles.map((name) => COST_PROFILES[name]!);
  if (job.kind === "hvkit") {
    const kernel = readHvkitImage(job.image);
    // An unrecorded warm-up, so the first measured workload does not pay alone for
    // compiling the interpreter and the strategy's paths: measured here, emulation's
    // syscall cell (the first) took 0.33 s in vm.run without it and 0.08 s with it.
    for (const workload of WARM_UP) {
      runHvkitKernel({ strategy, kernel, workload, n: WARM_UP_N, profiles, timeoutMs: job.timeoutMs });
    }
    for (const item of job.items) {
      try {
        for (const size of [item.n, 2 * item.n]) {
          const result = runHvkitKernel({
            strategy,
            kernel,
            workload: item.workload,
            n: size,
            profiles,
            timeoutMs: job.timeoutMs,
          });
          await send({ type: "run", workload: item.workload, size, result });
        }
      } catch (e) {
        await send({ type: "failed", workload: item.workload, ...failure(e) });
      }
    }
    return;
  }
  try {
    let last = performance.now();
    const result = bootLinux({
      strategy,
      kernel: readFileSync(job.kernelPath),
      initrd: readFileSync(job.initrdPath),
      profiles,
      timeoutMs: job.timeoutMs,
      progress: (instructions) => {
        const now = performance.now();
        if (now - last < PROGRESS_MS) return;
        last = now;
        process.send!({ type: "progress", instructions } satisfies ChildMessage);
      },
    });
    await send({ type: "boot", result });
  } catch (e) {
    await send({ type: "failed", workload: "linux-boot", ...failure(e) });
  }
}

process.once("message", (job: ChildJob) => {
  run(job).then(
    () => process.disconnect(),
    async (e) => {
      await send({ type: "failed", workload: "*", ...failure(e) });
      process.disconnect();
    },
  );
});
