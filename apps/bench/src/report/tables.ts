/**
 * The report's tables as data (a title, a note, a header and rows of text),
 * rendered by the Markdown summary and the HTML report alike.
 */
import { ADAMS_AGESEN_FORKWAIT } from "../paper.js";
import type { BenchResult } from "../schema.js";
import {
  BASELINE_STRATEGY,
  BOOT_WORKLOAD,
  cellOf,
  cycles,
  exits,
  forkwaitRows,
  millions,
  num,
  others,
  overhead,
  paperNanoRows,
  qemuMips,
  spreadText,
  times,
  workloadOrder,
} from "./views.js";

/** A table ready to render. */
export interface TableModel {
  id: string;
  title: string;
  note: string;
  head: string[];
  rows: string[][];
}

/** Modeled cycles per operation under one profile, with the overhead relative to the baseline. */
export function cyclesTable(r: BenchResult, p: string): TableModel {
  const strategies = r.strategies.map((s) => s.name);
  return {
    id: `cycles-${p}`,
    title: `Modeled cycles per operation (${p})`,
    note: `2n-n per operation; ${BOOT_WORKLOAD}: the whole boot. In parentheses: relative to ${BASELINE_STRATEGY}.`,
    head: ["workload", ...strategies],
    rows: workloadOrder(r).map((w) => [
      w,
      ...strategies.map((s) => {
        if (cellOf(r, s, w)?.status === "failed") return "FAILED";
        const x = cycles(r, s, w, p);
        const v = w === BOOT_WORKLOAD ? millions(x) : num(x);
        return s === BASELINE_STRATEGY || x === undefined ? v : `${v} (${times(overhead(r, s, w, p))})`;
      }),
    ]),
  };
}

/** The nanobenchmarks beside Adams & Agesen's figure 4. */
export function nanoPaperTable(r: BenchResult, p: string): TableModel | undefined {
  const strategies = r.strategies.map((s) => s.name);
  const rows = paperNanoRows(r, p);
  if (rows.length === 0) return undefined;
  return {
    id: "nano-paper",
    title: "Nanobenchmarks beside Adams & Agesen (ASPLOS 2006, figure 4)",
    note: `Paper: measured cycles on a 3.8 GHz Pentium 4 672 (first-generation VT-x). hvkit: modeled cycles per operation under ${p}, with ${BASELINE_STRATEGY} in the native column's place.`,
    head: ["paper test", "hvkit workload", "paper native", "paper BT", "paper VT", ...strategies],
    rows: rows.map((row) => [
      row.paper.test,
      row.paper.workload,
      String(row.paper.native),
      String(row.paper.bt),
      String(row.paper.vt),
      ...strategies.map((s) => num(row.hvkit[s])),
    ]),
  };
}

/** forkwait's slowdown beside the paper's. */
export function forkwaitTable(
  r: BenchResult,
  profiles: readonly string[],
  paperProfile: string,
): TableModel | undefined {
  if (!workloadOrder(r).includes("forkwait") || others(r).length === 0) return undefined;
  const fw = ADAMS_AGESEN_FORKWAIT;
  return {
    id: "forkwait-paper",
    title: "forkwait beside the paper's macrobenchmark",
    note: `Paper: ${fw.operations.toLocaleString("en-US")} fork/wait pairs, Pentium 4 native ${fw.pentium4.native} s, BT ${fw.pentium4.bt} s, VT ${fw.pentium4.vt} s (Core 2: ${fw.core2.native} / ${fw.core2.bt} / ${fw.core2.vt} s). hvkit: modeled cycles per fork/exit/wait relative to ${BASELINE_STRATEGY}.`,
    head: ["", "slowdown vs native"],
    rows: [
      ...forkwaitRows(r, paperProfile).paper.map((p) => [`paper ${p.label}`, times(p.ratio)]),
      ...profiles.flatMap((p) =>
        forkwaitRows(r, p).hvkit.map((h) => [`hvkit ${h.strategy} (${p})`, times(h.ratio)]),
      ),
    ],
  };
}

/** Exits per operation with the most frequent reasons. */
export function exitsTable(r: BenchResult): TableModel {
  const strategies = r.strategies.map((s) => s.name);
  return {
    id: "exits",
    title: "Exits per operation",
    note: `${BOOT_WORKLOAD}: per boot. The most frequent reasons follow each figure.`,
    head: ["workload", ...strategies],
    rows: workloadOrder(r).map((w) => [
      w,
      ...strategies.map((s) => {
        const c = cellOf(r, s, w);
        const x = exits(r, s, w);
        if (x === undefined || !c) return c?.status === "failed" ? "FAILED" : "-";
        const reasons = c.perOp ? c.perOp.exits.byReason : (c.runs[0]?.exits.byReason ?? {});
        const top = Object.entries(reasons)
          .filter(([, v]) => v > 0)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 3)
          .map(([k, v]) => `${k} ${num(v)}`)
          .join(", ");
        return top ? `${num(x)} (${top})` : num(x);
      }),
    ]),
  };
}

/** Wall time and MIPS of the simulator. */
export function wallTable(r: BenchResult): TableModel {
  const strategies = r.strategies.map((s) => s.name);
  return {
    id: "wall",
    title: "Simulator wall time",
    note: "Seconds inside vm.run per cell (both runs; the boot: to power-off), median [min-max] over the repetitions, and guest MIPS (median). Each repetition of a strategy's workloads, and each boot, runs in a fresh Node process.",
    head: ["workload", ...strategies],
    rows: workloadOrder(r).map((w) => [
      w,
      ...strategies.map((s) => {
        const c = cellOf(r, s, w);
        if (c?.status === "failed") return "FAILED";
        return c?.wall ? `${spreadText(c.wall.seconds, 2)} s, ${c.wall.mips.median.toFixed(0)} MIPS` : "-";
      }),
    ]),
  };
}

/** The Linux boot beside QEMU. */
export function bootTable(r: BenchResult): TableModel | undefined {
  const boots = r.cells.filter((c) => c.kind === "boot");
  if (boots.length === 0) return undefined;
  const q = r.qemu;
  const qemuOk = q.tcg?.bootOkSeconds.median;
  const rows: string[][] = [];
  if (q.tcg) {
    rows.push([
      `QEMU TCG ${/version (\S+)/.exec(q.version ?? "")?.[1] ?? ""}`.trim(),
      spreadText(q.tcg.bootOkSeconds, 2),
      spreadText(q.tcg.totalSeconds, 2),
      q.icount ? millions(q.icount.instructionsAtBootOk.median) : "-",
      q.icount ? `~${num(qemuMips(r), 0)}` : "-",
      "-",
      "1.00x",
    ]);
  }
  for (const c of boots) {
    if (c.status !== "ok" || !c.boot) {
      rows.push([`hvkit ${c.strategy}`, "FAILED", "-", "-", "-", "-", "-"]);
      continue;
    }
    rows.push([
      `hvkit ${c.strategy}`,
      spreadText(c.boot.bootOkSeconds, 2),
      spreadText(c.boot.totalSeconds, 2),
      `${millions(c.boot.instructionsAtBootOk)} (${millions(c.runs[0]!.instructions.total)} to power-off)`,
      spreadText(c.wall!.mips, 0),
      num(c.runs[0]!.exits.total),
      qemuOk ? times(c.boot.bootOkSeconds.median / qemuOk) : "-",
    ]);
  }
  const qemuNote = q.command
    ? ` QEMU: \`${q.command}\` (plain TCG for time; a second boot with -icount shift=0, read over QMP, for instructions).`
    : "";
  const missing = !q.available && q.installHint ? ` QEMU is not installed (${q.installHint}).` : "";
  const err = q.error ? ` QEMU: ${q.error.split("\n")[0]}.` : "";
  return {
    id: "boot",
    title: "Debian Linux boot",
    note: `${r.guests.linux?.release ?? ""}, busybox initramfs, 512 MiB, console=ttyS0; times from Vm.create / QEMU's spawn; one fresh process per boot.${qemuNote}${missing}${err}`,
    head: [
      "engine",
      "to BOOT-OK (s)",
      "power-off (s)",
      "instructions to BOOT-OK",
      "MIPS",
      "exits",
      "time / QEMU",
    ],
    rows,
  };
}

/** Each strategy's own counters: per operation (2n-n) for hvkit-kernel workloads, per boot for Linux. */
export function counterTables(r: BenchResult): TableModel[] {
  const workloads = workloadOrder(r);
  const out: TableModel[] = [];
  for (const s of r.strategies) {
    const names = new Set<string>();
    for (const c of r.cells)
      if (c.strategy === s.name) for (const k of Object.keys(c.runs[0]?.counters ?? {})) names.add(k);
    if (names.size === 0) continue;
    out.push({
      id: `counters-${s.name}`,
      title: `${s.name}: strategy counters`,
      note: "Per operation (2n-n) for hvkit-kernel workloads, per boot for Linux.",
      head: ["counter", ...workloads],
      rows: [...names].sort().map((k) => [
        k,
        ...workloads.map((w) => {
          const c = cellOf(r, s.name, w);
          if (c?.status !== "ok") return "-";
          if (c.runs.length === 2) {
            const a = c.runs[0]!.counters[k];
            const b = c.runs[1]!.counters[k];
            return a === undefined || b === undefined ? "-" : num((b - a) / c.runs[0]!.n!);
          }
          return num(c.runs[0]!.counters[k]);
        }),
      ]),
    });
  }
  return out;
}
