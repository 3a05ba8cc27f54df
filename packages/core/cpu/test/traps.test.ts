/**
 * Synchronous traps (privileged spec 3.1.6-3.1.8, 3.1.14-3.1.16, 3.3,
 * 4.1.1): entry state for M and S, xRET, delegation, vectored and direct
 * vectors, ecall/ebreak/illegal causes and tvals, and the rules that make a
 * CSR or privileged instruction illegal.
 */
import { describe, expect, it } from "vitest";
import { outcome } from "./helpers.js";
import {
  brief,
  enter,
  ILLEGAL,
  irqCause,
  mtraps,
  privGuest,
  privPass,
  resumeAt,
  straps,
  toM,
} from "./priv.js";

const MPP = (s: bigint) => Number((s >> 11n) & 3n);
const bit = (s: bigint, n: number) => Number((s >> BigInt(n)) & 1n);

/** A raw CSR instruction (for forms the assembler rightly refuses, like writes to read-only CSRs). */
const csrInsn = (funct3: number, rd: number, rs1: number, csr: number) =>
  (((csr << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | 0x73) >>> 0).toString();

describe("trap entry and return", () => {
  it("an M-mode ecall stacks MIE into MPIE, sets MPP=M, and mret unstacks (MPP becomes U)", () => {
    const g = privPass(`
  csrsi mstatus, 8          # MIE=1 (mie is 0, so nothing is taken)
ec:
  ecall
  csrr s1, mstatus
`);
    const [t] = mtraps(g);
    expect(t!.cause).toBe(11n);
    expect(t!.epc).toBe(BigInt(g.sym("ec")));
    expect(t!.tval).toBe(0n);
    expect([MPP(t!.status), bit(t!.status, 7), bit(t!.status, 3)]).toEqual([3, 1, 0]);
    const s1 = g.x(9);
    expect([MPP(s1), bit(s1, 7), bit(s1, 3)]).toEqual([0, 1, 1]);
  });

  it("ecall cause and MPP follow the mode the trap came from", () => {
    const g = privPass(`
${enter(0)}
ecu:
  ecall
${toM()}
${enter(1)}
ecs:
  ecall
${toM()}
`);
    const t = mtraps(g);
    expect(t.map((x) => [x.cause, MPP(x.status)])).toEqual([
      [8n, 0],
      [8n, 0],
      [9n, 1],
      [9n, 1],
    ]);
    expect(t[0]!.epc).toBe(BigInt(g.sym("ecu")));
    expect(t[2]!.epc).toBe(BigInt(g.sym("ecs")));
  });

  it("ebreak reports the breakpoint's address in mtval; illegal instructions report their bits", () => {
    const g = privPass(`
bp:
  ebreak
ill:
  .word 0xffffffff
${enter(0)}
mr:
  mret
${toM()}
`);
    const t = mtraps(g);
    expect(brief(t.slice(0, 3))).toEqual([
      [3n, BigInt(g.sym("bp"))],
      [2n, 0xffffffffn],
      [2n, 0x30200073n],
    ]);
    expect(t[1]!.epc).toBe(BigInt(g.sym("ill")));
  });

  it("mret and sret restore the previous mode; sret unstacks SIE/SPIE/SPP and clears MPRV", () => {
    const g = privPass(`
  # mret to S: an M-only CSR then traps as illegal (from S).
  li t0, 0x20000            # MPRV, cleared by an mret to a mode below M
  csrs mstatus, t0
${enter(1)}
probe_s:
  csrr a0, mstatus
${toM()}
  csrr s1, mstatus
  # sret from S to U with SPIE=1, SPP=U: afterwards SIE=1, SPIE=1, SPP=U.
${enter(1)}
  li t0, 0x120              # SPP=1 (then cleared), SPIE=1
  csrs sstatus, t0
  li t0, 0x100
  csrc sstatus, t0          # SPP=U
  la t0, in_u
  csrw sepc, t0
  sret
in_u:
probe_u:
  csrr a0, sstatus          # illegal in U
${toM()}
  csrr s2, mstatus
`);
    const t = mtraps(g);
    expect(t[0]!.cause).toBe(2n);
    expect(MPP(t[0]!.status)).toBe(1);
    expect(t[0]!.epc).toBe(BigInt(g.sym("probe_s")));
    expect(bit(g.x(9), 17)).toBe(0); // MPRV cleared by mret to S
    const u = t.find((x) => x.epc === BigInt(g.sym("probe_u")))!;
    expect([u.cause, MPP(u.status)]).toEqual([2n, 0]);
    const s2 = g.x(18);
    expect([bit(s2, 1), bit(s2, 5), bit(s2, 8)]).toEqual([1, 1, 0]);
  });
});

describe("delegation", () => {
  it("a delegated exception from U goes to S with scause/sepc/stval and SPP/SPIE/SIE stacking", () => {
    const g = privPass(`
  li t0, 1 << 8
  csrw medeleg, t0
  csrsi sstatus, 2          # SIE=1: becomes SPIE
${enter(0)}
ecu:
  ecall                     # to S, then sret back to U
ill:
  .word 0xffffffff          # not delegated: to M
${toM(ILLEGAL)}
`);
    const s = straps(g);
    expect(s).toHaveLength(1);
    expect([s[0]!.cause, s[0]!.epc, s[0]!.tval]).toEqual([8n, BigInt(g.sym("ecu")), 0n]);
    expect([bit(s[0]!.status, 8), bit(s[0]!.status, 5), bit(s[0]!.status, 1)]).toEqual([0, 1, 0]);
    const m = mtraps(g);
    expect([m[0]!.cause, m[0]!.epc, MPP(m[0]!.status)]).toEqual([2n, BigInt(g.sym("ill")), 0]);
  });

  it("a delegated exception in S stays in S (SPP=S); M-mode exceptions are never delegated", () => {
    const g = privPass(`
  li t0, (1 << 2) | (1 << 3)
  csrw medeleg, t0
${enter(1)}
ills:
  .word 0xffffffff          # delegated: S handler, SPP=1
ecs:
  ecall                     # not delegated
  j 1f
1:
${toM()}
illm:
  .word 0xffffffff          # from M: to M although delegated
bpm:
  ebreak
`);
    const s = straps(g);
    expect(s.map((x) => [x.cause, x.epc, bit(x.status, 8)])).toEqual([[2n, BigInt(g.sym("ills")), 1]]);
    const m = mtraps(g).map((x) => [x.cause, x.epc]);
    expect(m).toContainEqual([9n, BigInt(g.sym("ecs"))]);
    expect(m).toContainEqual([2n, BigInt(g.sym("illm"))]);
    expect(m).toContainEqual([3n, BigInt(g.sym("bpm"))]);
  });

  it("medeleg bit 11 (ecall from M) is read-only zero; mideleg holds only S-level interrupts", () => {
    const g = privPass(`
  li t0, -1
  csrw medeleg, t0
  csrr s1, medeleg
  csrw mideleg, t0
  csrr s2, mideleg
`);
    const medeleg = g.x(9);
    expect(bit(medeleg, 11)).toBe(0);
    for (const b of [0, 2, 3, 4, 5, 6, 7, 8, 12, 13, 15]) expect(bit(medeleg, b)).toBe(1);
    expect(g.x(18) & 0xaaan).toBe(0x222n);
  });
});

describe("trap vectors", () => {
  it("vectored mtvec sends exceptions to BASE and interrupt n to BASE + 4n; stvec likewise", () => {
    const g = privPass(
      `
  la t0, mvec
  ori t0, t0, 1
  csrw mtvec, t0
  csrr s1, mtvec
  ebreak                    # exception: BASE
  li t0, 2
  csrs mie, t0              # SSIE
  csrsi mstatus, 8          # MIE
  csrs mip, t0              # SSIP: not delegated, taken in M at BASE + 4
  csrci mstatus, 8
  # Now delegate SSI and take it in S through a vectored stvec.
  la t0, svec
  ori t0, t0, 1
  csrw stvec, t0
  li t0, 2
  csrw mideleg, t0
${enter(1)}
  csrsi sstatus, 2
  csrsi sip, 2
  nop
${toM()}
`,
      {
        data: `
.align 8
mvec:
  j vexc
  j virq1
  j fail
  j fail
.align 8
svec:
  j fail
  j svirq1
vexc:
  li s2, 100
  csrr t6, mepc
  addi t6, t6, 4
  csrw mepc, t6
  mret
virq1:
  li s3, 1
  csrr s5, mcause
  li t6, 2
  csrc mip, t6
  mret
svirq1:
  li s4, 1
  csrr s6, scause
  csrci sip, 2
  sret
`,
      },
    );
    expect(g.x(9) & 3n).toBe(1n);
    expect([g.x(18), g.x(19), g.x(20)]).toEqual([100n, 1n, 1n]);
    expect([g.x(21), g.x(22)]).toEqual([irqCause(1), irqCause(1)]);
  });

  it("direct mode sends interrupts to BASE too", () => {
    const g = privPass(
      `
  la t0, handler
  csrw mtvec, t0
  li t0, 2
  csrs mie, t0
  csrsi mstatus, 8
irq_at:
  csrs mip, t0              # taken with mepc = the next instruction
  csrci mstatus, 8
`,
      {
        data: `
.align 2
handler:
  csrr s1, mcause
  csrr s2, mepc
  li t6, 2
  csrc mip, t6
  mret
`,
      },
    );
    expect(g.x(9)).toBe(irqCause(1));
    expect(g.x(18)).toBe(BigInt(g.sym("irq_at")) + 4n);
  });
});

describe("illegal CSR accesses", () => {
  it("privilege, read-only and existence rules; mtval holds the instruction", () => {
    const ro = 0xf14; // mhartid
    const g = privPass(`
  li gp, 1
  csrr a0, mhartid          # fine
  csrrs a0, mhartid, x0     # a read: fine
  csrrsi a0, mhartid, 0     # a read: fine
w_ro:
  .word ${csrInsn(1, 10, 10, ro)}   # csrrw a0, mhartid, a0
wi_ro:
  .word ${csrInsn(5, 0, 0, ro)}     # csrrwi x0, mhartid, 0 still writes
w_cycle:
  .word ${csrInsn(2, 0, 10, 0xc00)} # csrrs x0, cycle, a0 (a0 != 0 after csrr? force)
no_h:
  csrr a0, 0x600            # hstatus: no H extension
no_dbg:
  csrr a0, 0x7b0            # dcsr: debug mode only
no_fp:
  csrr a0, fcsr             # mstatus.FS = Off
${enter(1)}
s_m:
  csrr a0, mstatus
s_ok:
  csrr a0, sstatus
${toM()}
${enter(0)}
u_s:
  csrr a0, sstatus
${toM()}
`);
    const t = mtraps(g).filter((x) => x.cause === 2n);
    const expected: [string, bigint][] = [
      ["w_ro", BigInt(csrInsn(1, 10, 10, ro))],
      ["wi_ro", BigInt(csrInsn(5, 0, 0, ro))],
      ["no_h", 0x60002573n],
      ["no_dbg", 0x7b002573n],
      ["no_fp", 0x00302573n],
      ["s_m", 0x30002573n],
      ["u_s", 0x10002573n],
    ];
    const got = t.map((x) => [x.epc, x.tval]);
    for (const [label, tval] of expected) expect(got).toContainEqual([BigInt(g.sym(label)), tval]);
    // a0 = hartid 0 at w_cycle: csrrs with a non-x0 rs1 register writes even if its value is 0.
    expect(got).toContainEqual([BigInt(g.sym("w_cycle")), BigInt(csrInsn(2, 0, 10, 0xc00))]);
    expect(got.map((x) => x[0])).not.toContain(BigInt(g.sym("s_ok")));
  });

  it("mret/sret/wfi/sfence.vma/satp follow the mode and TSR/TW/TVM", () => {
    const g = privPass(`
${enter(1)}
s_mret:
  mret
s_sfence_ok:
  sfence.vma
s_satp_ok:
  csrr a0, satp
${toM()}
  li t0, (1 << 20) | (1 << 21) | (1 << 22)   # TVM, TW, TSR
  csrs mstatus, t0
${enter(1)}
s_sret:
  sret
s_wfi:
  wfi
s_sfence:
  sfence.vma
s_satp:
  csrr a0, satp
${toM()}
  # In M-mode TSR/TW/TVM do not apply.
  csrr a0, satp
  sfence.vma
  li t0, (1 << 20) | (1 << 21) | (1 << 22)
  csrc mstatus, t0
${enter(0)}
u_sret:
  sret
u_wfi:
  wfi
u_sfence:
  sfence.vma
${toM()}
`);
    const ill = mtraps(g)
      .filter((x) => x.cause === 2n)
      .map((x) => x.epc);
    const sym = (s: string) => BigInt(g.sym(s));
    expect(ill).toEqual(
      ["s_mret", "s_sret", "s_wfi", "s_sfence", "s_satp", "u_sret", "u_wfi", "u_sfence"].map(sym),
    );
  });
});

describe("machine status and ISA registers", () => {
  it("misa is RV64 IMAFDC with S and U; mstatus reports UXL=SXL=64 and SD when FS is dirty", () => {
    const g = privPass(`
  csrr s1, misa
  li t0, 3 << 13
  csrs mstatus, t0          # FS = Dirty
  csrr s2, mstatus
  csrr s3, sstatus
  li t0, 2 << 11
  csrw mstatus, t0          # MPP = 2 is reserved: WARL
  csrr s4, mstatus
  li t0, (3 << 11) | 8 | (1 << 17) | (1 << 20)
  csrw mstatus, t0
  csrr s5, sstatus          # the S view hides M-only fields
  csrw mstatus, zero
`);
    expect(BigInt.asUintN(64, g.x(9))).toBe(0x800000000014112dn);
    const ms = BigInt.asUintN(64, g.x(18));
    expect((ms >> 32n) & 0xfn).toBe(0xan);
    expect(ms >> 63n).toBe(1n);
    const ss = BigInt.asUintN(64, g.x(19));
    expect((ss >> 32n) & 0xfn).toBe(2n);
    expect(ss >> 63n).toBe(1n);
    expect(MPP(g.x(20))).not.toBe(2);
    expect(g.x(21)).toBe(2n << 32n); // UXL only
  });

  it("a program that traps with no handler change keeps running (mtvec direct)", () => {
    const g = privGuest(`
${resumeAt("after")}
  .word 0xffffffff
  j fail
after:
`);
    expect(outcome(g)).toBe("pass");
  });
});
