/**
 * The nanobenchmark table under paravirt (hvkit-kernel-pv.elf), with ptemod
 * batched (pvbatch=1, the default: the PTE write rides on the flush's
 * hypercall) and unbatched (pvbatch=0: one hypercall for the write, one for
 * the flush), next to the native build under emulation and under
 * trap-and-emulate (the software VMM without paravirtualization):
 *
 *   node --conditions=@hvkit/source --import tsx packages/strategies/paravirt/scripts/nanobench.ts [--n 2000] [--json]
 *
 * Per operation: the guest's own MEASURE figures (instructions, steps) and,
 * as the guest suite's nanobench does, modeled cycles per profile as
 * (cycles of a run with 2n operations - cycles with n) / n, and the same
 * difference for exits and hypercalls. Every run's CHECK lines must pass.
 */
import { parseArgs } from "node:util";
import { emulation } from "@hvkit/emulation";
import { parseHvkitOutput } from "@hvkit/guests";
import { readHvkitImage } from "@hvkit/guests/node";
import { type StrategyDefinition, Vm } from "@hvkit/hypervisor";
import { trapAndEmulateSfence } from "@hvkit/trap-and-emulate";
import { paravirt } from "../src/index.js";

const PROFILES = ["p4-2006", "modern"] as const;
const ROWS: readonly { label: string; workload: string; extra: string }[] = [
  { label: "syscall", workload: "syscall", extra: "" },
  { label: "mmio-read", workload: "mmio-read", extra: "" },
  { label: "csr-write", workload: "csr-write", extra: "" },
  { label: "call-ret", workload: "call-ret", extra: "" },
  { label: "pgfault", workload: "pgfault", extra: "" },
  { label: "trap", workload: "trap", extra: "" },
  { label: "ptemod (batched)", workload: "ptemod", extra: " pvbatch=1" },
  { label: "ptemod (unbatched)", workload: "ptemod", extra: " pvbatch=0" },
];

interface Run {
  instret: number;
  steps: number;
  cycles: Record<string, number>;
  exits: number;
  hypercalls: number;
}

function runOnce(strategy: StrategyDefinition, pv: boolean, workload: string, extra: string, n: number): Run {
  const cycles: Record<string, number> = {};
  let first: Omit<Run, "cycles"> | undefined;
  for (const profile of PROFILES) {
    const cmdline = `workload=${workload} n=${n}${extra}`;
    const vm = Vm.create(strategy, {
      kernel: readHvkitImage(pv ? "hvkit-kernel-pv.elf" : "hvkit-kernel.elf"),
      cmdline,
      memory: 128 * 1024 * 1024,
      costProfile: profile,
    });
    let output = "";
    const decoder = new TextDecoder();
    vm.onOutput((b) => {
      output += decoder.decode(b, { stream: true });
    });
    const result = vm.run({ steps: 4_000_000_000 });
    const parsed = parseHvkitOutput(output);
    if (result.stop !== "poweroff" || result.exitStatus !== 0 || !parsed.checks.every((c) => c.ok))
      throw new Error(`${strategy.name}: ${cmdline} failed (${JSON.stringify(result)}):\n${output}`);
    const s = vm.stats;
    cycles[profile] = s.cycles.total;
    const m = parsed.measures.find((x) => x.workload === workload);
    first ??= {
      instret: m?.instretPerOp ?? Number.NaN,
      steps: m?.cyclesPerOp ?? Number.NaN,
      exits: s.exits.total,
      hypercalls: s.hypercalls.total,
    };
  }
  return { ...first!, cycles };
}

function perOp(strategy: StrategyDefinition, pv: boolean, workload: string, extra: string, n: number) {
  const a = runOnce(strategy, pv, workload, extra, n);
  const b = runOnce(strategy, pv, workload, extra, 2 * n);
  const d = (x: number, y: number) => (y - x) / n;
  return {
    instret: b.instret,
    steps: b.steps,
    exits: d(a.exits, b.exits),
    hypercalls: d(a.hypercalls, b.hypercalls),
    cycles: Object.fromEntries(PROFILES.map((p) => [p, d(a.cycles[p]!, b.cycles[p]!)])),
  };
}

const { values } = parseArgs({
  options: { n: { type: "string", default: "2000" }, json: { type: "boolean" } },
});
const n = Number(values.n);
const rows = ROWS.map((r) => ({
  ...r,
  pv: perOp(paravirt, true, r.workload, r.extra, n),
  emu: perOp(emulation, false, r.workload, "", n),
  te: perOp(trapAndEmulateSfence, false, r.workload, "", n),
}));
if (values.json) {
  console.log(JSON.stringify({ n, rows }, null, 2));
} else {
  const f = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));
  console.log(
    "| workload | PV instructions/op | PV steps/op | PV exits/op | PV hypercalls/op | PV cycles/op p4-2006 | PV cycles/op modern | emulation (native build) p4-2006 | trap-and-emulate (native build) p4-2006 | trap-and-emulate modern |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const r of rows) {
    console.log(
      `| ${r.label} | ${f(r.pv.instret)} | ${f(r.pv.steps)} | ${f(r.pv.exits)} | ${f(r.pv.hypercalls)} | ${f(r.pv.cycles["p4-2006"]!)} | ${f(r.pv.cycles.modern!)} | ${f(r.emu.cycles["p4-2006"]!)} | ${f(r.te.cycles["p4-2006"]!)} | ${f(r.te.cycles.modern!)} |`,
    );
  }
}
