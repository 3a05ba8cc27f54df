/**
 * The H extension's CSRs (H 1.0, "Hypervisor and Virtual Supervisor CSRs",
 * "Machine-Level CSRs"): the opt-in option, misa.H, reset values, WARL masks,
 * the V=1 substitution of VS CSRs for supervisor CSRs (including sip/sie
 * through hideleg and time through htimedelta), counter enables, and a
 * cross-check of every CSR access in every mode against the @hvkit/isa
 * sensitivity classification.
 */
import {
  allCsrs,
  CSR,
  type CsrAccess,
  classifyCsr,
  evaluateTrap,
  type Mode,
  type TrapCause,
} from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import {
  BARE_RAM_BASE,
  BareMachine,
  Cause,
  ExitReason,
  PRV_M,
  PRV_S,
  PRV_U,
  writeCsr,
} from "../src/index.js";
import { enterGuest, enterHost, hPass, mTraps, toM } from "./h-guest.js";
import { outcome } from "./helpers.js";
import { mtraps, privGuest } from "./priv.js";

/** Store CSR `names` in order into the dwords at `out` (clobbers t0, t1). */
const readAll = (names: string[], out = "out"): string =>
  `  la t1, ${out}\n${names.map((n, i) => `  csrr t0, ${n}\n  sd t0, ${8 * i}(t1)`).join("\n")}\n`;

/** Write -1 to each CSR, read it back, then write 0 and read it back: results at `out` (pairs). */
const warl = (names: string[]): string =>
  `  la t1, out\n${names
    .map(
      (n, i) => `  li t0, -1
  csrw ${n}, t0
  csrr t0, ${n}
  sd t0, ${16 * i}(t1)
  csrw ${n}, zero
  csrr t0, ${n}
  sd t0, ${16 * i + 8}(t1)`,
    )
    .join("\n")}\n`;

const OUT = ".align 3\nout: .zero 1024\n";
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

describe("the hypervisor option", () => {
  it("is off by default: misa has no H, and every H CSR and instruction is illegal, as before", () => {
    const g = privGuest(
      `
  csrr a0, misa
  csrr a1, hstatus
  csrr a1, vsstatus
  csrr a1, mtval2
  hfence.vvma
  hfence.gvma
  hlv.w a1, (sp)
  hsv.w a1, (sp)
`,
    );
    expect(outcome(g)).toBe("pass");
    expect((g.x(10) >> 7n) & 1n).toBe(0n);
    expect(mtraps(g).map((t) => [t.cause, t.tval])).toEqual([
      [2n, 0x600025f3n],
      [2n, 0x200025f3n],
      [2n, 0x34b025f3n],
      [2n, 0x22000073n],
      [2n, 0x62000073n],
      [2n, 0x680145f3n],
      [2n, 0x6ab14073n],
    ]);
    expect(new BareMachine().hart.hypervisor).toBe(false);
  });

  it("sets misa.H and keeps the rest of misa; misa stays read-only", () => {
    const g = hPass(`
  csrr a0, misa
  li t0, 1 << 7
  csrc misa, t0
  csrr a1, misa
`);
    expect(u64(g.x(10))).toBe(0x8000_0000_0014_11adn);
    expect(g.x(11)).toBe(g.x(10));
  });
});

describe("reset values", () => {
  it("every H CSR resets to zero except the read-only fields (VSXL, UXL, mideleg's VS bits)", () => {
    const names = [
      "hstatus",
      "hedeleg",
      "hideleg",
      "hie",
      "hip",
      "hvip",
      "hgeie",
      "hgeip",
      "henvcfg",
      "hcounteren",
      "htimedelta",
      "htval",
      "htinst",
      "hgatp",
      "vsstatus",
      "vsie",
      "vsip",
      "vsscratch",
      "vsepc",
      "vscause",
      "vstval",
      "vsatp",
      "vstimecmp",
      "mtval2",
      "mtinst",
      "mideleg",
      "mstatus",
    ];
    const g = hPass(readAll(names), { data: OUT });
    const v = Object.fromEntries(names.map((n, i) => [n, u64(g.dword("out", 8 * i))]));
    expect(v).toEqual({
      ...Object.fromEntries(names.map((n) => [n, 0n])),
      hstatus: 0x2_0000_0000n, // VSXL = 64-bit
      vsstatus: 0x2_0000_0000n, // UXL = 64-bit
      mideleg: 0x444n, // VSSI, VSTI, VSEI are always delegated past M
      mstatus: 0xa_0000_0000n, // SXL = UXL = 64-bit; MPV = GVA = 0
    });
  });
});

describe("WARL masks", () => {
  it("hypervisor CSRs keep exactly their writable bits", () => {
    const names = [
      "hstatus",
      "hedeleg",
      "hideleg",
      "hgeie",
      "hcounteren",
      "htimedelta",
      "htval",
      "htinst",
      "mtval2",
      "mtinst",
      "vsscratch",
      "vsepc",
      "vscause",
      "vstval",
      "vstimecmp",
    ];
    const g = hPass(warl(names), { data: OUT });
    const got = Object.fromEntries(
      names.map((n, i) => [n, [u64(g.dword("out", 16 * i)), u64(g.dword("out", 16 * i + 8))]]),
    );
    const all = (1n << 64n) - 1n;
    expect(got).toEqual({
      // GVA SPV SPVP HU VTVM VTW VTSR; VSXL stays 2, VSBE and VGEIN read as zero (GEILEN = 0).
      hstatus: [0x2_0070_03c0n, 0x2_0000_0000n],
      // Bits 9-11 and 20-23 are read-only zero.
      hedeleg: [0xb1ffn, 0n],
      hideleg: [0x444n, 0n],
      hgeie: [0n, 0n],
      hcounteren: [0xffff_ffffn, 0n],
      htimedelta: [all, 0n],
      htval: [all, 0n],
      htinst: [all, 0n],
      mtval2: [all, 0n],
      mtinst: [all, 0n],
      vsscratch: [all, 0n],
      vsepc: [all - 1n, 0n],
      vscause: [all, 0n],
      vstval: [all, 0n],
      vstimecmp: [all, 0n],
    });
  });

  it("interrupt registers: hie, hvip, hip, mie, mip and mideleg with the VS-level bits", () => {
    const g = hPass(
      `
  la t1, out
  li t0, -1
  csrw hie, t0
  csrr t0, hie
  sd t0, 0(t1)
  csrr t0, mie
  sd t0, 8(t1)
  csrw hie, zero
  li t0, -1
  csrw mie, t0
  csrr t0, mie
  sd t0, 16(t1)
  csrr t0, hie
  sd t0, 24(t1)
  csrw mie, zero
  li t0, -1
  csrw hvip, t0
  csrr t0, hvip
  sd t0, 32(t1)
  csrr t0, hip
  sd t0, 40(t1)
  csrr t0, mip
  sd t0, 48(t1)
  csrw hip, zero                  # only VSSIP is writable in hip
  csrr t0, hvip
  sd t0, 56(t1)
  csrw hvip, zero
  li t0, -1
  csrw mip, t0                    # mip.VSSIP is hvip.VSSIP; VSTIP and VSEIP are read-only in mip
  csrr t0, hvip
  sd t0, 64(t1)
  csrw mip, zero
  li t0, -1
  csrw mideleg, t0
  csrr t0, mideleg
  sd t0, 72(t1)
  csrw mideleg, zero
  csrr t0, mideleg
  sd t0, 80(t1)
  li t0, -1
  csrw medeleg, t0
  csrr t0, medeleg
  sd t0, 88(t1)
`,
      { data: OUT },
    );
    expect(g.dwords("out", 12).map(u64)).toEqual([
      0x444n, // hie: VSSIE VSTIE VSEIE (SGEIE read-only zero: GEILEN = 0)
      0x444n, // ... which are mie's bits
      0xeeen, // mie: M, S and VS enables
      0x444n,
      0x444n, // hvip: VSSIP VSTIP VSEIP
      0x444n, // hip sees them
      0x444n, // and mip
      0x440n, // writing hip cleared VSSIP only
      0x4n, // mip wrote VSSIP only
      0x666n, // mideleg: SSI STI SEI writable, VS bits read-only one
      0x444n,
      0xf0_b7ffn, // medeleg: + ecall from VS (10), guest-page faults and virtual instruction (20-23)
    ]);
  });

  it("hgatp: MODE is WARL (Bare, Sv39x4, Sv48x4; others keep the old MODE), PPN[1:0] reads zero, 14-bit VMID", () => {
    const g = hPass(
      `
  la t1, out
  li t0, -1
  csrw hgatp, t0                  # MODE 15: unsupported, MODE stays Bare
  csrr t0, hgatp
  sd t0, 0(t1)
  li t0, (8 << 60) | (0x3fff << 44) | 0x80003
  csrw hgatp, t0
  csrr t0, hgatp
  sd t0, 8(t1)
  li t0, (10 << 60) | 0x1234      # Sv57x4: unsupported, MODE stays Sv39x4
  csrw hgatp, t0
  csrr t0, hgatp
  sd t0, 16(t1)
  li t0, (9 << 60) | 0x80004
  csrw hgatp, t0
  csrr t0, hgatp
  sd t0, 24(t1)
`,
      { data: OUT },
    );
    expect(g.dwords("out", 4).map(u64)).toEqual([
      0x03ff_ffff_ffff_fffcn,
      0x83ff_f000_0008_0000n,
      0x8000_0000_0000_1234n,
      0x9000_0000_0008_0004n,
    ]);
  });

  it("vsstatus, vstvec and vsatp behave like sstatus, stvec and satp", () => {
    const g = hPass(
      `
  la t1, out
  li t0, -1
  csrw vsstatus, t0
  csrr t0, vsstatus
  sd t0, 0(t1)
  li t0, -1
  csrw vstvec, t0
  csrr t0, vstvec
  sd t0, 8(t1)
  li t0, (8 << 60) | (0xffff << 44) | 0x80010
  csrw vsatp, t0
  csrr t0, vsatp
  sd t0, 16(t1)
  li t0, (5 << 60) | 0x1          # unsupported MODE: the write is ignored
  csrw vsatp, t0
  csrr t0, vsatp
  sd t0, 24(t1)
  csrr t0, mstatus                # vsstatus is not a view of mstatus
  sd t0, 32(t1)
`,
      { data: OUT },
    );
    expect(g.dwords("out", 5).map(u64)).toEqual([
      0x8000_0002_000c_6122n, // SIE SPIE SPP FS SUM MXR; UXL = 2; SD from FS
      0xffff_ffff_ffff_fffcn, // MODE 3 reads as direct
      0x8fff_f000_0008_0010n,
      0x8fff_f000_0008_0010n,
      0xa_0000_0000n,
    ]);
  });

  it("henvcfg.STCE is read-only zero while menvcfg.STCE is zero; mstatus.MPV and GVA are writable", () => {
    const g = hPass(
      `
  la t1, out
  li t0, -1
  csrw henvcfg, t0
  csrr t0, henvcfg
  sd t0, 0(t1)
  li t0, 1
  slli t0, t0, 63
  csrs menvcfg, t0
  li t0, -1
  csrw henvcfg, t0
  csrr t0, henvcfg
  sd t0, 8(t1)
  li t0, 3
  slli t0, t0, 38
  csrs mstatus, t0
  csrr t0, mstatus
  sd t0, 16(t1)
  li t0, 3
  slli t0, t0, 38
  csrc mstatus, t0
`,
      { data: OUT },
    );
    expect(g.dwords("out", 3).map(u64)).toEqual([1n, 0x8000_0000_0000_0001n, 0xa_0000_0000n | (3n << 38n)]);
  });
});

describe("V=1 substitution", () => {
  it("VS-mode's sstatus, stvec, sscratch, sepc, scause, stval and satp are the VS CSRs; HS copies keep their values", () => {
    const g = hPass(
      `
  li t0, 0x40122                  # SUM | SPP | SPIE | SIE
  csrw vsstatus, t0
  li t0, 0x1234
  csrw vsscratch, t0
  li t0, 0x5678
  csrw sscratch, t0
  li t0, 0x1110
  csrw vsepc, t0
  li t0, 13
  csrw vscause, t0
  li t0, 0x2220
  csrw vstval, t0
  li t0, 0x3330
  csrw sepc, t0
  li t0, (0xabcd << 44) | 0x123   # Bare: the other fields are stored but unused
  csrw vsatp, t0
  csrr s0, vstvec
${enterGuest(1)}
  la t1, out
  csrr t0, sstatus
  sd t0, 0(t1)
  csrr t0, sscratch
  sd t0, 8(t1)
  csrr t0, sepc
  sd t0, 16(t1)
  csrr t0, scause
  sd t0, 24(t1)
  csrr t0, stval
  sd t0, 32(t1)
  csrr t0, stvec
  sd t0, 40(t1)
  csrr t0, satp
  sd t0, 48(t1)
  li t0, 0x4444
  csrw sscratch, t0
  li t0, 0x80000                  # MXR
  csrs sstatus, t0
${toM()}
  la t1, out
  csrr t0, vsscratch
  sd t0, 56(t1)
  csrr t0, sscratch
  sd t0, 64(t1)
  csrr t0, vsstatus
  sd t0, 72(t1)
  csrr t0, mstatus
  sd t0, 80(t1)
`,
      { data: OUT },
    );
    expect(g.dwords("out", 11).map(u64)).toEqual([
      0x2_0004_0122n,
      0x1234n,
      0x1110n,
      13n,
      0x2220n,
      u64(g.x(8)), // vstvec
      0x0abc_d000_0000_0123n,
      0x4444n,
      0x5678n,
      0x2_000c_0122n,
      u64(g.dword("out", 80)),
    ]);
    // The HS-level mstatus never saw SUM or MXR.
    expect(u64(g.dword("out", 80)) & 0xc0000n).toBe(0n);
  });

  it("VS-mode's sip and sie are hip/hie's VS bits shifted down, where hideleg delegates them", () => {
    const g = hPass(
      `
  li t0, 0x400                    # VSEIE
  csrw hie, t0
  li t0, 0x4                      # VSSIP pending
  csrw hvip, t0
${enterGuest(1)}
  la t1, out
  csrr t0, sip                    # hideleg = 0: nothing
  sd t0, 0(t1)
  csrr t0, sie
  sd t0, 8(t1)
${toM()}
  li t0, 0x444
  csrw hideleg, t0
${enterGuest(1)}
  la t1, out
  csrr t0, sip
  sd t0, 16(t1)
  csrr t0, sie
  sd t0, 24(t1)
  li t0, 0x20                     # STIE -> hie.VSTIE
  csrs sie, t0
  li t0, 2                        # SSIP -> hvip.VSSIP
  csrc sip, t0
${toM()}
  la t1, out
  csrr t0, hie
  sd t0, 32(t1)
  csrr t0, hvip
  sd t0, 40(t1)
  csrr t0, sie                    # HS-level sie never shows VS bits
  sd t0, 48(t1)
`,
      { data: OUT },
    );
    expect(g.dwords("out", 7).map(u64)).toEqual([0n, 0n, 0x2n, 0x200n, 0x440n, 0n, 0n]);
  });

  it("time reads time + htimedelta (mod 2^64) when V=1", () => {
    const g = hPass(
      `
  li t0, 7
  csrw mcounteren, t0
  csrw hcounteren, t0
  csrw scounteren, t0
  li t0, 1000000
  csrw htimedelta, t0
${enterGuest(1)}
  csrr s0, time
${toM()}
  csrr s1, time
  li t0, -5
  csrw htimedelta, t0
${enterGuest(0)}
  csrr s2, time
${toM()}
  csrr s3, time
`,
    );
    const [vs, host1, vu, host2] = [g.x(8), g.x(9), g.x(18), g.x(19)];
    expect(vs - 1000000n).toBeLessThanOrEqual(host1);
    expect(host1 - (vs - 1000000n)).toBeLessThan(10n);
    expect(vu + 5n).toBeLessThanOrEqual(host2);
    expect(host2 - (vu + 5n)).toBeLessThan(10n);
  });

  it("counters: mcounteren off is illegal; hcounteren off (or scounteren in VU) is a virtual-instruction exception", () => {
    const g = hPass(
      `
${enterGuest(1)}
  rdcycle a0                      # mcounteren.CY = 0: illegal
${toM()}
  li t0, 7
  csrw mcounteren, t0
${enterGuest(1)}
  rdtime a0                       # hcounteren.TM = 0: virtual
${toM()}
  li t0, 7
  csrw hcounteren, t0
${enterGuest(1)}
  rdinstret a0                    # allowed
${toM()}
${enterGuest(0)}
  rdinstret a0                    # VU: scounteren.IR = 0: virtual
${toM()}
${enterHost(0)}
  rdinstret a0                    # plain U: scounteren.IR = 0: illegal
${toM()}
`,
    );
    expect(mTraps(g).map((t) => [t.cause, t.tval])).toEqual([
      [2n, 0xc0002573n],
      [2n, 0xffffffffn],
      [22n, 0xc0102573n],
      [2n, 0xffffffffn],
      [2n, 0xffffffffn],
      [22n, 0xc0202573n],
      [2n, 0xffffffffn],
      [2n, 0xc0202573n],
      [2n, 0xffffffffn],
    ]);
  });

  it("floating point at V=1 needs both mstatus.FS and vsstatus.FS, and dirties both", () => {
    const g = hPass(
      `
  li t0, 0x2000                   # mstatus.FS = Initial
  csrs mstatus, t0
${enterGuest(1)}
  fmv.d.x f1, zero                # vsstatus.FS = Off: illegal
  csrr a0, fflags                 # illegal too
${toM()}
  li t0, 0x2000
  csrs vsstatus, t0
${enterGuest(1)}
  fmv.d.x f1, zero
${toM()}
  csrr s0, mstatus
  csrr s1, vsstatus
`,
    );
    expect(mTraps(g).map((t) => t.cause)).toEqual([2n, 2n, 2n, 2n]);
    expect((g.x(8) >> 13n) & 3n).toBe(3n);
    expect((g.x(9) >> 13n) & 3n).toBe(3n);
  });
});

// ---------------------------------------------------------------------------
// Cross-check with the sensitivity classification of @hvkit/isa.

/** A configuration of the controls that gate CSR accesses, as the classification names them. */
interface Config {
  name: string;
  mFs: number;
  vsFs: number;
  tvm: number;
  vtvm: number;
  mcounteren: number;
  hcounteren: number;
  scounteren: number;
  mStce: number;
  hStce: number;
}

const CONFIGS: Config[] = [
  {
    name: "all on",
    mFs: 1,
    vsFs: 1,
    tvm: 0,
    vtvm: 0,
    mcounteren: -1,
    hcounteren: -1,
    scounteren: -1,
    mStce: 1,
    hStce: 1,
  },
  {
    name: "all off",
    mFs: 0,
    vsFs: 0,
    tvm: 1,
    vtvm: 1,
    mcounteren: 0,
    hcounteren: 0,
    scounteren: 0,
    mStce: 0,
    hStce: 0,
  },
  {
    name: "hypervisor gates",
    mFs: 1,
    vsFs: 0,
    tvm: 1,
    vtvm: 1,
    mcounteren: -1,
    hcounteren: 0,
    scounteren: -1,
    mStce: 1,
    hStce: 0,
  },
  {
    name: "user gates",
    mFs: 1,
    vsFs: 1,
    tvm: 0,
    vtvm: 0,
    mcounteren: 0x5,
    hcounteren: -1,
    scounteren: 0,
    mStce: 1,
    hStce: 1,
  },
];

function controls(c: Config): Record<string, number> {
  const r: Record<string, number> = {
    "mstatus.FS": c.mFs,
    "vsstatus.FS": c.vsFs,
    "mstatus.TVM": c.tvm,
    "hstatus.VTVM": c.vtvm,
    "menvcfg.STCE": c.mStce,
    "henvcfg.STCE": c.hStce,
  };
  for (let i = 0; i < 32; i++) {
    const b = i === 0 ? "CY" : i === 1 ? "TM" : i === 2 ? "IR" : `HPM${i}`;
    r[`mcounteren.${b}`] = (c.mcounteren >>> i) & 1;
    r[`hcounteren.${b}`] = (c.hcounteren >>> i) & 1;
    r[`scounteren.${b}`] = (c.scounteren >>> i) & 1;
  }
  return r;
}

const MODES: [Mode, number, number][] = [
  ["U", PRV_U, 0],
  ["S", PRV_S, 0],
  ["M", PRV_M, 0],
  ["VS", PRV_S, 1],
  ["VU", PRV_U, 1],
];

/** Execute one CSR access on a fresh hart in `mode` under `config`; the exception it raises, or null. */
function hartTrap(
  m: BareMachine,
  csr: number,
  access: CsrAccess,
  priv: number,
  virt: number,
  c: Config,
): TrapCause | null {
  const h = m.hart;
  h.reset(BigInt(BARE_RAM_BASE));
  const w = (n: number, lo: number, hi = 0) => writeCsr(h, n, lo, hi);
  w(CSR.mstatus, (c.mFs ? 0x2000 : 0) | (c.tvm ? 1 << 20 : 0));
  w(CSR.vsstatus, c.vsFs ? 0x2000 : 0);
  w(CSR.hstatus, c.vtvm ? 1 << 20 : 0);
  w(CSR.mcounteren, c.mcounteren);
  w(CSR.hcounteren, c.hcounteren);
  w(CSR.scounteren, c.scounteren);
  w(CSR.menvcfg, 0, c.mStce ? 0x80000000 : 0);
  w(CSR.henvcfg, 0, c.hStce ? 0x80000000 : 0);
  // csrrs a0, csr, x0 (reads only) or csrrw x0, csr, a1 (writes only).
  const insn =
    access === "read"
      ? (csr << 20) | (2 << 12) | (10 << 7) | 0x73
      : (csr << 20) | (11 << 15) | (1 << 12) | 0x73;
  new DataView(m.ram.buffer, m.ram.byteOffset).setUint32(0, insn >>> 0, true);
  h.ramChanged(BARE_RAM_BASE, 4);
  h.setMode(priv, virt);
  h.guestExits.exceptions = -1;
  h.exitOnException[priv] = -1;
  const r = h.run(1);
  if (r === ExitReason.BUDGET) return null;
  expect(r).toBe(ExitReason.TRAP);
  if (h.exit.cause === Cause.ILLEGAL_INSTRUCTION) return "illegal-instruction";
  if (h.exit.cause === Cause.VIRTUAL_INSTRUCTION) return "virtual-instruction";
  throw new Error(`unexpected cause ${h.exit.cause}`);
}

describe("every CSR access against the sensitivity classification", () => {
  it("raises exactly the exception @hvkit/isa classifies, in U, HS, M, VS and VU, under four configurations", () => {
    const m = new BareMachine({ ramSize: 64 * 1024, hypervisor: true });
    const mismatches: string[] = [];
    let checked = 0;
    // The odd pmpcfg registers exist only on RV32: the hart (RV64) makes them illegal, which the
    // classification does not model yet, so they are left out here (see the note in the report).
    const numbers = [...allCsrs().map(([n]) => n), 0x60c, 0x5a8, 0x7b0, 0xfff].filter(
      (n) => !(n >= 0x3a1 && n <= 0x3af && (n & 1) === 1),
    );
    for (const csr of numbers) {
      for (const access of ["read", "write"] as const) {
        for (const [mode, priv, virt] of MODES) {
          const rule = classifyCsr(csr, access, mode).trap;
          for (const c of CONFIGS) {
            const want = evaluateTrap(rule, controls(c));
            const got = hartTrap(m, csr, access, priv, virt, c);
            checked++;
            if (got !== want) {
              mismatches.push(
                `${access} 0x${csr.toString(16)} in ${mode} (${c.name}): hart ${got}, classified ${want}`,
              );
            }
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(5000);
  });

  it("an H CSR is still illegal from HS-mode when the write targets a read-only one, and from U-mode always", () => {
    const g = hPass(
      `
${enterHost(1)}
  csrr a0, hgeip                  # read-only: reading is fine
  csrw hgeip, zero                # writing is illegal
  csrr a0, hstatus
${toM()}
${enterHost(0)}
  csrr a0, hstatus                # U-mode: illegal
${toM()}
`,
    );
    expect(mTraps(g).map((t) => t.cause)).toEqual([2n, 2n, 2n, 2n]);
  });
});
