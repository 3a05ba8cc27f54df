/**
 * Traps with the H extension (H 1.0, "Traps", "Trap Entry", "Trap Return",
 * "Virtual-Instruction Exceptions"): delegation from V=1 to M, HS or VS
 * through medeleg and hedeleg; what each level's CSRs record (SPV, SPVP,
 * GVA, MPV, vsstatus.SPP); ecall causes from VS and VU; sret from HS with
 * SPV, sret in VS, mret with MPV; and every instruction's trap in every mode,
 * cross-checked with the @hvkit/isa sensitivity classification.
 */
import { classifyInstruction, evaluateTrap, type Mode, type TrapCause } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import { BARE_RAM_BASE, BareMachine, Cause, CsrSlot, ExitReason, PRV_M, PRV_S, PRV_U } from "../src/index.js";
import {
  causes,
  enterGuest,
  enterHost,
  HS,
  hPass,
  hsTraps,
  MGVA,
  MPV,
  mTraps,
  toM,
  vsTraps,
} from "./h-guest.js";

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

describe("delegation from V=1", () => {
  it("undelegated traps go to M-mode; medeleg sends them to HS-mode; medeleg and hedeleg to VS-mode", () => {
    const g = hPass(
      `
${enterGuest(1)}
ec1:
  ecall                           # cause 10, not delegated: M
${toM()}
  li t0, (1 << 10) | (1 << 3) | (1 << 2)
  csrw medeleg, t0
  li t0, (1 << 2)                 # hedeleg: 10 is read-only zero, 3 stays in HS
  csrw hedeleg, t0
${enterGuest(1)}
ec2:
  ecall                           # HS
eb:
  ebreak                          # HS, stval = the guest pc (GVA)
ill:
  .word 0x00000000                # illegal: VS
${toM("ld zero, 0(zero)")}         # a load access fault (5): not delegated
`,
    );
    expect(mTraps(g).map((t) => [t.cause, t.epc])).toEqual([
      [10n, BigInt(g.sym("ec1"))],
      [2n, mTraps(g)[1]!.epc],
      [5n, mTraps(g)[2]!.epc],
    ]);
    expect(mTraps(g)[0]!.status & MPV).toBe(MPV);
    // The access fault from VS: mtval holds a guest virtual address (GVA).
    expect(mTraps(g)[2]!.status & (MPV | MGVA)).toBe(MPV | MGVA);
    const hs = hsTraps(g);
    expect(hs.map((t) => [t.cause, t.epc, t.tval])).toEqual([
      [10n, BigInt(g.sym("ec2")), 0n],
      [3n, BigInt(g.sym("eb")), BigInt(g.sym("eb"))],
    ]);
    // ecall: SPV and SPVP set, GVA clear; ebreak: GVA set (stval holds a guest virtual address).
    expect(hs[0]!.status & (HS.SPV | HS.SPVP | HS.GVA)).toBe(HS.SPV | HS.SPVP);
    expect(hs[1]!.status & (HS.SPV | HS.SPVP | HS.GVA)).toBe(HS.SPV | HS.SPVP | HS.GVA);
    const vs = vsTraps(g);
    expect(vs.map((t) => [t.cause, t.epc, t.tval])).toEqual([[2n, BigInt(g.sym("ill")), 0n]]);
    expect(vs[0]!.status & 0x100n).toBe(0x100n); // vsstatus.SPP = 1: from VS
  });

  it("VU-mode: ecall is cause 8, vsstatus.SPP and hstatus.SPVP record U", () => {
    const g = hPass(
      `
  li t0, (1 << 8) | (1 << 2)
  csrw medeleg, t0
  li t0, (1 << 2)
  csrw hedeleg, t0
  li t0, 1 << 8
  csrs hstatus, t0                # SPVP = 1 before: the trap from VU clears it
${enterGuest(0)}
  ecall                           # 8 -> HS
  .word 0                         # 2 -> VS
  li a7, -1
  la s11, back
  ecall
back:
`,
    );
    const hs = hsTraps(g);
    expect(causes(hs)).toEqual([8n, 8n]);
    expect(hs[0]!.status & (HS.SPV | HS.SPVP)).toBe(HS.SPV);
    const vs = vsTraps(g);
    expect(causes(vs)).toEqual([2n]);
    expect(vs[0]!.status & 0x100n).toBe(0n);
  });

  it("traps from V=0 ignore hedeleg and leave SPVP alone; SPV records V=0", () => {
    const g = hPass(
      `
  li t0, (1 << 8)
  csrw medeleg, t0
  csrw hedeleg, t0
  li t0, (1 << 8) | (1 << 7)      # SPVP and SPV set beforehand
  csrs hstatus, t0
${enterHost(0)}
  ecall                           # U (V=0) -> HS, never VS
${toM()}
`,
    );
    const hs = hsTraps(g);
    expect(causes(hs)).toEqual([8n]);
    expect(hs[0]!.status & (HS.SPV | HS.SPVP)).toBe(HS.SPVP);
    expect(vsTraps(g)).toEqual([]);
  });
});

describe("trap returns", () => {
  it("sret in HS-mode returns to V = SPV (VS with SPP=1, VU with SPP=0) and clears SPV; sret in VS-mode stays in V=1", () => {
    const g = hPass(
      `
  li t0, 0x5a5a
  csrw vsscratch, t0
  li t0, 0x1111
  csrw sscratch, t0
${enterHost(1)}
  la t0, in_vs
  csrw sepc, t0
  li t0, 1 << 7
  csrs hstatus, t0                # SPV
  li t0, 1 << 8
  csrs sstatus, t0                # SPP = S
  sret
in_vs:
  csrr s0, sscratch               # vsscratch: we are in VS-mode
  la t0, in_vu
  csrw sepc, t0                   # vsepc
  li t0, 1 << 8
  csrc sstatus, t0                # vsstatus.SPP = U
  sret
in_vu:
  csrr s1, sscratch               # VU: virtual-instruction (not illegal)
${toM()}
  csrr s2, hstatus
`,
    );
    expect(u64(g.x(8))).toBe(0x5a5an);
    expect(causes(mTraps(g))).toEqual([22n, 2n]);
    expect(BigInt(g.x(18)) & HS.SPV).toBe(0n);
  });

  it("mret returns to V = MPV unless MPP = M, and clears MPV", () => {
    const g = hPass(
      `
  li t0, 1
  slli t0, t0, 39
  csrs mstatus, t0                # MPV = 1 with MPP = M
  li t0, 0x1800
  csrs mstatus, t0
  la t0, still_m
  csrw mepc, t0
  mret
still_m:
  csrr s0, mstatus                # M-mode: readable; MPV cleared
${enterGuest(0)}
  csrr s1, sscratch               # VU: virtual instruction
${toM()}
`,
    );
    expect(u64(g.x(8)) & MPV).toBe(0n);
    expect(causes(mTraps(g))).toEqual([22n, 2n]);
    expect((mTraps(g)[0]!.status >> 11n) & 3n).toBe(0n); // MPP = U, MPV = 1: from VU
    expect(mTraps(g)[0]!.status & MPV).toBe(MPV);
  });
});

describe("virtual-instruction exceptions", () => {
  it("are raised for HS-qualified instructions the guest may not run, with tval the instruction bits", () => {
    const g = hPass(
      `
${enterGuest(0)}
  sret                            # VU: virtual
  wfi                             # VU: virtual
  sfence.vma                      # VU: virtual
  csrr a0, sstatus                # VU, supervisor CSR: virtual
${toM()}
${enterGuest(1)}
  csrr a0, hstatus                # VS, hypervisor CSR: virtual
  csrr a0, vsstatus               # VS, VS CSR by its own number: virtual
  hfence.vvma                     # VS: virtual
  hfence.gvma
  csrr a0, mstatus                # M-level CSR: illegal
  mret                            # not HS-qualified: illegal
${toM()}
  li t0, (1 << 20) | (1 << 21) | (1 << 22)
  csrs hstatus, t0                # VTVM VTW VTSR
${enterGuest(1)}
  sfence.vma
  csrr a0, satp
  wfi
  la s11, after_sret
  sret
after_sret:
${toM()}
  li t0, (1 << 20) | (1 << 21) | (1 << 22)
  csrc hstatus, t0
  li t0, (1 << 20) | (1 << 22)    # mstatus.TVM and TSR do not apply to VS-mode
  csrs mstatus, t0
${enterGuest(1)}
  sfence.vma
  csrr a0, satp
${toM()}
  li t0, (1 << 22)
  csrc mstatus, t0
  li t0, 1 << 21                  # mstatus.TW: illegal in VS and VU too
  csrs mstatus, t0
${enterGuest(1)}
  wfi
${toM()}
`,
    );
    expect(mTraps(g).map((t) => [t.cause, t.tval])).toEqual([
      [22n, 0x10200073n],
      [22n, 0x10500073n],
      [22n, 0x12000073n],
      [22n, 0x10002573n],
      [2n, 0xffffffffn],
      [22n, 0x60002573n],
      [22n, 0x20002573n],
      [22n, 0x22000073n],
      [22n, 0x62000073n],
      [2n, 0x30002573n],
      [2n, 0x30200073n],
      [2n, 0xffffffffn],
      [22n, 0x12000073n],
      [22n, 0x18002573n],
      [22n, 0x10500073n],
      [22n, 0x10200073n],
      [2n, 0xffffffffn],
      [2n, 0xffffffffn],
      [2n, 0x10500073n],
      [2n, 0xffffffffn],
    ]);
  });

  it("in HS-mode mstatus.TVM traps hgatp and hfence.gvma but not vsatp or hfence.vvma", () => {
    const g = hPass(
      `
  li t0, 1 << 20
  csrs mstatus, t0
${enterHost(1)}
  csrr a0, hgatp
  hfence.gvma
  csrr a0, vsatp
  hfence.vvma
${toM()}
`,
    );
    expect(mTraps(g).map((t) => [t.cause, t.tval])).toEqual([
      [2n, 0x68002573n],
      [2n, 0x62000073n],
      [2n, 0xffffffffn],
    ]);
  });
});

// ---------------------------------------------------------------------------
// Cross-check with the sensitivity classification of @hvkit/isa.

const INSTRUCTIONS: [name: string, bits: number][] = [
  ["ecall", 0x00000073],
  ["ebreak", 0x00100073],
  ["sret", 0x10200073],
  ["mret", 0x30200073],
  ["wfi", 0x10500073],
  ["sfence.vma", 0x12000073],
  ["hfence.vvma", 0x22000073],
  ["hfence.gvma", 0x62000073],
  ["hlv.b", 0x60054573], // rs1 = a0
  ["hlv.bu", 0x60154573],
  ["hlv.h", 0x64054573],
  ["hlv.hu", 0x64154573],
  ["hlvx.hu", 0x64354573],
  ["hlv.w", 0x68054573],
  ["hlv.wu", 0x68154573],
  ["hlvx.wu", 0x68354573],
  ["hlv.d", 0x6c054573],
  ["hsv.b", 0x62b54073], // rs2 = a1
  ["hsv.h", 0x66b54073],
  ["hsv.w", 0x6ab54073],
  ["hsv.d", 0x6eb54073],
];

const CONTROLS = [
  "mstatus.TW",
  "mstatus.TSR",
  "mstatus.TVM",
  "hstatus.VTW",
  "hstatus.VTSR",
  "hstatus.VTVM",
  "hstatus.HU",
];

const MODES: [Mode, number, number][] = [
  ["U", PRV_U, 0],
  ["S", PRV_S, 0],
  ["M", PRV_M, 0],
  ["VS", PRV_S, 1],
  ["VU", PRV_U, 1],
];

function instructionTrap(
  m: BareMachine,
  bits: number,
  priv: number,
  virt: number,
  on: Set<string>,
): TrapCause | null {
  const h = m.hart;
  h.reset(BigInt(BARE_RAM_BASE));
  const c = h.csr;
  c[CsrSlot.MSTATUS] =
    (on.has("mstatus.TW") ? 1 << 21 : 0) |
    (on.has("mstatus.TSR") ? 1 << 22 : 0) |
    (on.has("mstatus.TVM") ? 1 << 20 : 0);
  c[CsrSlot.HSTATUS] =
    (on.has("hstatus.VTW") ? 1 << 21 : 0) |
    (on.has("hstatus.VTSR") ? 1 << 22 : 0) |
    (on.has("hstatus.VTVM") ? 1 << 20 : 0) |
    (on.has("hstatus.HU") ? 1 << 9 : 0);
  new DataView(m.ram.buffer, m.ram.byteOffset).setUint32(0, bits >>> 0, true);
  h.ramChanged(BARE_RAM_BASE, 4);
  h.setX(10, BigInt(BARE_RAM_BASE + 0x100)); // hlv/hsv address: RAM
  h.setMode(priv, virt);
  h.guestExits.exceptions = -1;
  h.exitOnException[priv] = -1;
  const r = h.run(1);
  if (r === ExitReason.BUDGET || r === ExitReason.WFI) return null;
  expect(r).toBe(ExitReason.TRAP);
  switch (h.exit.cause) {
    case Cause.ILLEGAL_INSTRUCTION:
      return "illegal-instruction";
    case Cause.VIRTUAL_INSTRUCTION:
      return "virtual-instruction";
    case Cause.BREAKPOINT:
      return "breakpoint";
    case Cause.ECALL_U:
    case Cause.ECALL_S:
    case Cause.ECALL_VS:
    case Cause.ECALL_M:
      expect(h.exit.cause).toBe(
        priv === PRV_M
          ? Cause.ECALL_M
          : priv === PRV_U
            ? Cause.ECALL_U
            : virt
              ? Cause.ECALL_VS
              : Cause.ECALL_S,
      );
      return "environment-call";
  }
  throw new Error(`unexpected cause ${h.exit.cause}`);
}

describe("every privileged instruction against the sensitivity classification", () => {
  it("traps exactly as @hvkit/isa classifies, in every mode, under every combination of its controls", () => {
    const m = new BareMachine({ ramSize: 64 * 1024, hypervisor: true });
    const mismatches: string[] = [];
    let checked = 0;
    for (const [name, bits] of INSTRUCTIONS) {
      for (const [mode, priv, virt] of MODES) {
        const rule = classifyInstruction(name, mode).trap;
        for (let k = 0; k < 1 << CONTROLS.length; k++) {
          const on = new Set(CONTROLS.filter((_, i) => (k >> i) & 1));
          const want = evaluateTrap(rule, Object.fromEntries(CONTROLS.map((n) => [n, on.has(n) ? 1 : 0])));
          const got = instructionTrap(m, bits, priv, virt, on);
          checked++;
          if (got !== want)
            mismatches.push(
              `${name} in ${mode} with [${[...on].join(" ")}]: hart ${got}, classified ${want}`,
            );
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBe(INSTRUCTIONS.length * 5 * 128);
  });
});
