/** The Markdown summary of a result: what ran, what was found, and the tables behind it. */
import type { BenchResult, Finding } from "../schema.js";
import {
  bootTable,
  counterTables,
  cyclesTable,
  exitsTable,
  forkwaitTable,
  nanoPaperTable,
  type TableModel,
  wallTable,
} from "./tables.js";
import { BASELINE_STRATEGY, failedCells } from "./views.js";

function mdTable(head: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  return [
    `| ${head.map(esc).join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

function section(t: TableModel | undefined, level = "##"): string[] {
  if (!t) return [];
  return [`${level} ${t.title}`, "", t.note, "", mdTable(t.head, t.rows), ""];
}

const VERDICT_MARK: Record<Finding["verdict"], string> = {
  reproduced: "reproduced",
  "not reproduced": "**not reproduced**",
  "not measurable": "not measurable",
};

/** One line describing the run (date, commit, host, duration, load). */
export function runLine(r: BenchResult): string {
  const g = r.run.git;
  const commit = g.commit
    ? `${g.commit.slice(0, 12)}${g.dirty ? " (with uncommitted changes)" : ""}`
    : "no git commit";
  const h = r.run.host;
  return `${r.run.startedAt.replace("T", " ").replace(/\.\d+Z$/, " UTC")}, commit ${commit}, ${h.cpus} x ${h.cpu}, Node ${h.node}, ${(r.run.durationSeconds / 60).toFixed(1)} minutes; 1-minute load average ${h.loadAverage.start[0]?.toFixed(1)} at the start, ${h.loadAverage.end[0]?.toFixed(1)} at the end`;
}

/** The sentences that say how the run was made. */
export function methodText(r: BenchResult): string[] {
  return [
    `Workloads (each runs with n and 2n operations; per-operation figures are (2n run - n run) / n, so boot and setup cancel out): ${r.workloads
      .map((w) => (w.n ? `${w.name} n=${w.n}` : w.name))
      .join(
        ", ",
      )}. ${r.run.options.repetitions} repetition(s) per hvkit-kernel cell, ${r.run.options.bootRepetitions} Linux boot(s) per strategy. Every cell's guest output was checked before its numbers counted (CHECK lines identical to ${BASELINE_STRATEGY}'s and DONE status=0; BOOT-OK, EXIT-STATUS=0 and the init script's output for Linux), and deterministic figures agreed across repetitions.`,
    `Cost profiles: ${r.profiles.map((p) => `${p.name} (${p.description})`).join("; ")}. Modeled cycles measure the technique; wall time measures this simulator. They are reported side by side, never mixed.`,
  ];
}

/** The findings table: one row per finding, one column per profile. */
export function findingsTable(r: BenchResult): TableModel {
  const profiles = r.run.options.profiles;
  const ids = [...new Set(r.findings.map((f) => f.id))];
  return {
    id: "findings",
    title: "Findings",
    note: "Qualitative findings of the literature, each computed from this run's modeled cycles per operation under each profile.",
    head: ["finding", ...profiles],
    rows: ids.map((id) => {
      const f = r.findings.find((x) => x.id === id)!;
      return [
        f.claim,
        ...profiles.map((p) => r.findings.find((x) => x.id === id && x.profile === p)!.verdict),
      ];
    }),
  };
}

/** The Markdown summary. */
export function markdownReport(r: BenchResult): string {
  const out: string[] = [];
  const profiles = r.run.options.profiles;
  const failed = failedCells(r);
  out.push(`# hvkit bench: ${r.run.matrix} matrix`, "", `${runLine(r)}.`, "");
  if (failed.length > 0) {
    out.push(`**${failed.length} cell(s) failed; their figures do not count:**`, "");
    for (const c of failed) out.push(`- ${c.strategy} / ${c.workload}: ${(c.error ?? "").split("\n")[0]}`);
    out.push("");
  }
  out.push(
    mdTable(
      ["strategy", "cpu", "memory", "guest"],
      r.strategies.map((s) => [s.name, s.techniques.cpu, s.techniques.memory, s.image]),
    ),
    "",
  );
  for (const line of methodText(r)) out.push(line, "");
  for (const n of r.run.notes) out.push(`> ${n}`, "");

  const ft = findingsTable(r);
  out.push(
    "## Findings",
    "",
    ft.note,
    "",
    mdTable(
      ft.head,
      ft.rows.map((row) => [row[0]!, ...row.slice(1).map((v) => VERDICT_MARK[v as Finding["verdict"]] ?? v)]),
    ),
    "",
  );
  for (const f of r.findings) {
    // A finding that cannot be measured says so once, not once per profile.
    if (f.verdict === "not measurable" && f.profile !== profiles[0]) continue;
    out.push(
      `- **${f.id}** (${f.verdict === "not measurable" ? "every profile" : f.profile}): ${f.verdict}. ${f.detail}. _Source: ${f.source}._`,
    );
  }
  out.push("");
  for (const p of profiles) out.push(...section(cyclesTable(r, p)));
  const paperProfile = profiles.includes("p4-2006") ? "p4-2006" : profiles[0]!;
  out.push(...section(nanoPaperTable(r, paperProfile)));
  out.push(...section(forkwaitTable(r, profiles, paperProfile)));
  out.push(...section(exitsTable(r)));
  out.push(...section(wallTable(r)));
  out.push(...section(bootTable(r)));
  const counters = counterTables(r);
  if (counters.length > 0) {
    out.push("## Strategy counters", "");
    for (const t of counters) {
      out.push(
        `<details><summary>${t.title}</summary>`,
        "",
        t.note,
        "",
        mdTable(t.head, t.rows),
        "",
        "</details>",
        "",
      );
    }
  }
  out.push(
    `Schema ${r.schema} version ${r.version}; the JSON beside this file holds every figure (\`pnpm bench:compare A.json B.json\` compares two runs).`,
    "",
  );
  return out.join("\n");
}
