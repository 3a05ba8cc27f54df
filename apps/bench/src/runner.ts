/**
 * Runs a planned matrix: the hvkit-kernel workloads of every strategy
 * (repetition by repetition, so slow drifts of the host's load spread over
 * all strategies alike), then QEMU's boot, then the Linux boot of every
 * strategy; checks every cell, and assembles the versioned result.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { hvkitImagePath, type LinuxManifest, readLinuxManifest } from "@hvkit/guests/node";
import type { StrategyDefinition } from "@hvkit/hypervisor";
import { computeFindings } from "./findings.js";
import { BOOT_WORKLOAD, type MatrixPlan } from "./matrix.js";
import type { HvkitRunResult, LinuxBootResult } from "./measure.js";
import { type ChildJob, type ChildMessage, runChildJob } from "./pool.js";
import { benchQemu } from "./qemu.js";
import {
  BENCH_SCHEMA,
  BENCH_SCHEMA_VERSION,
  type BenchResult,
  BenchResult as BenchResultSchema,
  type Cell,
  type ModeledCycles,
  type PerOp,
  type QemuResult,
  type RunRecord,
} from "./schema.js";
import { spread } from "./stats.js";
import { BASELINE_STRATEGY, hvkitImageFor } from "./strategies.js";

/** What the runner tells its display. */
export interface RunnerEvents {
  /** The amount of work ahead, in estimated guest instructions. */
  start?(totalWork: number): void;
  /** `done` more work finished; `label` says what runs now. */
  advance?(done: number, label: string): void;
  /** A cell failed (its figures will not count). */
  cellFailed?(cell: string, message: string): void;
  /** Something worth a line of its own. */
  note?(line: string): void;
}

/**
 * Guest instructions per operation under emulation (packages/guests README
 * and runs here), for the progress display's estimate of the work ahead.
 */
const INSTRUCTIONS_PER_OP: Readonly<Record<string, number>> = {
  syscall: 170,
  "mmio-read": 12,
  "csr-write": 7,
  "call-ret": 8,
  pgfault: 2400,
  trap: 300,
  ptemod: 21,
  forkwait: 25_400,
  compute: 2_890_000,
  ctxswitch: 4_300,
  io: 10_000,
};
/** hvkit-kernel's boot and setup, and pgfault's 256 copy-on-write faults. */
const HVKIT_BOOT_INSTRUCTIONS = 600_000;
const PGFAULT_COW_INSTRUCTIONS = 1_400_000;
/** Debian's boot to power-off under emulation. */
const LINUX_BOOT_INSTRUCTIONS = 1_300_000_000;
/** A QEMU boot takes about as long as this many hvkit instructions (2.3 s at ~100 MIPS). */
const QEMU_BOOT_WORK = 230_000_000;

function runWork(workload: string, n: number): number {
  return (
    HVKIT_BOOT_INSTRUCTIONS +
    n * (INSTRUCTIONS_PER_OP[workload] ?? 10_000) +
    (workload === "pgfault" ? PGFAULT_COW_INSTRUCTIONS : 0)
  );
}

/** One repetition of an hvkit-kernel cell: its two runs by size, or why it failed. */
interface HvkitRep {
  runs: Map<number, HvkitRunResult>;
  failure?: string;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

const REPO_ROOT = dirname(dirname(dirname(dirname(fileURLToPath(import.meta.url)))));

function gitInfo(): { commit: string | null; dirty: boolean | null } {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
    const status = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
    });
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return { commit: null, dirty: null };
  }
}

/** The first difference between two JSON-able values, as a path, or undefined when equal. */
export function firstDifference(a: unknown, b: unknown, path = ""): string | undefined {
  if (a === b) return undefined;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return `${path || "value"}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const d = firstDifference(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
      `${path}.${k}`,
    );
    if (d) return d;
  }
  return undefined;
}

function diffRecords(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>, n: number) {
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) out[k] = ((b[k] ?? 0) - (a[k] ?? 0)) / n;
  return out;
}

function diffCycles(a: ModeledCycles, b: ModeledCycles, n: number): ModeledCycles {
  return { total: (b.total - a.total) / n, byCategory: diffRecords(a.byCategory, b.byCategory, n) };
}

/** Per-operation figures by the 2n-n method. */
export function perOperation(one: RunRecord, two: RunRecord): PerOp {
  const n = one.n!;
  if (two.n !== 2 * n) throw new Error(`perOperation wants runs of n and 2n, got ${one.n} and ${two.n}`);
  const cycles: Record<string, ModeledCycles> = {};
  for (const p of Object.keys(two.cycles)) cycles[p] = diffCycles(one.cycles[p]!, two.cycles[p]!, n);
  return {
    n,
    instructions: (two.instructions.total - one.instructions.total) / n,
    steps: (two.steps - one.steps) / n,
    exits: {
      total: (two.exits.total - one.exits.total) / n,
      byReason: diffRecords(one.exits.byReason, two.exits.byReason, n),
    },
    events: diffRecords(one.events, two.events, n),
    cycles,
    ...(two.guest ? { guest: two.guest } : {}),
  };
}

function firstLineDiff(a: readonly string[], b: readonly string[]): string {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: "${b[i] ?? "(none)"}", the baseline has "${a[i] ?? "(none)"}"`;
  }
  return "";
}

/** Run the matrix; never throws for a failed cell (the cell says so), only for misuse. */
export async function runMatrix(
  plan: MatrixPlan,
  events: RunnerEvents = {},
  argv: string[] = [],
): Promise<BenchResult> {
  const startedAt = new Date();
  const t0 = performance.now();
  const loadStart = loadavg();
  // A failure is reported to the display once, as soon as it is known.
  const reported = new Set<string>();
  const cellFailed = (cell: string, message: string) => {
    if (reported.has(cell)) return;
    reported.add(cell);
    events.cellFailed?.(cell, message);
  };
  const notes = [...plan.notes];
  if (plan.modules.length > 0) notes.push(`strategies registered from ${plan.modules.join(", ")} (--with)`);
  const profiles = plan.profiles.map((p) => p.name);
  let manifest: LinuxManifest | undefined;
  let boot = plan.boot;
  if (boot) {
    manifest = readLinuxManifest();
    if (!manifest || !existsSync(manifest.kernel.path) || !existsSync(manifest.initramfs.path)) {
      boot = false;
      manifest = undefined;
      const line =
        "Linux boot skipped: no cached Debian kernel and initramfs (run `pnpm setup:bench` or `pnpm linux:fetch`)";
      notes.push(line);
      events.note?.(line);
    }
  }
  const bootReps = boot ? plan.bootRepetitions : 0;

  // Work estimate for the display.
  const perStrategyWork = plan.workloads.reduce(
    (s, w) => s + runWork(w.name, w.n) + runWork(w.name, 2 * w.n),
    0,
  );
  const total =
    perStrategyWork * plan.strategies.length * plan.repetitions +
    (boot ? bootReps * plan.strategies.length * LINUX_BOOT_INSTRUCTIONS : 0) +
    (boot && plan.qemu ? 2 * bootReps * QEMU_BOOT_WORK : 0);
  events.start?.(total);

  const hvkit = new Map<string, HvkitRep[]>(); // key strategy/workload
  const boots = new Map<string, { results: LinuxBootResult[]; failure?: string }>();
  const key = (s: string, w: string) => `${s}/${w}`;

  for (let rep = 1; rep <= plan.repetitions && plan.workloads.length > 0; rep++) {
    for (const strategy of plan.strategies) {
      const reps = plan.workloads.map((w) => {
        const list = hvkit.get(key(strategy.name, w.name)) ?? [];
        hvkit.set(key(strategy.name, w.name), list);
        const r: HvkitRep = { runs: new Map() };
        list.push(r);
        return r;
      });
      const job: ChildJob = {
        kind: "hvkit",
        strategy: strategy.name,
        image: hvkitImageFor(strategy),
        items: plan.workloads.map((w) => ({ workload: w.name, n: w.n })),
        profiles,
        timeoutMs: plan.timeoutMs,
        modules: [...plan.modules],
      };
      const label = (w: string) => `${strategy.name}: ${w} (repetition ${rep}/${plan.repetitions})`;
      events.advance?.(0, label(plan.workloads[0]!.name));
      const budget = plan.timeoutMs * plan.workloads.length * 2;
      const onMessage = (m: ChildMessage) => {
        const i = plan.workloads.findIndex((w) => w.name === ("workload" in m ? m.workload : ""));
        if (m.type === "run" && i >= 0) {
          reps[i]!.runs.set(m.size, m.result);
          const next = m.size === plan.workloads[i]!.n ? plan.workloads[i]! : plan.workloads[i + 1];
          events.advance?.(runWork(m.workload, m.size), next ? label(next.name) : `${strategy.name}: done`);
        } else if (m.type === "failed") {
          const targets = i >= 0 ? [reps[i]!] : reps;
          for (const r of targets) r.failure ??= `[${m.code}] ${m.message}`;
          cellFailed(key(strategy.name, m.workload), m.message);
        }
      };
      try {
        await runChildJob(job, onMessage, budget);
      } catch (e) {
        for (const r of reps) if (r.runs.size < 2) r.failure ??= (e as Error).message;
        cellFailed(`${strategy.name}/*`, (e as Error).message);
      }
    }
  }

  let qemu: QemuResult = { available: false, binary: "qemu-system-riscv64" };
  if (boot && plan.qemu && manifest) {
    qemu = await benchQemu({
      kernelPath: manifest.kernel.path,
      initrdPath: manifest.initramfs.path,
      repetitions: bootReps,
      timeoutMs: Math.min(plan.timeoutMs, 300_000),
      progress: (line) => events.advance?.(QEMU_BOOT_WORK, line),
    });
    if (qemu.error) events.note?.(`QEMU boot failed: ${qemu.error}`);
    if (!qemu.available) events.note?.(`QEMU not installed: hvkit alone (${qemu.installHint})`);
  } else if (!plan.qemu)
    qemu = { available: false, binary: "qemu-system-riscv64", error: "not run (--no-qemu)" };

  for (let rep = 1; rep <= bootReps && manifest; rep++) {
    for (const strategy of plan.strategies) {
      const entry = boots.get(strategy.name) ?? { results: [] };
      boots.set(strategy.name, entry);
      const label = `${strategy.name}: Linux boot (${rep}/${bootReps})`;
      events.advance?.(0, label);
      let reported = 0;
      const onMessage = (m: ChildMessage) => {
        if (m.type === "progress") {
          const now = Math.min(m.instructions, LINUX_BOOT_INSTRUCTIONS);
          if (now > reported) {
            events.advance?.(now - reported, `${label}: ${(m.instructions / 1e6).toFixed(0)} M instructions`);
            reported = now;
          }
        } else if (m.type === "boot") entry.results.push(m.result);
        else if (m.type === "failed") {
          entry.failure ??= `[${m.code}] ${m.message}`;
          cellFailed(key(strategy.name, BOOT_WORKLOAD), m.message);
        }
      };
      try {
        await runChildJob(
          {
            kind: "linux",
            strategy: strategy.name,
            kernelPath: manifest.kernel.path,
            initrdPath: manifest.initramfs.path,
            profiles,
            timeoutMs: plan.timeoutMs,
            modules: [...plan.modules],
          },
          onMessage,
          plan.timeoutMs,
        );
      } catch (e) {
        entry.failure ??= (e as Error).message;
        cellFailed(key(strategy.name, BOOT_WORKLOAD), (e as Error).message);
      }
      events.advance?.(Math.max(0, LINUX_BOOT_INSTRUCTIONS - reported), `${strategy.name}: booted`);
    }
  }

  const cells: Cell[] = [];
  const baselineChecks = new Map<string, string[][]>(); // workload -> CHECK lines of the n and 2n runs
  const baselineTranscript: { value?: string } = {};
  // Baseline first (planMatrix orders it so), so every other cell can be compared as it is built.
  for (const strategy of plan.strategies) {
    for (const w of plan.workloads) {
      const cell = hvkitCell(
        strategy,
        w.name,
        w.kind,
        w.n,
        hvkit.get(key(strategy.name, w.name)) ?? [],
        baselineChecks,
      );
      if (cell.status === "failed") cellFailed(key(strategy.name, w.name), cell.error!);
      cells.push(cell);
    }
    if (manifest) {
      const cell = bootCell(strategy, manifest, boots.get(strategy.name), baselineTranscript);
      if (cell.status === "failed") cellFailed(key(strategy.name, BOOT_WORKLOAD), cell.error!);
      cells.push(cell);
    }
  }

  const images = new Set(plan.strategies.map(hvkitImageFor));
  const strategies = plan.strategies.map((s) => ({
    name: s.name,
    description: s.description,
    techniques: { cpu: s.techniques.cpu, memory: s.techniques.memory, io: [...s.techniques.io] },
    image: hvkitImageFor(s),
  }));
  const result: BenchResult = {
    schema: BENCH_SCHEMA,
    version: BENCH_SCHEMA_VERSION,
    run: {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      durationSeconds: (performance.now() - t0) / 1000,
      matrix: plan.matrix,
      argv,
      git: gitInfo(),
      host: {
        node: process.version,
        platform: process.platform,
        arch: process.arch,
        cpu: cpus()[0]?.model ?? "unknown",
        cpus: cpus().length,
        memoryBytes: totalmem(),
        loadAverage: { start: loadStart, end: loadavg() },
      },
      options: {
        strategies: plan.strategies.map((s) => s.name),
        workloads: [...plan.workloads.map((w) => w.name), ...(manifest ? [BOOT_WORKLOAD] : [])],
        repetitions: plan.repetitions,
        bootRepetitions: bootReps,
        profiles,
        qemu: plan.qemu,
        timeoutSeconds: plan.timeoutMs / 1000,
      },
      notes,
    },
    guests: {
      hvkitKernel: Object.fromEntries([...images].map((i) => [i, sha256(readFileSync(hvkitImagePath(i)))])),
      linux: manifest
        ? {
            release: manifest.kernel.release,
            kernelSha256: manifest.kernel.sha256,
            initramfsSha256: manifest.initramfs.sha256,
          }
        : null,
    },
    profiles: plan.profiles.map((p) => ({
      name: p.name,
      description: p.description,
      sources: [...p.sources],
      cycles: { ...p.cycles },
    })),
    strategies,
    workloads: [
      ...plan.workloads.map((w) => ({
        name: w.name,
        kind: w.kind,
        n: w.n,
        unit: w.info.unit,
        description: w.info.description,
        ...(w.info.paper ? { paper: w.info.paper } : {}),
      })),
      ...(manifest
        ? [
            {
              name: BOOT_WORKLOAD,
              kind: "boot" as const,
              unit: "boot",
              description: `Debian ${manifest.kernel.release} with a busybox initramfs, ${LINUX_MIB} MiB, to BOOT-OK and power-off`,
            },
          ]
        : []),
    ],
    cells,
    qemu,
    findings: [],
    failures: cells.filter((c) => c.status === "failed").length,
  };
  result.findings = computeFindings(result);
  // The document is checked against its own schema before anyone reads it.
  return BenchResultSchema.parse(result);
}

const LINUX_MIB = 512;

function hvkitCell(
  strategy: StrategyDefinition,
  workload: string,
  kind: "nano" | "macro",
  n: number,
  reps: readonly HvkitRep[],
  baselineChecks: Map<string, string[][]>,
): Cell {
  const base = {
    strategy: strategy.name,
    workload,
    kind,
    image: hvkitImageFor(strategy),
    repetitions: reps.length,
  };
  const fail = (error: string, runs: RunRecord[] = []): Cell => ({
    ...base,
    status: "failed",
    error,
    runs,
    checks: { lines: 0, matchesBaseline: null },
  });
  const failure = reps.find((r) => r.failure)?.failure;
  if (failure) return fail(failure);
  if (reps.length === 0 || reps.some((r) => !r.runs.has(n) || !r.runs.has(2 * n))) {
    return fail(`[BENCH_CHILD_FAILED] missing runs of ${workload} (n=${n} and n=${2 * n})`);
  }
  const first = reps[0]!;
  const records = [first.runs.get(n)!.record, first.runs.get(2 * n)!.record];
  for (const [i, r] of reps.entries()) {
    for (const size of [n, 2 * n]) {
      const d = firstDifference(first.runs.get(size)!.record, r.runs.get(size)!.record);
      if (d) {
        return fail(
          `[BENCH_NONDETERMINISTIC] repetition ${i + 1} of ${workload} n=${size} differs from the first: ${d}`,
          records,
        );
      }
      const checks = r.runs.get(size)!.checks;
      const firstChecks = first.runs.get(size)!.checks;
      if (checks.join("\n") !== firstChecks.join("\n")) {
        return fail(
          `[BENCH_NONDETERMINISTIC] repetition ${i + 1} of ${workload} n=${size} printed other CHECK lines: ${firstLineDiff(firstChecks, checks)}`,
          records,
        );
      }
    }
  }
  const checks = [first.runs.get(n)!.checks, first.runs.get(2 * n)!.checks];
  let matchesBaseline: boolean | null = null;
  if (strategy.name === BASELINE_STRATEGY) {
    baselineChecks.set(workload, checks);
    matchesBaseline = true;
  } else {
    const b = baselineChecks.get(workload);
    if (b) {
      for (let i = 0; i < 2; i++) {
        if (b[i]!.join("\n") !== checks[i]!.join("\n")) {
          return fail(
            `[BENCH_CELL_FAILED] ${strategy.name} ${workload} n=${records[i]!.n}: CHECK lines differ from ${BASELINE_STRATEGY}'s (${firstLineDiff(b[i]!, checks[i]!)})`,
            records,
          );
        }
      }
      matchesBaseline = true;
    }
  }
  const samples = reps.map((r) => {
    const one = r.runs.get(n)!;
    const two = r.runs.get(2 * n)!;
    const seconds = one.wallSeconds + two.wallSeconds;
    const instructions = one.record.instructions.total + two.record.instructions.total;
    return { seconds, mips: seconds > 0 ? instructions / seconds / 1e6 : 0 };
  });
  return {
    ...base,
    status: "ok",
    runs: records,
    checks: { lines: checks[0]!.length + checks[1]!.length, matchesBaseline },
    perOp: perOperation(records[0]!, records[1]!),
    wall: {
      seconds: spread(samples.map((s) => s.seconds)),
      mips: spread(samples.map((s) => s.mips)),
      samples,
    },
  };
}

function bootCell(
  strategy: StrategyDefinition,
  manifest: LinuxManifest,
  entry: { results: LinuxBootResult[]; failure?: string } | undefined,
  baseline: { value?: string },
): Cell {
  const base = {
    strategy: strategy.name,
    workload: BOOT_WORKLOAD,
    kind: "boot" as const,
    image: `Debian ${manifest.kernel.release}`,
    repetitions: entry?.results.length ?? 0,
  };
  const fail = (error: string, runs: RunRecord[] = []): Cell => ({
    ...base,
    status: "failed",
    error,
    runs,
    checks: { lines: 0, matchesBaseline: null },
  });
  if (!entry || entry.failure) return fail(entry?.failure ?? "[BENCH_CHILD_FAILED] not run");
  if (entry.results.length === 0) return fail("[BENCH_CHILD_FAILED] no boot result");
  const first = entry.results[0]!;
  for (const [i, r] of entry.results.entries()) {
    const d = firstDifference(first.record, r.record);
    if (d) return fail(`[BENCH_NONDETERMINISTIC] boot ${i + 1} differs from the first: ${d}`, [first.record]);
  }
  let matchesBaseline: boolean | null = null;
  if (strategy.name === BASELINE_STRATEGY) {
    baseline.value = first.transcript;
    matchesBaseline = true;
  } else if (baseline.value !== undefined) {
    if (baseline.value !== first.transcript) {
      return fail(
        `[BENCH_CELL_FAILED] the init script's output differs from ${BASELINE_STRATEGY}'s (${firstLineDiff(baseline.value.split("\n"), first.transcript.split("\n"))})`,
        [first.record],
      );
    }
    matchesBaseline = true;
  }
  const samples = entry.results.map((r) => ({
    seconds: r.wallSeconds,
    mips: r.wallSeconds > 0 ? r.record.instructions.total / r.wallSeconds / 1e6 : 0,
  }));
  return {
    ...base,
    status: "ok",
    runs: [first.record],
    checks: { lines: 1, matchesBaseline },
    wall: {
      seconds: spread(samples.map((s) => s.seconds)),
      mips: spread(samples.map((s) => s.mips)),
      samples,
    },
    boot: {
      bootOkSeconds: spread(entry.results.map((r) => r.bootOkSeconds)),
      totalSeconds: spread(entry.results.map((r) => r.totalSeconds)),
      instructionsAtBootOk: first.instructionsAtBootOk,
      transcriptMatchesBaseline: matchesBaseline,
    },
  };
}
