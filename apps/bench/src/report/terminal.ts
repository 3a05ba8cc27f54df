/** The terminal tables (cli-table3), printed when a run ends. */
import Table from "cli-table3";
import type { BenchResult } from "../schema.js";
import { bootTable, cyclesTable, type TableModel, wallTable } from "./tables.js";
import { exits, failedCells, num, workloadOrder } from "./views.js";

function render(t: TableModel | undefined, color: boolean): string[] {
  if (!t) return [];
  const table = new Table({
    head: t.head,
    style: color ? { head: ["cyan"], border: ["grey"] } : { head: [], border: [] },
  });
  const red = (v: string) => (color && v === "FAILED" ? `\x1b[31m${v}\x1b[0m` : v);
  for (const row of t.rows) table.push(row.map(red));
  return [`\n${t.title}: ${t.note}`, table.toString()];
}

/** Everything the terminal shows after a run. */
export function terminalReport(r: BenchResult, color = false): string {
  const out: string[] = [];
  for (const p of r.run.options.profiles) out.push(...render(cyclesTable(r, p), color));
  const strategies = r.strategies.map((s) => s.name);
  out.push(
    ...render(
      {
        id: "exits",
        title: "Exits per operation",
        note: "to the VMM, 2n-n; linux-boot: per boot.",
        head: ["workload", ...strategies],
        rows: workloadOrder(r).map((w) => [w, ...strategies.map((s) => num(exits(r, s, w)))]),
      },
      color,
    ),
  );
  out.push(...render(wallTable(r), color));
  out.push(...render(bootTable(r), color));
  const profiles = r.run.options.profiles;
  const ids = [...new Set(r.findings.map((f) => f.id))];
  out.push(
    ...render(
      {
        id: "findings",
        title: "Findings",
        note: "computed from this run (details in the Markdown and HTML reports).",
        head: ["finding", ...profiles],
        rows: ids.map((id) => [
          id,
          ...profiles.map((p) => r.findings.find((f) => f.id === id && f.profile === p)?.verdict ?? "-"),
        ]),
      },
      color,
    ),
  );
  const failed = failedCells(r);
  if (failed.length > 0) {
    out.push(`\n${failed.length} cell(s) FAILED; their figures do not count:`);
    for (const c of failed) out.push(`  ${c.strategy} / ${c.workload}: ${c.error?.split("\n")[0]}`);
  }
  for (const n of r.run.notes) out.push(`note: ${n}`);
  return out.join("\n");
}
