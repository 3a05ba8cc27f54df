/**
 * The report's charts, rendered to SVG strings with ECharts' server-side
 * renderer (`ssr: true`, `renderToSVGString`): the HTML embeds them inline,
 * so the page needs no scripts and no network. Each chart is a plain bar
 * chart; strategies keep one colour across every chart, and the paper's
 * figures are greys.
 */
import * as echarts from "echarts";
import { ADAMS_AGESEN_NANO } from "../paper.js";
import type { BenchResult } from "../schema.js";
import {
  BOOT_WORKLOAD,
  cellOf,
  cycles,
  exits,
  forkwaitRows,
  others,
  overhead,
  qemuMips,
  wallOverhead,
  workloadOrder,
} from "./views.js";

/** One rendered chart. */
export interface Chart {
  /** Stable id (also the figure's HTML id). */
  id: string;
  title: string;
  /** What the chart shows and how to read it. */
  caption: string;
  svg: string;
}

/** Strategy colours (Okabe-Ito, readable by colour-blind readers), in registration order. */
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"];
/** The paper's native / BT / VT series. */
const PAPER_GREYS = ["#BBBBBB", "#888888", "#444444"];
/** QEMU's bar. */
const QEMU_COLOUR = "#7F7F7F";

const WIDTH = 1080;

function colourOf(r: BenchResult, strategy: string): string {
  const i = r.strategies.findIndex((s) => s.name === strategy);
  return PALETTE[i % PALETTE.length]!;
}

function render(option: echarts.EChartsCoreOption, height: number): string {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width: WIDTH, height });
  chart.setOption({ animation: false, textStyle: { fontFamily: "sans-serif" }, ...option });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

/** Log axes cannot show 0 or negatives: those become gaps. */
const positive = (x: number | undefined) => (x !== undefined && Number.isFinite(x) && x > 0 ? x : null);

/**
 * A log axis's lower bound: 1 (bars grow from 1 on a log axis), or the power
 * of ten below the smallest value when some are smaller (exits per op).
 */
function logMin(values: (number | null)[]): number {
  const v = values.filter((x): x is number => x !== null);
  if (v.length === 0) return 1;
  return Math.min(1, 10 ** Math.floor(Math.log10(Math.min(...v))));
}

const LEGEND = { top: 0, type: "plain", itemGap: 22, itemWidth: 16, textStyle: { fontSize: 12 } } as const;

function groupedBars(
  categories: string[],
  series: { name: string; colour: string; data: (number | null)[] }[],
  yName: string,
  log: boolean,
  height = 420,
): string {
  return render(
    {
      legend: LEGEND,
      grid: { left: 80, right: 20, top: 30 + 22 * Math.ceil(series.length / 5), bottom: 70 },
      xAxis: {
        type: "category",
        data: categories,
        axisLabel: { interval: 0, rotate: categories.length > 8 ? 30 : 0 },
      },
      yAxis: {
        type: log ? "log" : "value",
        name: yName,
        nameLocation: "middle",
        nameGap: 52,
        ...(log ? { logBase: 10, min: logMin(series.flatMap((s) => s.data)) } : {}),
      },
      series: series.map((s) => ({
        type: "bar",
        name: s.name,
        data: s.data,
        itemStyle: { color: s.colour },
        barMaxWidth: 28,
        // A value of exactly 1 on a log axis (ptemod natively) still shows as a stub.
        barMinHeight: 2,
      })),
    },
    height,
  );
}

function horizontalBars(
  rows: { label: string; value: number | undefined; colour: string }[],
  xName: string,
  digits: number,
): string {
  const shown = rows.filter((r) => r.value !== undefined && Number.isFinite(r.value));
  // Server-side rendering has no font metrics to fit the labels: about 7 px per character at 12 px.
  const left = 24 + 7 * Math.max(10, ...shown.map((r) => r.label.length));
  return render(
    {
      grid: { left, right: 70, top: 10, bottom: 50 },
      xAxis: { type: "value", name: xName, nameLocation: "middle", nameGap: 30 },
      yAxis: { type: "category", data: shown.map((r) => r.label), inverse: true },
      series: [
        {
          type: "bar",
          data: shown.map((r) => ({ value: r.value, itemStyle: { color: r.colour } })),
          label: {
            show: true,
            position: "right",
            formatter: (p: { value: number }) => p.value.toFixed(digits),
          },
          barMaxWidth: 26,
        },
      ],
    },
    40 + 60 + 34 * shown.length,
  );
}

/** Every chart the data supports (a chart with nothing to show is left out). */
export function buildCharts(r: BenchResult): Chart[] {
  const charts: Chart[] = [];
  const profiles = r.run.options.profiles;
  const workloads = workloadOrder(r);
  const virt = others(r);
  const paperProfile = profiles.includes("p4-2006") ? "p4-2006" : profiles[0]!;

  if (virt.length > 0) {
    for (const p of profiles) {
      charts.push({
        id: `overhead-${p}`,
        title: `Overhead relative to emulation, modeled cycles (${p})`,
        caption: `Modeled cycles per operation (2n-n; ${BOOT_WORKLOAD}: the whole boot) of each strategy divided by emulation's, under the ${p} cost profile. 1 = as fast as the baseline; log scale.`,
        svg: groupedBars(
          workloads,
          virt.map((s) => ({
            name: s,
            colour: colourOf(r, s),
            data: workloads.map((w) => positive(overhead(r, s, w, p))),
          })),
          "x emulation (log)",
          true,
        ),
      });
    }
    charts.push({
      id: "exits-per-op",
      title: "Exits to the VMM per operation",
      caption: `VM exits (traps into the VMM, callouts, hypercalls) per operation by the 2n-n method; ${BOOT_WORKLOAD}: per boot. Emulation has none beyond SBI calls; log scale, so zero is a gap.`,
      svg: groupedBars(
        workloads,
        r.strategies.map((s) => ({
          name: s.name,
          colour: colourOf(r, s.name),
          data: workloads.map((w) => positive(exits(r, s.name, w))),
        })),
        "exits per op (log)",
        true,
      ),
    });
    charts.push({
      id: "wall-overhead",
      title: "Simulator wall time relative to emulation",
      caption:
        "Median seconds inside vm.run of each cell divided by emulation's: what the technique costs this simulator in JavaScript, not what it would cost on hardware. Read beside the modeled cycles, never instead of them.",
      svg: groupedBars(
        workloads,
        virt.map((s) => ({
          name: s,
          colour: colourOf(r, s),
          data: workloads.map((w) => positive(wallOverhead(r, s, w))),
        })),
        "x emulation wall time (log)",
        true,
      ),
    });
  }

  const nano = ADAMS_AGESEN_NANO.filter((p) => workloads.includes(p.workload));
  if (nano.length > 0) {
    charts.push({
      id: "nano-vs-paper",
      title: `Nanobenchmarks beside Adams & Agesen, figure 4 (${paperProfile})`,
      caption: `Cycles per operation: the paper's Pentium 4 measurements (greys: native, BT, VT) and hvkit's modeled cycles under the ${paperProfile} profile (colours), per test. Log scale.`,
      svg: groupedBars(
        nano.map((p) => `${p.test} (${p.workload})`),
        [
          { name: "paper native", colour: PAPER_GREYS[0]!, data: nano.map((p) => p.native) },
          { name: "paper BT", colour: PAPER_GREYS[1]!, data: nano.map((p) => p.bt) },
          { name: "paper VT", colour: PAPER_GREYS[2]!, data: nano.map((p) => p.vt) },
          ...r.strategies.map((s) => ({
            name: s.name,
            colour: colourOf(r, s.name),
            data: nano.map((p) => positive(cycles(r, s.name, p.workload, paperProfile))),
          })),
        ],
        "cycles per op (log)",
        true,
        460,
      ),
    });
  }

  if (workloads.includes("forkwait") && virt.length > 0) {
    const rows: { label: string; value: number | undefined; colour: string }[] = [];
    const fw = forkwaitRows(r, paperProfile);
    fw.paper.forEach((p, i) => {
      rows.push({ label: `paper ${p.label}`, value: p.ratio, colour: PAPER_GREYS[1 + (i % 2)]! });
    });
    for (const p of profiles) {
      for (const h of forkwaitRows(r, p).hvkit) {
        rows.push({ label: `hvkit ${h.strategy} (${p})`, value: h.ratio, colour: colourOf(r, h.strategy) });
      }
    }
    charts.push({
      id: "forkwait-vs-paper",
      title: "forkwait beside the paper's macrobenchmark",
      caption:
        "Slowdown relative to native: the paper's 40,000 fork/wait pairs (seconds, Pentium 4 and Core 2) and hvkit's modeled cycles per fork/exit/wait relative to emulation, per profile.",
      svg: horizontalBars(rows, "x native", 1),
    });
    const cats = new Set<string>();
    for (const s of r.strategies) {
      const c = cellOf(r, s.name, "forkwait");
      for (const [k, v] of Object.entries(c?.perOp?.cycles[paperProfile]?.byCategory ?? {}))
        if (v > 0) cats.add(k);
    }
    if (cats.size > 0) {
      const names = r.strategies.map((s) => s.name);
      charts.push({
        id: "forkwait-breakdown",
        title: `Where a fork/exit/wait's modeled cycles go (${paperProfile})`,
        caption: `Modeled cycles per fork/exit/wait by cost category under ${paperProfile}: guest instructions, traps, VM exits and entries, emulation, shadow syncs, ...`,
        svg: render(
          {
            legend: LEGEND,
            grid: { left: 190, right: 30, top: 30 + 22 * Math.ceil(cats.size / 5), bottom: 40 },
            xAxis: { type: "value", name: "cycles per op", nameLocation: "middle", nameGap: 26 },
            yAxis: { type: "category", data: names, inverse: true },
            series: [...cats].map((k) => ({
              type: "bar",
              name: k,
              stack: "total",
              data: names.map(
                (s) => cellOf(r, s, "forkwait")?.perOp?.cycles[paperProfile]?.byCategory[k] ?? 0,
              ),
            })),
          },
          60 + 22 * Math.ceil(cats.size / 5) + 40 * names.length,
        ),
      });
    }
  }

  const boots = r.cells.filter((c) => c.kind === "boot" && c.status === "ok" && c.boot);
  if (boots.length > 0) {
    const rows = boots.map((c) => ({
      label: `hvkit ${c.strategy}`,
      value: c.boot!.bootOkSeconds.median,
      colour: colourOf(r, c.strategy),
    }));
    if (r.qemu.tcg)
      rows.unshift({ label: "QEMU TCG", value: r.qemu.tcg.bootOkSeconds.median, colour: QEMU_COLOUR });
    charts.push({
      id: "boot-time",
      title: "Debian Linux boot: seconds to BOOT-OK",
      caption: `Wall-clock seconds from start (Vm.create / QEMU's spawn) until the init script printed BOOT-OK, median of ${r.run.options.bootRepetitions} boot(s) each${r.qemu.tcg ? ", QEMU measured in the same run" : "; QEMU was not measured"}.`,
      svg: horizontalBars(rows, "seconds", 1),
    });
    const mips = boots.map((c) => ({
      label: `hvkit ${c.strategy}`,
      value: c.wall?.mips.median,
      colour: colourOf(r, c.strategy),
    }));
    const q = qemuMips(r);
    if (q !== undefined) mips.unshift({ label: "QEMU TCG", value: q, colour: QEMU_COLOUR });
    charts.push({
      id: "boot-mips",
      title: "Debian Linux boot: guest MIPS",
      caption:
        "Guest instructions per second of the boot, in millions: hvkit's to power-off over its time in vm.run; QEMU's -icount count at BOOT-OK over the plain TCG run's time to BOOT-OK.",
      svg: horizontalBars(mips, "million guest instructions per second", 0),
    });
  }
  return charts;
}
