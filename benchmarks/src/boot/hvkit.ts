/**
 * One boot of the cached Linux guest under one of hvkit's strategies, in the
 * calling process (hvkit-process.ts gives each boot a process of its own).
 */
import { binaryTranslationSfence } from "@hvkit/binary-translation";
import { emulation } from "@hvkit/emulation";
import { type StrategyDefinition, Vm } from "@hvkit/hypervisor";
import { ConsoleWatch, checkBoot } from "./console.js";
import { BootBenchError } from "./errors.js";
import type { BootRun } from "./report.js";

/** How often a running boot reports progress; each report is one `vm.run` slice boundary. */
const PROGRESS_MS = 5000;

/** The strategies the boot benchmark can run, by name. */
export const HVKIT_STRATEGIES: Readonly<Record<string, StrategyDefinition>> = {
  emulation,
  "binary-translation": binaryTranslationSfence,
};

/** What to boot and how long to wait. */
export interface HvkitBootOptions {
  /** Label for progress and errors, e.g. "hvkit-builtin run 1/3". */
  label: string;
  /** A name of {@link HVKIT_STRATEGIES}. */
  strategy: string;
  kernel: Uint8Array;
  initrd: Uint8Array;
  cmdline: string;
  /** Guest RAM in bytes. */
  memory: number;
  /** "builtin" or the bytes of an OpenSBI image. */
  firmware: "builtin" | Uint8Array;
  /** Give up (and fail) after this much wall time. */
  timeoutMs: number;
  /** Receives progress lines. */
  progress: (line: string) => void;
}

/**
 * Boot to power-off and check the result. The clock starts just before
 * `Vm.create` (images already in memory), so board setup and image loading
 * count, as QEMU's own start-up does.
 */
export function bootHvkit(o: HvkitBootOptions): BootRun {
  const strategy = HVKIT_STRATEGIES[o.strategy];
  if (!strategy) {
    throw new BootBenchError(
      "BOOT_BAD_OPTION",
      `unknown strategy "${o.strategy}"; known: ${Object.keys(HVKIT_STRATEGIES).join(", ")}`,
    );
  }
  const t0 = performance.now();
  const vm = Vm.create(strategy, {
    kernel: o.kernel,
    initrd: o.initrd,
    cmdline: o.cmdline,
    memory: o.memory,
    firmware: o.firmware,
  });
  let instructionsAtMarker: number | undefined;
  // The counter is updated when the hart's inner loop ends, so this can lag the
  // UART write by up to one board slice (2^20 steps, about 0.1% of a boot).
  const watch = new ConsoleWatch(
    () => performance.now(),
    () => {
      instructionsAtMarker = vm.hart.instret;
    },
  );
  vm.onOutput((bytes) => watch.push(bytes));
  const deadline = t0 + o.timeoutMs;
  let result = vm.run({ wallMs: Math.min(PROGRESS_MS, o.timeoutMs) });
  while (result.stop === "limit") {
    const now = performance.now();
    if (now >= deadline) {
      throw new BootBenchError(
        "BOOT_TIMEOUT",
        `${o.label}: no power-off after ${(o.timeoutMs / 1000).toFixed(0)} s (${millions(vm.hart.instret)} instructions); raise --timeout if this machine is slow.\n--- console tail ---\n${watch.tail()}\n--- end ---`,
      );
    }
    o.progress(`${o.label}: ${((now - t0) / 1000).toFixed(0)} s, ${millions(vm.hart.instret)} instructions`);
    result = vm.run({ wallMs: Math.min(PROGRESS_MS, deadline - now) });
  }
  const t1 = performance.now();
  const detail =
    result.stop === "poweroff"
      ? `the guest powered off with status ${result.exitStatus}`
      : `the VM stopped with "${result.stop}"${result.message ? `: ${result.message}` : ""}`;
  checkBoot(o.label, watch, result.stop === "poweroff" && result.exitStatus === 0, detail);
  const stats = vm.stats;
  return {
    bootOkSeconds: (watch.markerAt! - t0) / 1000,
    totalSeconds: (t1 - t0) / 1000,
    exitStatus: result.exitStatus ?? -1,
    guestExitStatus: watch.guestExitStatus()!,
    instructionsAtBootOk: instructionsAtMarker!,
    instructions: stats.instructions.total,
    instructionsByMode: stats.instructions.byMode,
    runSeconds: stats.wallSeconds,
    mips: stats.instructions.total / stats.wallSeconds / 1e6,
  };
}

function millions(n: number): string {
  return `${(n / 1e6).toFixed(0)} M`;
}
