/**
 * The nanobenchmark table of hvkit-kernel under a strategy (default:
 * emulation), in the shape of Adams & Agesen's figure 4:
 *
 *   node --conditions=@hvkit/source --import tsx packages/guests/scripts/nanobench.ts [--n 2000] [--json]
 *
 * Per operation it reports the guest's own counters (MEASURE lines:
 * rdinstret, and rdcycle, which counts hvkit steps) and modeled cycles under
 * each cost profile. vm.stats.cycles covers a whole run, so the modeled
 * figure per operation is a difference: (cycles of a run with 2n operations
 * - cycles with n) / n, which cancels boot, setup and printing. Every run's
 * CHECK lines must pass first.
 */
import { parseArgs } from "node:util";
import { COST_PROFILES, Vm } from "@hvkit/hypervisor";
// A path, not the package: see test/hvkit-kernel.test.ts on the dependency cycle.
import { emulation } from "../../strategies/emulation/src/index.js";
import { HVKIT_WORKLOADS, parseHvkitOutput } from "../src/index.js";
import { readHvkitImage } from "../src/node/index.js";

/** Adams & Agesen, ASPLOS 2006, figure 4: native / BT / VT cycles on a Pentium 4 672 (FACTS.md). */
const PAPER: Readonly<Record<string, { test: string; native: number; bt: number; vt: number }>> = {
  syscall: { test: "syscall", native: 242, bt: 2308, vt: 246 },
  "mmio-read": { test: "in", native: 3209, bt: 216, vt: 15826 },
  "csr-write": { test: "cr8wr", native: 150, bt: 35, vt: 177 },
  "call-ret": { test: "call/ret", native: 11, bt: 51, vt: 11 },
  pgfault: { test: "pgfault", native: 1093, bt: 3927, vt: 11242 },
  trap: { test: "divzero", native: 889, bt: 3223, vt: 1014 },
  ptemod: { test: "ptemod", native: 1, bt: 391, vt: 12733 },
};

interface Row {
  workload: string;
  paperTest: string;
  n: number;
  instretPerOp: number;
  stepsPerOp: number;
  modeled: Record<string, number>;
  paper: { native: number; bt: number; vt: number } | undefined;
}

function runOnce(workload: string, n: number, profile: string) {
  const vm = Vm.create(emulation, {
    kernel: readHvkitImage("hvkit-kernel.elf"),
    cmdline: `workload=${workload} n=${n}`,
    memory: 128 * 1024 * 1024,
    costProfile: profile,
  });
  let output = "";
  const decoder = new TextDecoder();
  vm.onOutput((b) => {
    output += decoder.decode(b, { stream: true });
  });
  const result = vm.run({ steps: 2_000_000_000 });
  const parsed = parseHvkitOutput(output);
  if (result.stop !== "poweroff" || result.exitStatus !== 0 || !parsed.checks.every((c) => c.ok)) {
    throw new Error(`workload=${workload} n=${n} failed (${JSON.stringify(result)}):\n${output}`);
  }
  return { parsed, cycles: vm.stats.cycles.total };
}

/** One row per workload: guest counters per op and modeled cycles per op by profile. */
export function nanobenchTable(n: number, workloads: readonly string[]): Row[] {
  const profiles = Object.keys(COST_PROFILES);
  return workloads.map((workload) => {
    const modeled: Record<string, number> = {};
    let measure: ReturnType<typeof parseHvkitOutput>["measures"][number] | undefined;
    for (const profile of profiles) {
      const one = runOnce(workload, n, profile);
      const two = runOnce(workload, 2 * n, profile);
      modeled[profile] = (two.cycles - one.cycles) / n;
      // The first MEASURE line of the 2n run (pgfault: the demand-zero one).
      measure ??= two.parsed.measures.find((m) => m.workload === workload);
    }
    if (!measure) throw new Error(`no MEASURE line for ${workload}`);
    return {
      workload,
      paperTest: PAPER[workload]?.test ?? "",
      n: measure.n,
      instretPerOp: measure.instretPerOp,
      stepsPerOp: measure.cyclesPerOp,
      modeled,
      paper: PAPER[workload],
    };
  });
}

function markdown(rows: readonly Row[]): string {
  const profiles = Object.keys(rows[0]?.modeled ?? {});
  const head = [
    "workload",
    "paper test",
    "instructions/op",
    "rdcycle (steps)/op",
    ...profiles.map((p) => `modeled cycles/op (${p})`),
    "paper native / BT / VT cycles",
  ];
  const lines = [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`];
  for (const r of rows) {
    lines.push(
      `| ${[
        r.workload,
        r.paperTest,
        r.instretPerOp.toFixed(1),
        r.stepsPerOp.toFixed(1),
        ...profiles.map((p) => r.modeled[p]!.toFixed(1)),
        r.paper ? `${r.paper.native} / ${r.paper.bt} / ${r.paper.vt}` : "",
      ].join(" | ")} |`,
    );
  }
  return lines.join("\n");
}

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "2000" },
    json: { type: "boolean" },
  },
});
const n = Number(values.n);
const names = HVKIT_WORKLOADS.filter((w) => w.kind === "nano").map((w) => w.name);
const rows = nanobenchTable(n, names);
console.log(values.json ? JSON.stringify(rows, null, 2) : markdown(rows));
