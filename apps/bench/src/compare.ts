/**
 * `bench compare A B`: what changed between two results, cell by cell.
 *
 * Two kinds of figure, judged differently:
 * - deterministic (instructions, exits and modeled cycles per operation):
 *   the same guest and code give the same number on any machine, so any
 *   change is real; an increase is a regression, a decrease an improvement.
 * - measured (guest MIPS of the simulator, seconds to BOOT-OK): noisy. A
 *   change counts only beyond the noise: the two runs' [min, max] ranges over
 *   their repetitions do not overlap, and the medians differ by more than
 *   the threshold (default 5%, which also covers single-repetition runs).
 */
import Table from "cli-table3";
import { cellOf, cycles, exits, instructions } from "./report/views.js";
import type { BenchResult, Spread } from "./schema.js";

/** One compared figure. */
export interface ComparisonRow {
  strategy: string;
  workload: string;
  metric: string;
  kind: "deterministic" | "measured";
  /** Higher is better (MIPS) or worse (cycles, exits, seconds). */
  better: "higher" | "lower";
  a: number | undefined;
  b: number | undefined;
  /** (b - a) / a. */
  change: number | undefined;
  verdict: "regression" | "improvement" | "same" | "within noise" | "missing" | "failed";
}

/** The whole comparison. */
export interface Comparison {
  baseline: RunLabel;
  candidate: RunLabel;
  notes: string[];
  rows: ComparisonRow[];
  regressions: number;
  improvements: number;
}

interface RunLabel {
  startedAt: string;
  commit: string | null;
  dirty: boolean | null;
  host: string;
  matrix: string;
}

function label(r: BenchResult): RunLabel {
  return {
    startedAt: r.run.startedAt,
    commit: r.run.git.commit,
    dirty: r.run.git.dirty,
    host: `${r.run.host.cpus} x ${r.run.host.cpu}, Node ${r.run.host.node}`,
    matrix: r.run.matrix,
  };
}

/** Options of {@link compareResults}. */
export interface CompareOptions {
  /** Least relative change of a measured figure that counts (default 0.05). */
  threshold?: number;
}

/** Deterministic figures equal to within float noise of the 2n-n division. */
const EPSILON = 1e-9;

function deterministic(
  strategy: string,
  workload: string,
  metric: string,
  a: number | undefined,
  b: number | undefined,
): ComparisonRow {
  const change = a !== undefined && b !== undefined && a !== 0 ? (b - a) / Math.abs(a) : undefined;
  let verdict: ComparisonRow["verdict"] = "missing";
  if (a !== undefined && b !== undefined) {
    const same = Math.abs(b - a) <= EPSILON * Math.max(1, Math.abs(a));
    verdict = same ? "same" : b > a ? "regression" : "improvement";
  }
  return { strategy, workload, metric, kind: "deterministic", better: "lower", a, b, change, verdict };
}

function measured(
  strategy: string,
  workload: string,
  metric: string,
  better: "higher" | "lower",
  a: Spread | undefined,
  b: Spread | undefined,
  threshold: number,
): ComparisonRow {
  const row: ComparisonRow = {
    strategy,
    workload,
    metric,
    kind: "measured",
    better,
    a: a?.median,
    b: b?.median,
    change: a && b && a.median !== 0 ? (b.median - a.median) / Math.abs(a.median) : undefined,
    verdict: "missing",
  };
  if (!a || !b || row.change === undefined) return row;
  const disjoint = b.min > a.max || b.max < a.min;
  if (!disjoint || Math.abs(row.change) <= threshold) {
    row.verdict = row.change === 0 ? "same" : "within noise";
    return row;
  }
  const worse = better === "higher" ? row.change < 0 : row.change > 0;
  row.verdict = worse ? "regression" : "improvement";
  return row;
}

/** Compare candidate `b` with baseline `a`. */
export function compareResults(a: BenchResult, b: BenchResult, options: CompareOptions = {}): Comparison {
  const threshold = options.threshold ?? 0.05;
  const notes: string[] = [];
  if (a.run.host.cpu !== b.run.host.cpu || a.run.host.node !== b.run.host.node) {
    notes.push(
      `different hosts (${label(a).host} / ${label(b).host}): wall-time figures compare machines, not code`,
    );
  }
  for (const [image, digest] of Object.entries(b.guests.hvkitKernel)) {
    const before = a.guests.hvkitKernel[image];
    if (before && before !== digest)
      notes.push(`${image} differs between the runs: guest-side changes are expected`);
  }
  for (const p of b.profiles) {
    const q = a.profiles.find((x) => x.name === p.name);
    if (q && JSON.stringify(q.cycles) !== JSON.stringify(p.cycles)) {
      notes.push(`cost profile ${p.name} changed between the runs: its modeled cycles change with it`);
    }
  }
  const profiles = b.run.options.profiles.filter((p) => a.run.options.profiles.includes(p));
  const rows: ComparisonRow[] = [];
  const keys = new Set(b.cells.map((c) => `${c.strategy}\u0000${c.workload}`));
  for (const c of a.cells) keys.add(`${c.strategy}\u0000${c.workload}`);
  for (const k of keys) {
    const [strategy, workload] = k.split("\u0000") as [string, string];
    const ca = cellOf(a, strategy, workload);
    const cb = cellOf(b, strategy, workload);
    if (!ca || !cb) {
      rows.push({
        strategy,
        workload,
        metric: "cell",
        kind: "deterministic",
        better: "lower",
        a: undefined,
        b: undefined,
        change: undefined,
        verdict: "missing",
      });
      continue;
    }
    if (ca.status !== "ok" || cb.status !== "ok") {
      rows.push({
        strategy,
        workload,
        metric: "status",
        kind: "deterministic",
        better: "lower",
        a: undefined,
        b: undefined,
        change: undefined,
        // A cell that passed before and fails now is the worst regression of all.
        verdict:
          cb.status !== "ok" && ca.status === "ok"
            ? "regression"
            : cb.status !== "ok"
              ? "failed"
              : "improvement",
      });
      continue;
    }
    const unit = ca.kind === "boot" ? "per boot" : "per op";
    if (ca.perOp && cb.perOp && ca.perOp.n !== cb.perOp.n) {
      notes.push(
        `${strategy} / ${workload}: n=${ca.perOp.n} vs n=${cb.perOp.n} (per-op figures still compare)`,
      );
    }
    rows.push(
      deterministic(
        strategy,
        workload,
        `instructions ${unit}`,
        instructions(a, strategy, workload),
        instructions(b, strategy, workload),
      ),
    );
    rows.push(
      deterministic(
        strategy,
        workload,
        `exits ${unit}`,
        exits(a, strategy, workload),
        exits(b, strategy, workload),
      ),
    );
    for (const p of profiles) {
      rows.push(
        deterministic(
          strategy,
          workload,
          `cycles ${unit} (${p})`,
          cycles(a, strategy, workload, p),
          cycles(b, strategy, workload, p),
        ),
      );
    }
    rows.push(measured(strategy, workload, "guest MIPS", "higher", ca.wall?.mips, cb.wall?.mips, threshold));
    if (ca.boot && cb.boot) {
      rows.push(
        measured(
          strategy,
          workload,
          "seconds to BOOT-OK",
          "lower",
          ca.boot.bootOkSeconds,
          cb.boot.bootOkSeconds,
          threshold,
        ),
      );
    }
  }
  return {
    baseline: label(a),
    candidate: label(b),
    notes,
    rows,
    regressions: rows.filter((r) => r.verdict === "regression").length,
    improvements: rows.filter((r) => r.verdict === "improvement").length,
  };
}

const ORDER: Record<ComparisonRow["verdict"], number> = {
  regression: 0,
  failed: 1,
  missing: 2,
  improvement: 3,
  "within noise": 4,
  same: 5,
};

function fmt(x: number | undefined): string {
  if (x === undefined) return "-";
  const a = Math.abs(x);
  return x.toLocaleString("en-US", { maximumFractionDigits: a >= 100 ? 0 : a >= 1 ? 2 : 4 });
}

/** The comparison as text: what changed (regressions first), then a one-line summary. */
export function formatComparison(c: Comparison): string {
  const who = (l: RunLabel) =>
    `${l.startedAt} ${l.commit ? l.commit.slice(0, 10) : "(no commit)"}${l.dirty ? "+dirty" : ""} on ${l.host} (${l.matrix})`;
  const out = [`baseline:  ${who(c.baseline)}`, `candidate: ${who(c.candidate)}`];
  for (const n of c.notes) out.push(`note: ${n}`);
  const changed = c.rows.filter((r) => r.verdict !== "same" && r.verdict !== "within noise");
  if (changed.length > 0) {
    const t = new Table({
      head: ["strategy", "workload", "figure", "baseline", "candidate", "change", "verdict"],
      style: { head: [], border: [] },
    });
    for (const r of [...changed].sort((x, y) => ORDER[x.verdict] - ORDER[y.verdict])) {
      t.push([
        r.strategy,
        r.workload,
        r.metric,
        fmt(r.a),
        fmt(r.b),
        r.change === undefined ? "-" : `${r.change >= 0 ? "+" : ""}${(r.change * 100).toFixed(1)}%`,
        r.verdict === "regression" ? "REGRESSION" : r.verdict,
      ]);
    }
    out.push(t.toString());
  }
  const noisy = c.rows.filter((r) => r.verdict === "within noise").length;
  const same = c.rows.filter((r) => r.verdict === "same").length;
  out.push(
    `${c.regressions} regression(s), ${c.improvements} improvement(s), ${noisy} measured change(s) within the noise, ${same} figure(s) identical`,
  );
  return out.join("\n");
}
