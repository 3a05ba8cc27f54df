/**
 * Measuring child processes. The matrix runs one job at a time (the two cores
 * of the reference machine would otherwise time each other), each in a fresh
 * Node process with the same source conditions and TypeScript loader as
 * this one, so every job starts with a cold JIT as every QEMU boot does.
 */
import { fork } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BenchError } from "./errors.js";
import type { HvkitRunResult, LinuxBootResult } from "./measure.js";

/** A job for one child: a strategy's hvkit-kernel workloads, or one Linux boot. */
export type ChildJob = (
  | {
      kind: "hvkit";
      strategy: string;
      image: "hvkit-kernel.elf" | "hvkit-kernel-pv.elf";
      /** Each runs with n and then 2n operations. */
      items: { workload: string; n: number }[];
      profiles: string[];
      timeoutMs: number;
    }
  | {
      kind: "linux";
      strategy: string;
      kernelPath: string;
      initrdPath: string;
      profiles: string[];
      timeoutMs: number;
    }
) & {
  /** Modules registering strategies beyond the shipped ones (`--with`), absolute paths. */
  modules: string[];
};

/** What a child reports. */
export type ChildMessage =
  | { type: "run"; workload: string; size: number; result: HvkitRunResult }
  | { type: "boot"; result: LinuxBootResult }
  | { type: "progress"; instructions: number }
  | { type: "failed"; workload: string; code: string; message: string };

const CHILD_ENTRY = fileURLToPath(new URL("./child.ts", import.meta.url));
/** tsx, resolved from this package, so children load TypeScript whatever the working directory. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
/** Beyond the job's own deadlines (one per run), time for start-up before the child is killed. */
const GRACE_MS = 60_000;

/**
 * Run one job in a fresh child; `onMessage` receives its reports as they
 * come. Resolves when the child has exited; rejects (BENCH_CHILD_FAILED) when
 * it could not start or died, after delivering what it reported.
 */
export function runChildJob(
  job: ChildJob,
  onMessage: (m: ChildMessage) => void,
  limitMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD_ENTRY, [], {
      execArgv: ["--conditions=@hvkit/source", "--import", TSX],
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      serialization: "advanced",
    });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (s: string) => {
      stderr = (stderr + s).slice(-4000);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), limitMs + GRACE_MS);
    child.on("message", (m: ChildMessage) => onMessage(m));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new BenchError("BENCH_CHILD_FAILED", `could not start a measuring process: ${e.message}`));
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else {
        reject(
          new BenchError(
            "BENCH_CHILD_FAILED",
            `the measuring process for ${job.strategy} (${job.kind}) ended with ${signal ?? `status ${code}`}${stderr.trim() ? `:\n${stderr.trim()}` : ""}`,
          ),
        );
      }
    });
    child.send(job);
  });
}
