/**
 * The benchmark matrix: which strategies, which workloads at which sizes, how
 * many repetitions, which cost profiles. `default` finishes in a few minutes
 * on a 2-core machine; `full` runs the workloads at the sizes of the
 * hvkit-kernel catalogue (forkwait: the paper's 40,000 in the larger run).
 */
import { resolve } from "node:path";
import { HVKIT_WORKLOADS, type HvkitWorkload } from "@hvkit/guests";
import { COST_PROFILES, type CostProfile, type StrategyDefinition } from "@hvkit/hypervisor";
import { BenchError } from "./errors.js";
import { BASELINE_STRATEGY, benchStrategies } from "./strategies.js";

/** The Linux boot as a workload name. */
export const BOOT_WORKLOAD = "linux-boot";

/**
 * Default sizes (n; each workload runs with n and 2n operations). Chosen so
 * that every hvkit-kernel run takes well under a second under emulation here
 * while the 2n-n difference is the operation alone: runs are deterministic,
 * so boot and setup (about 0.6 M instructions) cancel out exactly provided
 * both runs print the same number of characters. Hence n and 2n have the same
 * number of digits (500 and 1000 would not: the extra digit in the guest's
 * output line is a few UART MMIO exits that land in the per-op figure).
 * pgfault stays at 256 so both runs do the same 256 copy-on-write faults and
 * only demand-zero faults remain.
 */
export const DEFAULT_SIZES: Readonly<Record<string, number>> = {
  syscall: 2000,
  "mmio-read": 1000,
  "csr-write": 1000,
  "call-ret": 1000,
  pgfault: 256,
  trap: 2000,
  ptemod: 1000,
  forkwait: 400,
  compute: 1,
  ctxswitch: 400,
  io: 256,
};

/** Repetitions of every hvkit-kernel cell by default (deterministic counters are checked to agree). */
export const DEFAULT_REPETITIONS = 3;
/** Linux boots per strategy by default: one (a boot is 13-15 s under emulation here). */
export const DEFAULT_BOOT_REPETITIONS = 1;
/** The full matrix's repetitions. */
export const FULL_REPETITIONS = 3;
export const FULL_BOOT_REPETITIONS = 3;
/** Per-run wall-clock limit (a hung guest fails its cell instead of the whole run). */
export const DEFAULT_TIMEOUT_S = 600;

/** A workload of the plan with its size. */
export interface PlannedWorkload {
  readonly name: string;
  readonly kind: "nano" | "macro";
  /** Operations in the smaller run; the larger has 2n. */
  readonly n: number;
  readonly info: HvkitWorkload;
}

/** Everything a run of the matrix does. */
export interface MatrixPlan {
  readonly matrix: "default" | "full" | "custom";
  /** Baseline first, then registration order. */
  readonly strategies: readonly StrategyDefinition[];
  readonly workloads: readonly PlannedWorkload[];
  readonly boot: boolean;
  readonly repetitions: number;
  readonly bootRepetitions: number;
  readonly profiles: readonly CostProfile[];
  readonly qemu: boolean;
  readonly timeoutMs: number;
  /** Things the plan decided that a reader should know (a baseline added, ...). */
  readonly notes: readonly string[];
  /** Modules that registered strategies beyond the shipped ones (absolute paths; children import them too). */
  readonly modules: readonly string[];
}

/** What the command line asks for (all optional). */
export interface MatrixOptions {
  full?: boolean;
  strategies?: readonly string[];
  /** Names or groups: nano, macro, boot, all. */
  workloads?: readonly string[];
  /** Sizes by workload name, winning over the matrix's. */
  sizes?: Readonly<Record<string, number>>;
  repetitions?: number;
  bootRepetitions?: number;
  profiles?: readonly string[];
  boot?: boolean;
  qemu?: boolean;
  timeoutSeconds?: number;
  /** Modules already imported with registerStrategyModules, passed on to the measuring processes. */
  modules?: readonly string[];
}

const BENCH_KINDS = new Set(["nano", "macro"]);

/** The nano and macro workloads of hvkit-kernel, in catalogue order. */
export function benchWorkloads(): HvkitWorkload[] {
  return HVKIT_WORKLOADS.filter((w) => BENCH_KINDS.has(w.kind));
}

function expandWorkloads(selection: readonly string[]): { names: Set<string>; boot: boolean } {
  const all = benchWorkloads();
  const names = new Set<string>();
  let boot = false;
  for (const word of selection) {
    if (word === "all") {
      for (const w of all) names.add(w.name);
      boot = true;
    } else if (word === "nano" || word === "macro") {
      for (const w of all) if (w.kind === word) names.add(w.name);
    } else if (word === "boot" || word === BOOT_WORKLOAD) boot = true;
    else if (all.some((w) => w.name === word)) names.add(word);
    else {
      throw new BenchError(
        "BENCH_BAD_OPTION",
        `unknown workload "${word}"; known: nano, macro, boot, all, ${all.map((w) => w.name).join(", ")}`,
      );
    }
  }
  return { names, boot };
}

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new BenchError("BENCH_BAD_OPTION", `${name} wants a whole number of at least ${min}, got ${value}`);
  }
  return value;
}

/** Turn command-line options into a plan; unknown names fail with the known ones listed. */
export function planMatrix(options: MatrixOptions = {}): MatrixPlan {
  const notes: string[] = [];
  const registered = benchStrategies();
  const custom =
    options.strategies !== undefined ||
    options.workloads !== undefined ||
    options.sizes !== undefined ||
    options.repetitions !== undefined ||
    options.bootRepetitions !== undefined ||
    options.boot === false ||
    (options.modules?.length ?? 0) > 0;
  let strategies: StrategyDefinition[];
  if (options.strategies && options.strategies.length > 0) {
    strategies = options.strategies.map((name) => {
      const s = registered.find((r) => r.name === name);
      if (!s) {
        throw new BenchError(
          "BENCH_BAD_OPTION",
          `unknown strategy "${name}"; registered: ${registered.map((r) => r.name).join(", ")}`,
        );
      }
      return s;
    });
    if (!strategies.some((s) => s.name === BASELINE_STRATEGY)) {
      const baseline = registered.find((r) => r.name === BASELINE_STRATEGY);
      if (baseline) {
        strategies.unshift(baseline);
        notes.push(
          `${BASELINE_STRATEGY} added: every cell's CHECK lines and overheads are compared with the baseline`,
        );
      }
    }
  } else strategies = [...registered];
  // Baseline first: its results are what the others are checked against as they finish.
  strategies.sort((a, b) => Number(b.name === BASELINE_STRATEGY) - Number(a.name === BASELINE_STRATEGY));
  strategies = strategies.filter((s, i) => strategies.findIndex((t) => t.name === s.name) === i);

  const selection = expandWorkloads(options.workloads ?? ["all"]);
  const sizes = options.sizes ?? {};
  for (const name of Object.keys(sizes)) {
    if (!benchWorkloads().some((w) => w.name === name)) {
      throw new BenchError("BENCH_BAD_OPTION", `--size names an unknown workload "${name}"`);
    }
  }
  const workloads: PlannedWorkload[] = benchWorkloads()
    .filter((w) => selection.names.has(w.name))
    .map((info) => {
      // Full: the catalogue size in the larger (2n) run.
      const matrixN = options.full ? Math.max(1, Math.floor(info.defaultN / 2)) : DEFAULT_SIZES[info.name];
      const n = positive(`--size ${info.name}`, sizes[info.name], matrixN ?? info.defaultN);
      return { name: info.name, kind: info.kind as "nano" | "macro", n, info };
    });

  const profileNames =
    options.profiles && options.profiles.length > 0 ? options.profiles : Object.keys(COST_PROFILES);
  const profiles = profileNames.map((name) => {
    const p = COST_PROFILES[name];
    if (!p) {
      throw new BenchError(
        "BENCH_BAD_OPTION",
        `unknown cost profile "${name}"; known: ${Object.keys(COST_PROFILES).join(", ")}`,
      );
    }
    return p;
  });
  const boot = selection.boot && options.boot !== false;
  return {
    matrix: custom ? "custom" : options.full ? "full" : "default",
    strategies,
    workloads,
    boot,
    repetitions: positive(
      "--repetitions",
      options.repetitions,
      options.full ? FULL_REPETITIONS : DEFAULT_REPETITIONS,
    ),
    bootRepetitions: boot
      ? positive(
          "--boot-repetitions",
          options.bootRepetitions,
          options.full ? FULL_BOOT_REPETITIONS : DEFAULT_BOOT_REPETITIONS,
        )
      : 0,
    profiles,
    qemu: boot && options.qemu !== false,
    timeoutMs: positive("--timeout", options.timeoutSeconds, DEFAULT_TIMEOUT_S) * 1000,
    notes,
    modules: (options.modules ?? []).map((m) => resolve(m)),
  };
}
