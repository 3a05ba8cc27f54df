/**
 * The bench app's JSON result: schema `hvkit.bench`, version 1. One file is
 * one run of the matrix on one machine at one commit; it carries what is
 * needed to merge and compare runs from other machines and commits (host,
 * git commit, options, the cost profiles' tables, the guest images' digests).
 *
 * Deterministic figures (instructions, steps, exits, cost-model events and
 * the modeled cycles derived from them) are identical on every repetition
 * and every machine for the same guest and code; wall time and MIPS are
 * measurements of this simulator on this host, with their spread.
 *
 * The version is bumped on any change of this shape. `schema/hvkit-bench-1.schema.json`
 * is the same schema as JSON Schema, generated from this file (a test keeps it current).
 */
import { z } from "zod";

/** Schema identifier written into every result. */
export const BENCH_SCHEMA = "hvkit.bench";
/** Schema version; bumped on any incompatible or additive change of the shape. */
export const BENCH_SCHEMA_VERSION = 1;
/** Identifier of a file produced by `bench merge`. */
export const BENCH_COLLECTION_SCHEMA = "hvkit.bench-collection";

const count = z.number().int().nonnegative();
const counts = z.record(z.string(), count);

/** Median, minimum and maximum over the repetitions, and how many there were. */
export const Spread = z.strictObject({
  median: z.number(),
  min: z.number(),
  max: z.number(),
  samples: z.number().int().positive(),
});
export type Spread = z.infer<typeof Spread>;

/** Modeled cycles under one profile: total and by cost-model category. */
export const ModeledCycles = z.strictObject({
  total: z.number().nonnegative(),
  byCategory: z.record(z.string(), z.number().nonnegative()),
});
export type ModeledCycles = z.infer<typeof ModeledCycles>;

/** The guest's own counters per operation (its MEASURE line). */
export const GuestMeasure = z.strictObject({
  instretPerOp: z.number(),
  cyclesPerOp: z.number().describe("rdcycle per operation: hvkit steps (instructions plus traps)"),
  nsPerOp: z.number().describe("guest-time nanoseconds per operation (rdtime)"),
});

/** The deterministic record of one VM run (one guest, one size). Identical on every repetition. */
export const RunRecord = z.strictObject({
  n: z.number().int().positive().optional().describe("workload size; absent for the Linux boot"),
  cmdline: z.string(),
  instructions: z.strictObject({ total: count, byMode: counts }),
  steps: count,
  exits: z.strictObject({ total: count, byReason: counts }),
  hypercalls: z.strictObject({ total: count, byName: counts }),
  events: counts.describe("chargeable cost-model events (vm.stats under a unit-cost profile)"),
  cycles: z.record(z.string(), ModeledCycles).describe("modeled cycles by profile name"),
  counters: z.record(z.string(), z.number()).describe("the strategy's own counters"),
  guest: GuestMeasure.optional(),
});
export type RunRecord = z.infer<typeof RunRecord>;

/** Figures per operation by the 2n-n method: (run with 2n operations - run with n) / n. */
export const PerOp = z.strictObject({
  n: z.number().int().positive(),
  instructions: z.number(),
  steps: z.number(),
  exits: z.strictObject({ total: z.number(), byReason: z.record(z.string(), z.number()) }),
  events: z.record(z.string(), z.number()),
  cycles: z.record(z.string(), ModeledCycles),
  guest: GuestMeasure.optional().describe("the 2n run's MEASURE line"),
});
export type PerOp = z.infer<typeof PerOp>;

/** Wall-clock figures of this simulator, over the repetitions. */
export const Wall = z.strictObject({
  seconds: Spread.describe("seconds inside vm.run, summed over the cell's runs"),
  mips: Spread.describe("guest instructions / seconds inside vm.run, in millions"),
  samples: z.array(z.strictObject({ seconds: z.number().nonnegative(), mips: z.number().nonnegative() })),
});
export type Wall = z.infer<typeof Wall>;

/** Linux boot timings (from Vm.create, in a fresh Node process per boot). */
export const BootTiming = z.strictObject({
  bootOkSeconds: Spread,
  totalSeconds: Spread,
  instructionsAtBootOk: count,
  transcriptMatchesBaseline: z.boolean().nullable(),
});

/** One cell: one strategy running one workload (or the Linux boot). */
export const Cell = z.strictObject({
  strategy: z.string(),
  workload: z.string(),
  kind: z.enum(["nano", "macro", "boot"]),
  status: z.enum(["ok", "failed"]),
  error: z.string().optional().describe("why the cell failed; its figures do not count"),
  image: z.string().describe("the guest image (file name, or the Linux kernel release)"),
  repetitions: z.number().int().nonnegative(),
  runs: z.array(RunRecord).describe("nano/macro: the runs with n and 2n operations; boot: the boot"),
  checks: z.strictObject({
    lines: count.describe("CHECK lines (hvkit-kernel) or BOOT-OK lines (Linux) seen and passed"),
    matchesBaseline: z
      .boolean()
      .nullable()
      .describe("CHECK lines identical to the emulation baseline's (null: no baseline in this run)"),
  }),
  perOp: PerOp.optional(),
  wall: Wall.optional(),
  boot: BootTiming.optional(),
});
export type Cell = z.infer<typeof Cell>;

/** A cost-model profile as it was when the run was made. */
export const ProfileInfo = z.strictObject({
  name: z.string(),
  description: z.string(),
  sources: z.array(z.string()),
  cycles: z.record(z.string(), z.number()),
});

/** A strategy as the registry described it. */
export const StrategyInfo = z.strictObject({
  name: z.string(),
  description: z.string(),
  techniques: z.strictObject({ cpu: z.string(), memory: z.string(), io: z.array(z.string()) }),
  image: z.string().describe("the hvkit-kernel image it runs (the paravirtual build for paravirt)"),
});

/** A workload of the matrix with its size. */
export const WorkloadInfo = z.strictObject({
  name: z.string(),
  kind: z.enum(["nano", "macro", "boot"]),
  n: z.number().int().positive().optional(),
  unit: z.string(),
  description: z.string(),
  paper: z.string().optional().describe("the analogue in Adams & Agesen's figure 4"),
});

/** QEMU's Linux boot, measured in the same run. */
export const QemuResult = z.strictObject({
  available: z.boolean(),
  binary: z.string(),
  version: z.string().optional(),
  installHint: z.string().optional(),
  error: z.string().optional(),
  command: z.string().optional(),
  tcg: z.strictObject({ bootOkSeconds: Spread, totalSeconds: Spread }).optional(),
  icount: z.strictObject({ instructionsAtBootOk: Spread }).optional(),
});
export type QemuResult = z.infer<typeof QemuResult>;

/** A qualitative finding of the literature, computed from this run. */
export const Finding = z.strictObject({
  id: z.string(),
  claim: z.string(),
  source: z.string(),
  profile: z.string(),
  verdict: z.enum(["reproduced", "not reproduced", "not measurable"]),
  detail: z.string(),
  strategies: z.record(z.string(), z.string()).describe("role -> strategy used"),
  missing: z.array(z.string()).describe("roles without a registered strategy (or with failed cells)"),
});
export type Finding = z.infer<typeof Finding>;

const Host = z.strictObject({
  node: z.string(),
  platform: z.string(),
  arch: z.string(),
  cpu: z.string(),
  cpus: z.number().int().positive(),
  memoryBytes: z.number().nonnegative(),
  loadAverage: z.strictObject({ start: z.array(z.number()), end: z.array(z.number()) }),
});

/** The whole result of one `pnpm bench` run. */
export const BenchResult = z.strictObject({
  schema: z.literal(BENCH_SCHEMA),
  version: z.literal(BENCH_SCHEMA_VERSION),
  run: z.strictObject({
    startedAt: z.string(),
    finishedAt: z.string(),
    durationSeconds: z.number().nonnegative(),
    matrix: z.enum(["default", "full", "custom"]),
    argv: z.array(z.string()),
    git: z.strictObject({ commit: z.string().nullable(), dirty: z.boolean().nullable() }),
    host: Host,
    options: z.strictObject({
      strategies: z.array(z.string()),
      workloads: z.array(z.string()),
      repetitions: z.number().int().positive(),
      bootRepetitions: z.number().int().nonnegative(),
      profiles: z.array(z.string()),
      qemu: z.boolean(),
      timeoutSeconds: z.number().positive(),
    }),
    notes: z
      .array(z.string())
      .describe("what the run decided or skipped (a baseline added, no Linux artifacts)"),
  }),
  guests: z.strictObject({
    hvkitKernel: z.record(z.string(), z.string()).describe("image file -> sha256"),
    linux: z
      .strictObject({ release: z.string(), kernelSha256: z.string(), initramfsSha256: z.string() })
      .nullable(),
  }),
  profiles: z.array(ProfileInfo),
  strategies: z.array(StrategyInfo),
  workloads: z.array(WorkloadInfo),
  cells: z.array(Cell),
  qemu: QemuResult,
  findings: z.array(Finding),
  failures: count,
});
export type BenchResult = z.infer<typeof BenchResult>;

/** Several results put side by side (`bench merge`): each keeps its own machine, commit and options. */
export const BenchCollection = z.strictObject({
  schema: z.literal(BENCH_COLLECTION_SCHEMA),
  version: z.literal(BENCH_SCHEMA_VERSION),
  results: z.array(BenchResult),
});
export type BenchCollection = z.infer<typeof BenchCollection>;

/** The JSON Schema of a result (and of a collection), for readers outside TypeScript. */
export function benchJsonSchema(): Record<string, unknown> {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: `${BENCH_SCHEMA} version ${BENCH_SCHEMA_VERSION}`,
    description:
      "One run of hvkit's benchmark matrix (apps/bench). A bench merge file has schema hvkit.bench-collection and a results array of these.",
    ...z.toJSONSchema(BenchResult, { target: "draft-2020-12" }),
  };
}
