/**
 * Synthetic results for tests of the findings, the comparison and the
 * reports: strategies with any techniques (including ones not written yet)
 * and chosen cycles per operation, valid against the schema.
 */
import { BENCH_SCHEMA, BENCH_SCHEMA_VERSION, type BenchResult, type Cell } from "../src/schema.js";

/** A strategy of a synthetic result. */
export interface FakeStrategy {
  name: string;
  cpu: string;
  memory: string;
}

export const EMULATION: FakeStrategy = { name: "emulation", cpu: "emulation", memory: "native" };
export const BT: FakeStrategy = { name: "bt", cpu: "binary-translation", memory: "shadow-paging" };
export const HW_SHADOW: FakeStrategy = {
  name: "hw-shadow",
  cpu: "hardware-assisted",
  memory: "shadow-paging",
};
export const HW_NESTED: FakeStrategy = {
  name: "hw-nested",
  cpu: "hardware-assisted",
  memory: "nested-paging",
};
export const PV: FakeStrategy = { name: "pv", cpu: "paravirt", memory: "paravirt" };
export const TE: FakeStrategy = {
  name: "trap-and-emulate",
  cpu: "trap-and-emulate",
  memory: "shadow-paging",
};

const WORKLOADS = [
  ["syscall", "nano"],
  ["mmio-read", "nano"],
  ["csr-write", "nano"],
  ["call-ret", "nano"],
  ["pgfault", "nano"],
  ["trap", "nano"],
  ["ptemod", "nano"],
  ["forkwait", "macro"],
  ["compute", "macro"],
  ["ctxswitch", "macro"],
  ["io", "macro"],
] as const;

/** Cycles per op by strategy name and workload, for every profile alike (unless `byProfile`). */
export type CycleTable = Record<string, Record<string, number>>;

/** A cell whose per-op figures are `perOp` cycles (and `exitsPerOp` exits) under every profile. */
export function fakeCell(
  strategy: string,
  workload: string,
  kind: "nano" | "macro",
  perOp: Record<string, number>,
  exitsPerOp = 1,
  mips = 50,
): Cell {
  const n = 100;
  const run = (size: number) => ({
    n: size,
    cmdline: `workload=${workload} n=${size}`,
    instructions: { total: 1_000_000 + size * 100, byMode: { S: 500_000, U: 500_000 + size * 100 } },
    steps: 1_000_100 + size * 100,
    exits: { total: Math.round(size * exitsPerOp), byReason: { csr: Math.round(size * exitsPerOp) } },
    hypercalls: { total: 1, byName: { SRST: 1 } },
    events: { instruction: 1_000_000 + size * 100 },
    cycles: Object.fromEntries(
      Object.entries(perOp).map(([p, c]) => [
        p,
        { total: 1_000_000 + size * c, byCategory: { instruction: 1_000_000 + size * c } },
      ]),
    ),
    counters: {},
  });
  return {
    strategy,
    workload,
    kind,
    status: "ok",
    image: "hvkit-kernel.elf",
    repetitions: 3,
    runs: [run(n), run(2 * n)],
    checks: { lines: 2, matchesBaseline: true },
    perOp: {
      n,
      instructions: 100,
      steps: 100,
      exits: { total: exitsPerOp, byReason: { csr: exitsPerOp } },
      events: { instruction: 100 },
      cycles: Object.fromEntries(
        Object.entries(perOp).map(([p, c]) => [p, { total: c, byCategory: { instruction: c } }]),
      ),
    },
    wall: {
      seconds: { median: 1, min: 0.9, max: 1.1, samples: 3 },
      mips: { median: mips, min: mips * 0.95, max: mips * 1.05, samples: 3 },
      samples: [
        { seconds: 0.9, mips: mips * 1.05 },
        { seconds: 1, mips },
        { seconds: 1.1, mips: mips * 0.95 },
      ],
    },
  };
}

/**
 * A result with the given strategies; `cycles[strategy][workload]` is the
 * cycles per op under every profile (default: 100 x the baseline's 100 for
 * virtualizing strategies, 100 for the baseline).
 */
export function fakeResult(
  strategies: FakeStrategy[],
  cycles: CycleTable = {},
  profiles: string[] = ["p4-2006", "modern"],
): BenchResult {
  const cells: Cell[] = [];
  for (const s of strategies) {
    for (const [w, kind] of WORKLOADS) {
      const c = cycles[s.name]?.[w] ?? (s.name === "emulation" ? 100 : 10_000);
      cells.push(fakeCell(s.name, w, kind, Object.fromEntries(profiles.map((p) => [p, c]))));
    }
  }
  return {
    schema: BENCH_SCHEMA,
    version: BENCH_SCHEMA_VERSION,
    run: {
      startedAt: "2026-01-01T00:00:00.000Z",
      finishedAt: "2026-01-01T00:03:00.000Z",
      durationSeconds: 180,
      matrix: "default",
      argv: [],
      git: { commit: "0123456789abcdef0123456789abcdef01234567", dirty: false },
      host: {
        node: "v20.0.0",
        platform: "linux",
        arch: "x64",
        cpu: "Test CPU",
        cpus: 2,
        memoryBytes: 8e9,
        loadAverage: { start: [0.1, 0.1, 0.1], end: [0.2, 0.1, 0.1] },
      },
      options: {
        strategies: strategies.map((s) => s.name),
        workloads: WORKLOADS.map(([w]) => w),
        repetitions: 3,
        bootRepetitions: 0,
        profiles,
        qemu: false,
        timeoutSeconds: 600,
      },
      notes: [],
    },
    guests: { hvkitKernel: { "hvkit-kernel.elf": "00" }, linux: null },
    profiles: profiles.map((name) => ({ name, description: name, sources: [], cycles: { instruction: 1 } })),
    strategies: strategies.map((s) => ({
      name: s.name,
      description: s.name,
      techniques: { cpu: s.cpu, memory: s.memory, io: ["emulated"] },
      image: s.cpu === "paravirt" ? "hvkit-kernel-pv.elf" : "hvkit-kernel.elf",
    })),
    workloads: WORKLOADS.map(([name, kind]) => ({ name, kind, n: 100, unit: "ops", description: name })),
    cells,
    qemu: { available: false, binary: "qemu-system-riscv64" },
    findings: [],
    failures: 0,
  };
}
