/**
 * One measured VM run, in the calling process: an hvkit-kernel workload at
 * one size, or one Debian Linux boot. The child processes (child.ts) call
 * these; tests call them directly.
 *
 * Every run checks the guest's result before its numbers count, and fails
 * loudly (BENCH_CELL_FAILED with the console's tail) when it is wrong.
 *
 * Cost-model events are counted once, with a profile that charges 1 cycle
 * per event: the modeled cycles of every requested profile are then
 * events x cost (the model is linear and no strategy reads the profile), so
 * one run reports every profile. A test checks this against runs made with
 * each profile directly.
 */
import { hvkitBootargs, parseHvkitOutput } from "@hvkit/guests";
import { linuxTranscript } from "@hvkit/guests/node";
import {
  type CostEvents,
  type CostProfile,
  emptyCostEvents,
  type GuestMode,
  modeledCycles,
  type StrategyDefinition,
  Vm,
  type VmStats,
} from "@hvkit/hypervisor";
// The boot benchmark's console watcher (BOOT-OK timestamp, EXIT-STATUS, the checks): one implementation for both.
import { ConsoleWatch, checkBoot } from "../../../benchmarks/src/boot/console.js";
import { BenchError } from "./errors.js";
import type { ModeledCycles, RunRecord } from "./schema.js";

/** A cost profile that charges one cycle per event: its "cycles" are the event counts. */
export const EVENT_COUNTING_PROFILE: CostProfile = {
  name: "hvkit-bench:event-counts",
  description: "one cycle per event: modeled cycles of this profile are the cost-model event counts",
  sources: ["apps/bench: events are counted once and priced with every requested profile"],
  cycles: Object.fromEntries(
    Object.keys(emptyCostEvents()).map((k) => [k, 1]),
  ) as unknown as CostProfile["cycles"],
};

/** Guest RAM of hvkit-kernel runs (as the contract suite's guests). */
export const HVKIT_MEMORY = 64 * 1024 * 1024;
/** Guest RAM, command line of the Linux boot (the same as `pnpm bench:boot` and QEMU's). */
export const LINUX_MEMORY = 512 * 1024 * 1024;
export const LINUX_CMDLINE = "console=ttyS0";
/** vm.run slices between progress reports and deadline checks. */
const SLICE_MS = 1000;
/** Console characters kept for error messages. */
const TAIL = 3000;

/** Price counted events with a profile. */
export function priceEvents(events: Readonly<Record<string, number>>, profile: CostProfile): ModeledCycles {
  const e = emptyCostEvents();
  for (const k of Object.keys(e) as (keyof CostEvents)[]) e[k] = events[k] ?? 0;
  const { byCategory, total } = modeledCycles(e, profile);
  return { total, byCategory: { ...byCategory } };
}

function record(
  stats: VmStats,
  cmdline: string,
  profiles: readonly CostProfile[],
  n: number | undefined,
): RunRecord {
  if (stats.cycles.profile !== EVENT_COUNTING_PROFILE.name) {
    throw new Error(`stats priced with ${stats.cycles.profile}, not the event-counting profile`);
  }
  const events = { ...stats.cycles.byCategory };
  const byMode: Record<string, number> = {};
  for (const [mode, v] of Object.entries(stats.instructions.byMode) as [GuestMode, number | undefined][]) {
    if (v !== undefined) byMode[mode] = v;
  }
  return {
    ...(n === undefined ? {} : { n }),
    cmdline,
    instructions: { total: stats.instructions.total, byMode },
    steps: stats.steps,
    exits: { total: stats.exits.total, byReason: { ...stats.exits.byReason } },
    hypercalls: { total: stats.hypercalls.total, byName: { ...stats.hypercalls.byName } },
    events,
    cycles: Object.fromEntries(profiles.map((p) => [p.name, priceEvents(events, p)])),
    counters: { ...stats.counters },
  };
}

/** Run until power-off, in slices, failing after `timeoutMs`. */
function runToEnd(vm: Vm, label: string, timeoutMs: number, tail: () => string, progress?: () => void) {
  const t0 = performance.now();
  for (;;) {
    const left = t0 + timeoutMs - performance.now();
    if (left <= 0) {
      throw new BenchError(
        "BENCH_TIMEOUT",
        `${label}: no power-off after ${(timeoutMs / 1000).toFixed(0)} s (${vm.hart.instret} instructions); raise --timeout if this machine is slow\n--- console tail ---\n${tail()}\n--- end ---`,
      );
    }
    const result = vm.run({ wallMs: Math.min(SLICE_MS, left) });
    if (result.stop !== "limit") return result;
    progress?.();
  }
}

/** What one hvkit-kernel run gives. */
export interface HvkitRunResult {
  record: RunRecord;
  /** The CHECK lines, for comparison with the baseline. */
  checks: string[];
  /** Seconds inside vm.run. */
  wallSeconds: number;
}

/** What to run. */
export interface HvkitRunOptions {
  strategy: StrategyDefinition;
  /** The hvkit-kernel image's bytes. */
  kernel: Uint8Array;
  workload: string;
  n: number;
  profiles: readonly CostProfile[];
  timeoutMs: number;
}

/**
 * Boot hvkit-kernel with `workload=<w> n=<n>`, run it to power-off and check
 * it: exit status 0, `DONE status=0`, no panic, at least one CHECK line of the
 * workload and every CHECK ok, and its MEASURE line.
 */
export function runHvkitKernel(o: HvkitRunOptions): HvkitRunResult {
  const cmdline = hvkitBootargs({ workloads: [o.workload], n: o.n });
  const label = `${o.strategy.name} ${cmdline}`;
  const vm = Vm.create(o.strategy, {
    kernel: o.kernel,
    cmdline,
    memory: HVKIT_MEMORY,
    costProfile: EVENT_COUNTING_PROFILE,
  });
  let output = "";
  const decoder = new TextDecoder();
  vm.onOutput((b) => {
    output += decoder.decode(b, { stream: true });
  });
  const tail = () => (output.length > TAIL ? `…${output.slice(-TAIL)}` : output || "(no console output)");
  const result = runToEnd(vm, label, o.timeoutMs, tail);
  const parsed = parseHvkitOutput(output);
  const problems: string[] = [];
  if (result.stop !== "poweroff") {
    problems.push(`the VM stopped with "${result.stop}"${result.message ? `: ${result.message}` : ""}`);
  } else if (result.exitStatus !== 0) problems.push(`the guest powered off with status ${result.exitStatus}`);
  if (parsed.panic) problems.push(`kernel panic: ${parsed.panic}`);
  if (parsed.doneStatus !== 0) {
    problems.push(parsed.doneStatus === undefined ? "no DONE line" : `DONE status=${parsed.doneStatus}`);
  }
  const mine = parsed.checks.filter((c) => c.workload === o.workload);
  if (mine.length === 0) problems.push(`no CHECK line for ${o.workload}`);
  for (const c of parsed.checks) if (!c.ok) problems.push(`failed check: ${c.line}`);
  const measure = parsed.measures.find((m) => m.workload === o.workload);
  if (!measure) problems.push(`no MEASURE line for ${o.workload}`);
  if (problems.length > 0) {
    throw new BenchError(
      "BENCH_CELL_FAILED",
      `${label}: ${problems.join("; ")}\n--- console tail ---\n${tail()}\n--- end ---`,
    );
  }
  const stats = vm.stats;
  return {
    record: {
      ...record(stats, cmdline, o.profiles, o.n),
      guest: {
        instretPerOp: measure!.instretPerOp,
        cyclesPerOp: measure!.cyclesPerOp,
        nsPerOp: measure!.nsPerOp,
      },
    },
    checks: parsed.checks.map((c) => c.line),
    wallSeconds: stats.wallSeconds,
  };
}

/** What one Linux boot gives. */
export interface LinuxBootResult {
  record: RunRecord;
  /** Seconds from just before Vm.create until BOOT-OK reached the console. */
  bootOkSeconds: number;
  /** Seconds from just before Vm.create until power-off. */
  totalSeconds: number;
  /** Seconds inside vm.run. */
  wallSeconds: number;
  /** Guest instructions when BOOT-OK appeared (at most one board slice late). */
  instructionsAtBootOk: number;
  /** What the init script printed, for comparison with the baseline. */
  transcript: string;
}

/** What to boot. */
export interface LinuxBootOptions {
  strategy: StrategyDefinition;
  kernel: Uint8Array;
  initrd: Uint8Array;
  profiles: readonly CostProfile[];
  timeoutMs: number;
  /** Called about once a second with the instructions retired so far. */
  progress?: (instructions: number) => void;
}

/**
 * Boot Debian's kernel with the busybox initramfs to power-off, as `pnpm
 * bench:boot` does, under any strategy: BOOT-OK on the console, the init
 * script's EXIT-STATUS=0 and a clean power-off, or the cell fails.
 */
export function bootLinux(o: LinuxBootOptions): LinuxBootResult {
  const label = `${o.strategy.name} Linux boot`;
  const t0 = performance.now();
  const vm = Vm.create(o.strategy, {
    kernel: o.kernel,
    initrd: o.initrd,
    cmdline: LINUX_CMDLINE,
    memory: LINUX_MEMORY,
    costProfile: EVENT_COUNTING_PROFILE,
  });
  let instructionsAtBootOk: number | undefined;
  const watch = new ConsoleWatch(
    () => performance.now(),
    () => {
      instructionsAtBootOk = vm.hart.instret;
    },
  );
  vm.onOutput((bytes) => watch.push(bytes));
  const result = runToEnd(
    vm,
    label,
    o.timeoutMs,
    () => watch.tail(),
    () => o.progress?.(vm.hart.instret),
  );
  const t1 = performance.now();
  const detail =
    result.stop === "poweroff"
      ? `the guest powered off with status ${result.exitStatus}`
      : `the VM stopped with "${result.stop}"${result.message ? `: ${result.message}` : ""}`;
  try {
    checkBoot(label, watch, result.stop === "poweroff" && result.exitStatus === 0, detail);
  } catch (e) {
    throw new BenchError("BENCH_CELL_FAILED", (e as Error).message);
  }
  const stats = vm.stats;
  return {
    record: record(stats, LINUX_CMDLINE, o.profiles, undefined),
    bootOkSeconds: (watch.markerAt! - t0) / 1000,
    totalSeconds: (t1 - t0) / 1000,
    wallSeconds: stats.wallSeconds,
    instructionsAtBootOk: instructionsAtBootOk!,
    transcript: linuxTranscript(watch.output),
  };
}
