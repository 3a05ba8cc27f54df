/**
 * Figures derived from a result, shared by the terminal table, the Markdown
 * summary and the HTML report, so the three always say the same thing.
 */
import { BOOT_WORKLOAD } from "../matrix.js";
import { ADAMS_AGESEN_FORKWAIT, ADAMS_AGESEN_NANO } from "../paper.js";
import type { BenchResult, Cell, Spread } from "../schema.js";
import { BASELINE_STRATEGY } from "../strategies.js";

/** The cell of a strategy and workload, if it exists. */
export function cellOf(r: BenchResult, strategy: string, workload: string): Cell | undefined {
  return r.cells.find((c) => c.strategy === strategy && c.workload === workload);
}

/** Modeled cycles per operation (nano/macro, 2n-n) or per boot, under a profile; undefined if failed. */
export function cycles(
  r: BenchResult,
  strategy: string,
  workload: string,
  profile: string,
): number | undefined {
  const c = cellOf(r, strategy, workload);
  if (c?.status !== "ok") return undefined;
  return c.perOp ? c.perOp.cycles[profile]?.total : c.runs[0]?.cycles[profile]?.total;
}

/** Exits per operation (nano/macro) or per boot. */
export function exits(r: BenchResult, strategy: string, workload: string): number | undefined {
  const c = cellOf(r, strategy, workload);
  if (c?.status !== "ok") return undefined;
  return c.perOp ? c.perOp.exits.total : c.runs[0]?.exits.total;
}

/** Instructions per operation (nano/macro) or per boot. */
export function instructions(r: BenchResult, strategy: string, workload: string): number | undefined {
  const c = cellOf(r, strategy, workload);
  if (c?.status !== "ok") return undefined;
  return c.perOp ? c.perOp.instructions : c.runs[0]?.instructions.total;
}

/** Modeled cycles relative to the baseline's for the same workload (1 = no overhead). */
export function overhead(
  r: BenchResult,
  strategy: string,
  workload: string,
  profile: string,
): number | undefined {
  const x = cycles(r, strategy, workload, profile);
  const b = cycles(r, BASELINE_STRATEGY, workload, profile);
  return x === undefined || b === undefined || b === 0 ? undefined : x / b;
}

/** Median wall seconds relative to the baseline's (the simulator's cost, not the technique's). */
export function wallOverhead(r: BenchResult, strategy: string, workload: string): number | undefined {
  const x = cellOf(r, strategy, workload);
  const b = cellOf(r, BASELINE_STRATEGY, workload);
  if (x?.status !== "ok" || b?.status !== "ok" || !x.wall || !b.wall) return undefined;
  return x.wall.seconds.median / b.wall.seconds.median;
}

/** Workloads in report order: nanobenchmarks, macro workloads, the boot. */
export function workloadOrder(r: BenchResult): string[] {
  return r.workloads.map((w) => w.name);
}

/** Strategies other than the baseline. */
export function others(r: BenchResult): string[] {
  return r.strategies.map((s) => s.name).filter((s) => s !== BASELINE_STRATEGY);
}

/** A number for people: thousands separated, a sensible number of digits. */
export function num(x: number | undefined, digits?: number): string {
  if (x === undefined || !Number.isFinite(x)) return "-";
  if (x === 0) return "0";
  if (digits !== undefined)
    return x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const a = Math.abs(x);
  const d = a >= 1000 ? 0 : a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** A ratio as "12.3x". */
export function times(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return "-";
  return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)}x`;
}

/** Millions with one decimal. */
export function millions(x: number | undefined): string {
  return x === undefined ? "-" : `${(x / 1e6).toFixed(1)} M`;
}

/** "median [min-max]" (just the median for one sample). */
export function spreadText(s: Spread | undefined, digits = 1): string {
  if (!s) return "-";
  const m = s.median.toFixed(digits);
  return s.samples === 1 || s.min === s.max ? m : `${m} [${s.min.toFixed(digits)}-${s.max.toFixed(digits)}]`;
}

/** The nanobenchmark table beside Adams & Agesen's figure 4, per profile. */
export function paperNanoRows(r: BenchResult, profile: string) {
  return ADAMS_AGESEN_NANO.filter((p) => r.workloads.some((w) => w.name === p.workload)).map((p) => ({
    paper: p,
    hvkit: Object.fromEntries(r.strategies.map((s) => [s.name, cycles(r, s.name, p.workload, profile)])),
  }));
}

/** forkwait relative to native: the paper's Pentium 4 and Core 2 figures, and hvkit's per strategy. */
export function forkwaitRows(r: BenchResult, profile: string) {
  const fw = ADAMS_AGESEN_FORKWAIT;
  return {
    paper: [
      { label: "Pentium 4: BT", ratio: fw.pentium4.bt / fw.pentium4.native },
      { label: "Pentium 4: VT", ratio: fw.pentium4.vt / fw.pentium4.native },
      { label: "Core 2: BT", ratio: fw.core2.bt / fw.core2.native },
      { label: "Core 2: VT", ratio: fw.core2.vt / fw.core2.native },
    ],
    hvkit: others(r).map((s) => ({ strategy: s, ratio: overhead(r, s, "forkwait", profile) })),
  };
}

/** QEMU's MIPS: the -icount count at BOOT-OK over the plain TCG run's time to BOOT-OK. */
export function qemuMips(r: BenchResult): number | undefined {
  const q = r.qemu;
  if (!q.tcg || !q.icount) return undefined;
  return q.icount.instructionsAtBootOk.median / q.tcg.bootOkSeconds.median / 1e6;
}

/** Failed cells. */
export function failedCells(r: BenchResult): Cell[] {
  return r.cells.filter((c) => c.status === "failed");
}

export { BASELINE_STRATEGY, BOOT_WORKLOAD };
