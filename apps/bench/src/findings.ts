/**
 * The qualitative findings of the literature, computed from a run: each is
 * reproduced, not reproduced, or not measurable (a strategy it needs is not
 * registered, or its cell failed). Nothing here knows the answer in advance:
 * every verdict is a comparison of modeled cycles per operation (2n-n) under
 * one cost profile, and the detail says which numbers decided it.
 *
 * Strategies are found by what they compose (their techniques), not by name,
 * so a strategy registered later takes its role without a change here.
 */
import {
  ADAMS_AGESEN_FORKWAIT,
  ADAMS_AGESEN_SOURCE,
  BARHAM_FORK_US,
  paperNano,
  XEN_MMU_UPDATE_BATCH,
} from "./paper.js";
import type { BenchResult, Finding } from "./schema.js";
import { BASELINE_STRATEGY } from "./strategies.js";

/** The parts a finding can need. */
export type Role = "baseline" | "bt" | "hwShadow" | "hwNested" | "hw" | "pv" | "virtualizing";

/** How each role is recognised from a strategy's techniques. */
export const ROLE_NAMES: Readonly<Record<Role, string>> = {
  baseline: "emulation (the baseline, 'native')",
  bt: "binary translation",
  hwShadow: "hardware-assisted with shadow paging (first-generation VT-x)",
  hwNested: "hardware-assisted with nested paging",
  hw: "hardware-assisted (shadow paging preferred, as in the paper)",
  pv: "paravirtualization",
  virtualizing: "any strategy other than the baseline",
};

type StrategyInfo = BenchResult["strategies"][number];

/** The strategy playing each role in a result (first registered wins). */
export function assignRoles(result: BenchResult): Partial<Record<Exclude<Role, "virtualizing">, string>> {
  const find = (pred: (s: StrategyInfo) => boolean) => result.strategies.find(pred)?.name;
  const cpu = (s: StrategyInfo) => s.techniques.cpu;
  const hwShadow = find((s) => cpu(s) === "hardware-assisted" && s.techniques.memory === "shadow-paging");
  const hwNested = find((s) => cpu(s) === "hardware-assisted" && s.techniques.memory === "nested-paging");
  const out: Partial<Record<Exclude<Role, "virtualizing">, string>> = {};
  const set = (role: Exclude<Role, "virtualizing">, name: string | undefined) => {
    if (name) out[role] = name;
  };
  set("baseline", find((s) => s.name === BASELINE_STRATEGY) ?? find((s) => cpu(s) === "emulation"));
  set(
    "bt",
    find((s) => cpu(s) === "binary-translation"),
  );
  set("hwShadow", hwShadow);
  set("hwNested", hwNested);
  set("hw", hwShadow ?? hwNested ?? find((s) => cpu(s) === "hardware-assisted"));
  set(
    "pv",
    find((s) => cpu(s) === "paravirt"),
  );
  return out;
}

/** Modeled cycles per operation of one cell under one profile, if the cell ran and passed. */
export function cyclesPerOp(result: BenchResult, strategy: string, workload: string, profile: string) {
  const cell = result.cells.find((c) => c.strategy === strategy && c.workload === workload);
  if (cell?.status !== "ok") return undefined;
  if (cell.perOp) return cell.perOp.cycles[profile]?.total;
  return cell.runs[0]?.cycles[profile]?.total;
}

class NotMeasurable extends Error {}

const fmt = (x: number) =>
  x >= 100 ? Math.round(x).toLocaleString("en-US") : x >= 10 ? x.toFixed(1) : x.toFixed(2);

interface Ctx {
  /** Cycles per op of the strategy in `role` on `workload`; throws NotMeasurable when missing. */
  v(role: Exclude<Role, "virtualizing">, workload: string): number;
  /** Cycles per op of a strategy by name. */
  byName(strategy: string, workload: string): number;
  roles: Partial<Record<Exclude<Role, "virtualizing">, string>>;
  virtualizing: string[];
  /** The memory-virtualization technique of a strategy by name. */
  memory(strategy: string): string | undefined;
}

interface FindingDef {
  id: string;
  claim: string;
  source: string;
  needs: Role[];
  evaluate(c: Ctx): { ok: boolean; detail: string };
}

function pair(c: Ctx, a: Exclude<Role, "virtualizing">, b: Exclude<Role, "virtualizing">, w: string) {
  const x = c.v(a, w);
  const y = c.v(b, w);
  return { x, y, text: `${w}: ${c.roles[a]} ${fmt(x)} vs ${c.roles[b]} ${fmt(y)} cycles/op` };
}

function paperPair(w: string): string {
  const p = paperNano(w);
  return p ? ` (paper ${p.test}: VT ${p.vt} vs BT ${p.bt})` : "";
}

const FW = ADAMS_AGESEN_FORKWAIT.pentium4;

/** The findings, in the order the report lists them. */
export const FINDINGS: readonly FindingDef[] = [
  {
    id: "hw1-loses-to-bt-on-mmu",
    claim:
      "First-generation hardware assistance (no MMU virtualization: shadow paging) loses to binary translation on ptemod, pgfault and forkwait",
    source: `${ADAMS_AGESEN_SOURCE}: ptemod 12,733 vs 391, pgfault 11,242 vs 3,927 cycles; forkwait ${FW.vt} s vs ${FW.bt} s`,
    needs: ["hwShadow", "bt"],
    evaluate(c) {
      const rows = ["ptemod", "pgfault", "forkwait"].map((w) => pair(c, "hwShadow", "bt", w));
      return {
        ok: rows.every((r) => r.x > r.y),
        detail: rows
          .map((r) => `${r.text} (${r.x > r.y ? "hardware slower" : "hardware not slower"})`)
          .join("; "),
      };
    },
  },
  {
    id: "hw-syscall-near-native",
    claim:
      "Hardware assistance runs system calls without the VMM (near native); binary translation pays for them",
    source: `${ADAMS_AGESEN_SOURCE}: syscall native 242, VT 246, BT 2,308 cycles`,
    needs: ["hw", "bt", "baseline"],
    evaluate(c) {
      const r = pair(c, "hw", "bt", "syscall");
      const native = c.v("baseline", "syscall");
      return {
        ok: r.x < r.y,
        detail: `${r.text}; baseline ${fmt(native)} (hardware ${fmt(r.x / native)}x, BT ${fmt(r.y / native)}x the baseline)`,
      };
    },
  },
  {
    id: "bt-wins-on-device-and-control-register",
    claim:
      "Binary translation beats hardware assistance on device-register reads and privileged control-register writes (emulated in the translation cache instead of exiting)",
    source: `${ADAMS_AGESEN_SOURCE}: in BT 216 vs VT 15,826; cr8wr BT 35 vs VT 177 cycles`,
    needs: ["bt", "hw"],
    evaluate(c) {
      const rows = ["mmio-read", "csr-write"].map((w) => ({ w, ...pair(c, "bt", "hw", w) }));
      return {
        ok: rows.every((r) => r.x < r.y),
        detail: rows.map((r) => `${r.text}${paperPair(r.w)}`).join("; "),
      };
    },
  },
  {
    id: "nested-paging-beats-shadow-paging",
    claim:
      "The MMU was first-generation hardware's main cost: with nested paging, hardware assistance beats itself with shadow paging on ptemod, pgfault and forkwait",
    source: `${ADAMS_AGESEN_SOURCE}: "missing MMU virtualization was the main cause" of VT-x losing to BT`,
    needs: ["hwNested", "hwShadow"],
    evaluate(c) {
      const rows = ["ptemod", "pgfault", "forkwait"].map((w) => pair(c, "hwNested", "hwShadow", w));
      return { ok: rows.every((r) => r.x < r.y), detail: rows.map((r) => r.text).join("; ") };
    },
  },
  {
    id: "nested-paging-closes-the-gap",
    claim:
      "Nested paging closes the gap to binary translation: hardware assistance with nested paging is no slower than BT on forkwait",
    source: `${ADAMS_AGESEN_SOURCE}: forkwait VT ${FW.vt} s vs BT ${FW.bt} s without nested paging (Core 2: ${ADAMS_AGESEN_FORKWAIT.core2.vt} s vs ${ADAMS_AGESEN_FORKWAIT.core2.bt} s)`,
    needs: ["hwNested", "bt"],
    evaluate(c) {
      const fork = pair(c, "hwNested", "bt", "forkwait");
      return { ok: fork.x <= fork.y, detail: fork.text };
    },
  },
  {
    id: "pv-batching-wins-on-ptemod",
    claim:
      "Paravirtual page-table updates (validated and batched by hypercall) make ptemod cheapest among the strategies that keep shadow page tables (the software VMMs Xen was compared with, and first-generation hardware)",
    source: `Barham et al., SOSP 2003: one page-table-update hypercall batches up to ${XEN_MMU_UPDATE_BATCH} updates`,
    needs: ["pv", "virtualizing"],
    evaluate(c) {
      const pv = c.v("pv", "ptemod");
      const measured = (names: string[]) =>
        names.flatMap((s) => {
          try {
            return [{ s, x: c.byName(s, "ptemod") }];
          } catch {
            return [];
          }
        });
      const others = c.virtualizing.filter((s) => s !== c.roles.pv);
      const shadow = measured(others.filter((s) => c.memory(s) === "shadow-paging"));
      if (shadow.length === 0) throw new NotMeasurable("no shadow-paging strategy ran ptemod");
      // Nested paging postdates the claim: a guest's PTE write there costs no VMM entry at all.
      const nested = measured(others.filter((s) => c.memory(s) === "nested-paging"));
      const list = (l: { s: string; x: number }[]) => l.map((o) => `${o.s} ${fmt(o.x)}`).join(", ");
      return {
        ok: shadow.every((o) => pv < o.x),
        detail:
          `ptemod: ${c.roles.pv} ${fmt(pv)} cycles/op; shadow paging: ${list(shadow)}` +
          (nested.length > 0 ? `; (for reference, nested paging: ${list(nested)})` : ""),
      };
    },
  },
  {
    id: "pv-beats-bt-on-fork",
    claim: "Paravirtualization beats binary translation on process creation (fork)",
    source: `Barham et al., SOSP 2003, lmbench fork: native ${BARHAM_FORK_US.native} us, Xen ${BARHAM_FORK_US.xen} us, VMware ${BARHAM_FORK_US.vmware} us`,
    needs: ["pv", "bt"],
    evaluate(c) {
      const r = pair(c, "pv", "bt", "forkwait");
      return { ok: r.x < r.y, detail: r.text };
    },
  },
  {
    id: "cpu-bound-near-native",
    claim: "CPU-bound user code runs near native (within 10%) under every virtualizing strategy",
    source: `${ADAMS_AGESEN_SOURCE}: SPECint 2000 slowdown 0-9% (average 4% BT, 5% VT); Popek & Goldberg's efficiency property`,
    needs: ["baseline", "virtualizing"],
    evaluate(c) {
      const native = c.v("baseline", "compute");
      const rows = c.virtualizing.flatMap((s) => {
        try {
          return [{ s, ratio: c.byName(s, "compute") / native }];
        } catch {
          return [];
        }
      });
      if (rows.length === 0) throw new NotMeasurable("no virtualizing strategy ran compute");
      return {
        ok: rows.every((r) => r.ratio <= 1.1),
        detail: `compute (per round, relative to the baseline): ${rows.map((r) => `${r.s} ${r.ratio.toFixed(3)}x`).join(", ")}`,
      };
    },
  },
];

/** Every finding under every profile of the result. */
export function computeFindings(result: BenchResult): Finding[] {
  const roles = assignRoles(result);
  const baseline = roles.baseline;
  const virtualizing = result.strategies.map((s) => s.name).filter((s) => s !== baseline);
  const out: Finding[] = [];
  for (const profile of result.run.options.profiles) {
    for (const def of FINDINGS) {
      const strategies: Record<string, string> = {};
      const missing: string[] = [];
      for (const role of def.needs) {
        if (role === "virtualizing") {
          if (virtualizing.length === 0) missing.push(ROLE_NAMES.virtualizing);
        } else if (roles[role]) strategies[role] = roles[role]!;
        else missing.push(ROLE_NAMES[role]);
      }
      const base = { id: def.id, claim: def.claim, source: def.source, profile, strategies };
      if (missing.length > 0) {
        out.push({
          ...base,
          verdict: "not measurable",
          detail: `needs ${missing.join(" and ")}: not registered in this run`,
          missing,
        });
        continue;
      }
      const byName = (s: string, w: string) => {
        const x = cyclesPerOp(result, s, w, profile);
        if (x === undefined) throw new NotMeasurable(`the ${s} / ${w} cell did not run or failed`);
        return x;
      };
      const ctx: Ctx = {
        roles,
        virtualizing,
        memory: (name) => result.strategies.find((s) => s.name === name)?.techniques.memory,
        byName,
        v: (role, w) => byName(roles[role]!, w),
      };
      try {
        const { ok, detail } = def.evaluate(ctx);
        out.push({ ...base, verdict: ok ? "reproduced" : "not reproduced", detail, missing: [] });
      } catch (e) {
        if (!(e instanceof NotMeasurable)) throw e;
        out.push({ ...base, verdict: "not measurable", detail: e.message, missing: [e.message] });
      }
    }
  }
  return out;
}
