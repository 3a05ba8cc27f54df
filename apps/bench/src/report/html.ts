/**
 * The HTML report: one self-contained file (inline CSS and inline SVG charts,
 * no scripts, no fonts or images from elsewhere) that opens offline in any
 * browser. Charts first, findings beside them, the tables behind them after.
 */
import type { BenchResult, Finding } from "../schema.js";
import { buildCharts, type Chart } from "./charts.js";
import { findingsTable, methodText, runLine } from "./markdown.js";
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
import { failedCells } from "./views.js";

/** Escape text for HTML element content and attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Inline `code` spans of the notes become <code>. */
function prose(s: string): string {
  return esc(s).replace(/`([^`]+)`/g, "<code>$1</code>");
}

function table(t: TableModel | undefined, cls = ""): string {
  if (!t) return "";
  const cell = (v: string, i: number) => {
    const failed = v === "FAILED" ? ' class="failed"' : "";
    return i === 0 ? `<th scope="row">${esc(v)}</th>` : `<td${failed}>${esc(v)}</td>`;
  };
  return `<section id="${esc(t.id)}" class="table ${cls}">
<h3>${esc(t.title)}</h3>
<p class="note">${prose(t.note)}</p>
<div class="scroll"><table>
<thead><tr>${t.head.map((h) => `<th scope="col">${esc(h)}</th>`).join("")}</tr></thead>
<tbody>${t.rows.map((r) => `<tr>${r.map(cell).join("")}</tr>`).join("\n")}</tbody>
</table></div>
</section>`;
}

function figure(c: Chart): string {
  return `<figure id="${esc(c.id)}" class="chart" data-chart="${esc(c.id)}">
<figcaption><strong>${esc(c.title)}</strong><br>${esc(c.caption)}</figcaption>
${c.svg}
</figure>`;
}

const BADGE: Record<Finding["verdict"], string> = {
  reproduced: "ok",
  "not reproduced": "no",
  "not measurable": "na",
};

function findings(r: BenchResult): string {
  const profiles = r.run.options.profiles;
  const ft = findingsTable(r);
  const ids = [...new Set(r.findings.map((f) => f.id))];
  const rows = ids.map((id) => {
    const first = r.findings.find((f) => f.id === id)!;
    const cells = profiles.map((p) => {
      const f = r.findings.find((x) => x.id === id && x.profile === p)!;
      return `<td><span class="badge ${BADGE[f.verdict]}">${esc(f.verdict)}</span><div class="detail">${esc(f.detail)}</div></td>`;
    });
    return `<tr><th scope="row">${esc(first.claim)}<div class="source">${esc(first.source)}</div></th>${cells.join("")}</tr>`;
  });
  return `<section id="findings">
<h2>Findings</h2>
<p class="note">${esc(ft.note)} Verdicts are computed, never written in advance: "not measurable" means a strategy the finding needs is not registered (or its cell failed).</p>
<div class="scroll"><table class="findings">
<thead><tr><th scope="col">finding</th>${profiles.map((p) => `<th scope="col">${esc(p)}</th>`).join("")}</tr></thead>
<tbody>${rows.join("\n")}</tbody>
</table></div>
</section>`;
}

const CSS = `
:root { color-scheme: light; --fg: #1d1d1f; --muted: #5f6368; --line: #d9dce1; --ok: #1b7f3b; --no: #b3261e; --na: #6b6b6b; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0; background: #fafafa; }
main { max-width: 1180px; margin: 0 auto; padding: 24px; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { margin: 36px 0 8px; font-size: 21px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { margin: 20px 0 4px; font-size: 16px; }
.meta, .note, figcaption { color: var(--muted); }
.note { margin: 4px 0 8px; }
code { font: 13px ui-monospace, monospace; background: #eef0f3; padding: 1px 4px; border-radius: 3px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 150px; }
.card b { display: block; font-size: 22px; }
.alert { background: #fdecea; border: 1px solid #f5c2c0; border-radius: 8px; padding: 10px 14px; }
.charts { display: grid; grid-template-columns: 1fr; gap: 18px; }
figure.chart { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
figure.chart svg { display: block; max-width: 100%; height: auto; margin-top: 8px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; background: #fff; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: right; vertical-align: top; }
thead th { background: #f1f3f5; text-align: center; }
tbody th { text-align: left; font-weight: 600; }
td.failed { color: var(--no); font-weight: 700; }
table.findings td, table.findings th { text-align: left; max-width: 420px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; }
.badge.ok { background: var(--ok); } .badge.no { background: var(--no); } .badge.na { background: var(--na); }
.detail, .source { font-weight: 400; font-size: 12px; color: var(--muted); margin-top: 4px; }
details { margin: 8px 0; }
footer { margin: 40px 0 10px; color: var(--muted); font-size: 12px; }
`;

/** The whole page. */
export function htmlReport(r: BenchResult): string {
  const profiles = r.run.options.profiles;
  const paperProfile = profiles.includes("p4-2006") ? "p4-2006" : profiles[0]!;
  const charts = buildCharts(r);
  const failed = failedCells(r);
  const count = (v: Finding["verdict"]) => r.findings.filter((f) => f.verdict === v).length;
  const boot = r.cells.find((c) => c.kind === "boot" && c.strategy === "emulation" && c.boot);
  const cards = [
    [`${r.strategies.length}`, "strategies"],
    [`${r.workloads.length}`, "workloads"],
    [`${r.cells.length - failed.length} / ${r.cells.length}`, "cells passed their checks"],
    [
      `${count("reproduced")} / ${count("not reproduced")} / ${count("not measurable")}`,
      "findings reproduced / not / not measurable",
    ],
    [`${(r.run.durationSeconds / 60).toFixed(1)} min`, "run time"],
    ...(boot?.boot
      ? [[`${boot.boot.bootOkSeconds.median.toFixed(1)} s`, "Linux to BOOT-OK (emulation)"]]
      : []),
  ];
  const chartsById = (prefix: string) =>
    charts
      .filter((c) => c.id.startsWith(prefix))
      .map(figure)
      .join("\n");
  const body = `<main>
<header>
<h1>hvkit bench: ${esc(r.run.matrix)} matrix</h1>
<p class="meta">${esc(runLine(r))}</p>
<div class="cards">${cards.map(([v, l]) => `<div class="card"><b>${esc(v!)}</b>${esc(l!)}</div>`).join("")}</div>
${
  failed.length > 0
    ? `<div class="alert"><strong>${failed.length} cell(s) failed; their figures do not count.</strong><ul>${failed
        .map((c) => `<li>${esc(`${c.strategy} / ${c.workload}: ${(c.error ?? "").split("\n")[0]}`)}</li>`)
        .join("")}</ul></div>`
    : ""
}
${r.run.notes.map((n) => `<p class="note">Note: ${prose(n)}</p>`).join("\n")}
</header>
${findings(r)}
<section id="overhead"><h2>Overhead relative to emulation</h2>
<div class="charts">${chartsById("overhead-")}</div></section>
<section id="paper"><h2>Beside Adams &amp; Agesen (ASPLOS 2006)</h2>
<div class="charts">${chartsById("nano-vs-paper")}</div>
${table(nanoPaperTable(r, paperProfile))}
<div class="charts">${chartsById("forkwait-")}</div>
${table(forkwaitTable(r, profiles, paperProfile))}
</section>
<section id="exits"><h2>Exits</h2><div class="charts">${chartsById("exits-per-op")}</div>${table(exitsTable(r))}</section>
<section id="linux"><h2>Debian Linux boot</h2><div class="charts">${chartsById("boot-")}</div>${table(bootTable(r))}</section>
<section id="tables"><h2>Modeled cycles and wall time</h2>
${profiles.map((p) => table(cyclesTable(r, p))).join("\n")}
<div class="charts">${chartsById("wall-overhead")}</div>
${table(wallTable(r))}
</section>
<section id="counters"><h2>Strategy counters</h2>
${counterTables(r)
  .map((t) => `<details><summary>${esc(t.title)}</summary>${table(t)}</details>`)
  .join("\n")}
</section>
<section id="method"><h2>Method</h2>${methodText(r)
    .map((t) => `<p>${prose(t)}</p>`)
    .join("\n")}
<ul>${r.profiles.map((p) => `<li><strong>${esc(p.name)}</strong>: ${esc(p.description)}<ul>${p.sources.map((s) => `<li>${esc(s)}</li>`).join("")}</ul></li>`).join("")}</ul>
</section>
<footer>Schema ${esc(r.schema)} version ${r.version}. Charts rendered ahead of time with Apache ECharts (SVG); this page loads nothing from the network and runs no scripts.</footer>
</main>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>hvkit bench: ${esc(r.run.matrix)} matrix, ${esc(r.run.startedAt.slice(0, 10))}</title>
<style>${CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
