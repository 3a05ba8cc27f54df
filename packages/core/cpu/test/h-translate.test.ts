/**
 * Two-stage address translation (H 1.0, "Two-Stage Address Translation",
 * "Guest Physical Address Translation", "Guest-Page Faults"): VS-stage
 * (vsatp) then G-stage (hgatp) for every guest access, the G-stage walk of
 * VS-level page tables, Sv39x4/Sv48x4 with their 16 KiB root, superpages in
 * both stages, the G-stage U-bit rule, MXR at each stage, A/D updates in both
 * stages, guest-page faults with mtval/mtval2/mtinst, fences, the TLB's
 * separation of V=1 and V=0 translations, MPRV with MPV, and hlv/hlvx/hsv.
 * The memory layout is GUEST_MEMORY (h-guest.ts); faults go to M-mode,
 * whose handler logs them and skips the faulting instruction.
 */
import { describe, expect, it } from "vitest";
import {
  enterGuest,
  enterHost,
  G_ON,
  GUEST_MEMORY,
  type HOptions,
  hPass,
  hsTraps,
  ILLEGAL,
  MGVA,
  MPV,
  mTraps,
  resumeAt,
  toM,
  USER_ALIAS,
  VS_ON,
} from "./h-guest.js";
import type { Guest } from "./helpers.js";

const OUT = ".align 3\nout: .zero 512\n";

function run(main: string, options: HOptions = {}): Guest {
  return hPass(main, { data: GUEST_MEMORY + OUT, maxSteps: 200_000, ...options });
}

/** [cause, mtval, mtval2, mtinst] of each M-mode trap, leaving out the illegal instructions of toM. */
const faults = (g: Guest): bigint[][] =>
  mTraps(g)
    .filter((t) => t.cause !== 2n)
    .map((t) => [t.cause, t.tval, t.tval2, t.tinst]);

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

describe("G-stage alone (vsatp Bare)", () => {
  it("a VS guest runs through hgatp: identity RAM, and RAM again at a GPA above 2^40 (root index 1026 of the 2048)", () => {
    const g = run(`
${G_ON()}
  la t0, vs_target
  li t1, 0x10080000000 - 0x80000000
  add s0, t0, t1                  # the same bytes at GPA 0x100_8xxx_xxxx
${enterGuest(1)}
  ld a0, 0(s0)
  li t0, 0x5678
  sd t0, 8(s0)
${toM()}
  la t0, vs_target
  ld a1, 8(t0)
`);
    expect(faults(g)).toEqual([]);
    expect(g.x(10)).toBe(0xabcdn);
    expect(g.x(11)).toBe(0x5678n);
  });

  it("hgatp Bare: guest physical addresses are host physical ones", () => {
    const g = run(`
  la s0, vs_target
${enterGuest(1)}
  ld a0, 0(s0)
${toM()}
`);
    expect(g.x(10)).toBe(0xabcdn);
  });

  it("the root's PPN[1:0] read as zero: a root given at groot + 3 pages is groot (16 KiB aligned)", () => {
    const g = run(`
  li t0, ((groot >> 12) | 3 | (8 << 60))
  csrw hgatp, t0
  csrr s1, hgatp
  hfence.gvma
  la t0, vs_target
  li t1, 0x10080000000 - 0x80000000
  add s0, t0, t1
${enterGuest(1)}
  ld a0, 0(s0)
${toM()}
`);
    expect(g.x(10)).toBe(0xabcdn);
    expect(u64(g.x(9)) & 3n).toBe(0n);
  });
});

describe("VS-stage and G-stage together", () => {
  it("guest virtual -> guest physical -> host physical for loads, stores and fetches, with superpages in both stages", () => {
    const g = run(`
  li t0, 0x80201234
  li t1, 0x77
  sd t1, 0(t0)
${G_ON()}
${VS_ON()}
${enterGuest(1)}
  li t0, 0x1000
  ld s0, 0(t0)                    # GVA 0x1000 -> GPA 0x4000_1000 -> gp_rw
  li t0, 0x2000
  ld s1, 0(t0)                    # -> gp_r
  li t0, 0x201234
  ld s2, 0(t0)                    # VS megapage -> GPA 0x4020_1234 -> G megapage -> 0x8020_1234
  li t0, 0x1000
  li t1, 0x99
  sd t1, 8(t0)
  li t0, 0x3000
  jalr t0                         # gp_x: execute-only at G, R W X at VS: li a0, 33
  mv s3, a0
  li t0, 0x7000
  jalr t0                         # gp_rwx: li a0, 77
  mv s4, a0
  li t0, 0xa000
  ld s5, 0(t0)                    # GPA above 2^32 -> vs_target
${toM()}
  la t0, gp_rw
  ld s6, 8(t0)
`);
    expect(faults(g)).toEqual([]);
    expect([g.x(8), g.x(9), g.x(18), g.x(19), g.x(20), g.x(21), g.x(22)]).toEqual([
      0x1111n,
      0x2222n,
      0x77n,
      33n,
      77n,
      0xabcdn,
      0x99n,
    ]);
  });

  it("Sv48 over Sv48x4 (vsroot48, groot48)", () => {
    const g = run(`
${G_ON(9)}
${VS_ON(9)}
${enterGuest(1)}
  li t0, 0x7000
  jalr t0
  mv a1, a0
  li t0, 0x1000
  ld a0, 0(t0)
  li t0, 0xb000
  ld a2, 0(t0)                    # GPA 2^41: inside Sv48x4's range, but not mapped
  li t0, 0xe000
  ld a2, 0(t0)                    # GPA 2^50: beyond Sv48x4
${toM()}
`);
    expect([g.x(10), g.x(11)]).toEqual([0x1111n, 77n]);
    expect(faults(g)).toEqual([
      [21n, 0xb000n, 1n << 39n, 0x3603n],
      [21n, 0xe000n, 1n << 48n, 0x3603n],
    ]);
  });

  it("the same VA under V=0 and V=1, with no fence between, sees each its own translation", () => {
    const g = run(`
${G_ON()}
${VS_ON()}
  li t0, ((hsroot >> 12) | (8 << 60))
  csrw satp, t0
  sfence.vma
  li s0, 0x1000
${enterHost(1)}
  ld a0, 0(s0)                    # HS: VA 0x1000 -> gp_r
${toM()}
${enterGuest(1)}
  ld a1, 0(s0)                    # VS: GVA 0x1000 -> gp_rw
${toM()}
${enterHost(1)}
  ld a2, 0(s0)
${toM()}
${enterGuest(1)}
  ld a3, 0(s0)
${toM()}
`);
    expect([g.x(10), g.x(11), g.x(12), g.x(13)]).toEqual([0x2222n, 0x1111n, 0x2222n, 0x1111n]);
  });
});

describe("guest-page faults", () => {
  it("G-stage faults of explicit accesses: cause 20/21/23, mtval = GVA, mtval2 = GPA >> 2, mtinst = the transformed instruction, GVA and MPV set", () => {
    const g = run(`
${G_ON()}
${VS_ON()}
${enterGuest(1)}
  li t0, 0x0
  ld a0, 0(t0)                    # GPA 0x4000_0000: unmapped
  li t0, 0x2000
  sd a0, 8(t0)                    # gp_r: read-only at G
  li t0, 0x3000
  lw a0, 4(t0)                    # gp_x: execute-only at G
  li t0, 0x4000
  ld a0, 0(t0)                    # G leaf without U
  li t0, 0xb000
  ld a0, 0(t0)                    # GPA 2^41: beyond Sv39x4
${resumeAt("back")}
  li t0, 0
  jalr t0                         # fetch from the hole
back:
${toM()}
`);
    expect(faults(g)).toEqual([
      [21n, 0x0n, 0x4000_0000n >> 2n, 0x3503n],
      [23n, 0x2008n, 0x4000_2008n >> 2n, 0xa03023n],
      [21n, 0x3004n, 0x4000_3004n >> 2n, 0x2503n],
      [21n, 0x4000n, 0x4000_4000n >> 2n, 0x3503n],
      [21n, 0xb000n, (1n << 41n) >> 2n, 0x3503n],
      [20n, 0x0n, 0x4000_0000n >> 2n, 0n],
    ]);
    for (const t of mTraps(g).filter((x) => x.cause !== 2n)) {
      expect(t.status & (MPV | MGVA)).toBe(MPV | MGVA);
      expect((t.status >> 11n) & 3n).toBe(1n); // MPP = S: from VS-mode
    }
  });

  it("misaligned G-stage superpages and reserved non-leaf entries fault", () => {
    const g = run(`
${G_ON()}
${enterGuest(1)}
  li t0, 0x40400000
  ld a0, 0(t0)                    # misaligned megapage
  li t0, 0x40600000
  ld a0, 0(t0)                    # non-leaf with A set
${toM()}
`);
    expect(faults(g)).toEqual([
      [21n, 0x4040_0000n, 0x4040_0000n >> 2n, 0x3503n],
      [21n, 0x4060_0000n, 0x4060_0000n >> 2n, 0x3503n],
    ]);
  });

  it("a fault in the G-stage walk of a VS-level table: htval/mtval2 is that table entry's GPA >> 2, mtinst the read pseudoinstruction, reported as the original access type", () => {
    const g = run(`
${G_ON()}
${VS_ON()}
${enterGuest(1)}
  li t0, 0x401000
  ld a0, 0(t0)
  sd a0, 0(t0)
${resumeAt("back")}
  jalr t0
back:
${toM()}
`);
    const pteGpa = (0x4000_0000n + 1n * 8n) >> 2n; // vsl0b[1] would sit at GPA 0x4000_0008
    expect(faults(g)).toEqual([
      [21n, 0x401000n, pteGpa, 0x3000n],
      [23n, 0x401000n, pteGpa, 0x3000n],
      [20n, 0x401000n, pteGpa, 0x3000n],
    ]);
  });

  it("setting A in a VS-level leaf that G-stage maps read-only faults as an implicit store: write pseudoinstruction", () => {
    const g = run(`
${G_ON()}
${VS_ON()}
${enterGuest(1)}
  li t0, 0x600000
  ld a0, 0(t0)
${toM()}
  la t0, gp_pt
  ld s0, 0(t0)
`);
    expect(faults(g)).toEqual([[21n, 0x600000n, 0x4000_6000n >> 2n, 0x3020n]]);
    expect(g.x(8) & 0xc0n).toBe(0n); // the PTE kept A and D clear
  });

  it("VS-stage faults are ordinary page faults (12/13/15) with a guest virtual address: GVA set, mtval2 zero", () => {
    const g = run(`
${G_ON()}
${VS_ON()}
${enterGuest(1)}
  li t0, 0x8000
  ld a0, 0(t0)                    # invalid VS entry
  li t0, 0x800000
  sd a0, 0(t0)                    # misaligned VS megapage
${resumeAt("back")}
  li t0, 0x8000
  jalr t0
back:
${toM()}
`);
    expect(faults(g)).toEqual([
      [13n, 0x8000n, 0n, 0x3503n],
      [15n, 0x800000n, 0n, 0xa03023n],
      [12n, 0x8000n, 0n, 0n],
    ]);
    for (const t of mTraps(g).filter((x) => x.cause !== 2n)) expect(t.status & MGVA).toBe(MGVA);
  });

  it("delegated by medeleg, guest-page faults go to HS-mode with htval and htinst; hedeleg cannot pass them to VS", () => {
    const g = run(`
${G_ON()}
${VS_ON()}
  li t0, (1 << 21) | (1 << 23)
  csrw medeleg, t0
  li t0, -1
  csrw hedeleg, t0
${enterGuest(1)}
  li t0, 0x0
  ld a0, 0(t0)
  li t0, 0x2000
  sw a0, 0(t0)
${toM()}
`);
    const hs = hsTraps(g).map((t) => [t.cause, t.tval, t.tval2, t.tinst]);
    expect(hs).toEqual([
      [21n, 0x0n, 0x4000_0000n >> 2n, 0x3503n],
      [23n, 0x2000n, 0x4000_2000n >> 2n, 0xa02023n],
    ]);
    // hstatus: SPV = 1, SPVP = 1 (from VS), GVA = 1.
    for (const t of hsTraps(g)) expect(t.status & 0x1c0n).toBe(0x1c0n);
  });
});

describe("permissions", () => {
  it("G-stage checks every guest access as a U-mode access; the VS-stage U bit follows VS/VU and vsstatus.SUM", () => {
    const g = run(`
${G_ON()}
${VS_ON()}
${enterGuest(1)}
  li t0, 0x9000
  ld a0, 0(t0)                    # VS: user page without SUM: page fault
  li t0, 0x40000
  csrs sstatus, t0                # SUM (vsstatus)
  li t0, 0x9000
  ld a1, 0(t0)                    # now readable
${resumeAt("b1")}
  jalr t0                         # but never executable from VS
b1:
${toM()}
${enterGuest(0, USER_ALIAS)}
  li t0, 0x9000
  ld a2, 0(t0)                    # VU: user page
  li t0, 0x1000
  ld a3, 0(t0)                    # VU: supervisor page: page fault
${toM(ILLEGAL, USER_ALIAS)}
`);
    expect([g.x(11), g.x(12)]).toEqual([0x1111n, 0x1111n]);
    expect(faults(g).map(([c, v]) => [c, v])).toEqual([
      [13n, 0x9000n],
      [12n, 0x9000n],
      [13n, 0x1000n],
    ]);
  });

  it("vsstatus.MXR reads execute-only pages of the VS stage only; the HS-level MXR reads them in both stages", () => {
    const g = run(`
${G_ON()}
${VS_ON()}
${enterGuest(1)}
  li t0, 0xd000
  lw a0, 0(t0)                    # VS execute-only: page fault
  li t0, 0x3000
  lw a1, 0(t0)                    # G execute-only: guest-page fault
  li t0, 0x80000
  csrs sstatus, t0                # vsstatus.MXR
  li t0, 0xd000
  lw a2, 0(t0)                    # readable now
  li t0, 0x3000
  lw a3, 0(t0)                    # still a guest-page fault
${toM()}
  li t0, 0x80000
  csrs mstatus, t0                # HS-level MXR
  li t0, 0x80000
  csrc vsstatus, t0
${enterGuest(1)}
  li t0, 0xd000
  lw a4, 0(t0)
  li t0, 0x3000
  lw a5, 0(t0)
${toM()}
`);
    expect(faults(g).map(([c, v]) => [c, v])).toEqual([
      [13n, 0xd000n],
      [21n, 0x3000n],
      [21n, 0x3000n],
    ]);
    const liA0_77 = 0x04d00513n; // li a0, 77
    const liA0_33 = 0x02100513n; // li a0, 33
    expect([g.x(12), g.x(14), g.x(15)]).toEqual([liA0_77, liA0_77, liA0_33]);
  });
});

describe("A and D bits", () => {
  it("the hart sets A on access and D on store, in the VS-level PTE and in the G-stage PTE", () => {
    const g = run(`
${G_ON()}
${VS_ON()}
${enterGuest(1)}
  li t0, 0xc000
  ld a0, 0(t0)
${toM()}
  la t0, vsl0
  ld s0, 12*8(t0)
  la t0, gl0
  ld s1, 5*8(t0)
${enterGuest(1)}
  li t0, 0xc000
  sd a0, 8(t0)
${toM()}
  la t0, vsl0
  ld s2, 12*8(t0)
  la t0, gl0
  ld s3, 5*8(t0)
`);
    expect(faults(g)).toEqual([]);
    expect(g.x(10)).toBe(0x5555n);
    expect([g.x(8) & 0xc0n, g.x(9) & 0xc0n, g.x(18) & 0xc0n, g.x(19) & 0xc0n]).toEqual([
      0x40n,
      0x40n,
      0xc0n,
      0xc0n,
    ]);
  });
});

describe("fences", () => {
  it("a changed G-stage PTE is seen after hfence.gvma; a changed VS-level PTE after sfence.vma in VS-mode", () => {
    const g = run(`
${G_ON()}
${VS_ON()}
  li s0, 0x1000
${enterGuest(1)}
  ld a0, 0(s0)                    # gp_rw
${toM()}
  la t0, gl0
  la t1, gp_r
  srli t1, t1, 12
  slli t1, t1, 10
  ori t1, t1, 0x53                # V R U A
  sd t1, 8(t0)                    # GPA 0x4000_1000 -> gp_r
  hfence.gvma
${enterGuest(1)}
  ld a1, 0(s0)                    # gp_r now
  la t0, vsl0
  li t1, (0x40007000 >> 2) | 0xcf
  sd t1, 8(t0)                    # GVA 0x1000 -> GPA 0x4000_7000 (gp_rwx)
  sfence.vma s0
  ld a2, 0(s0)
${toM()}
`);
    expect(faults(g)).toEqual([]);
    expect(g.x(10)).toBe(0x1111n);
    expect(g.x(11)).toBe(0x2222n);
    expect(g.x(12)).toBe(0x8067_04d0_0513n); // li a0, 77; ret
  });

  it("sfence.vma in VS-mode with an address inside a VS-stage megapage drops the megapage's other cached pieces", () => {
    const g = run(
      `
${G_ON()}
${VS_ON()}
  li t0, 0x80201000
  li t1, 0x201
  sd t1, 0(t0)
  li t0, 0x80401000
  li t1, 0x401
  sd t1, 0(t0)
${enterGuest(1)}
  li s0, 0x201000
  ld a0, 0(s0)                    # VS megapage -> GPA 0x4020_1000 -> RAM 0x8020_1000
  la t0, vsl1
  li t1, (0x80400000 >> 2) | 0xcf
  sd t1, 8(t0)                    # the megapage now maps GPA 0x8040_0000 (RAM, identity)
  li t0, 0x200000
  sfence.vma t0                   # another 4 KiB piece of the same megapage
  ld a1, 0(s0)
${toM()}
`,
      { ramSize: 8 * 1024 * 1024 },
    );
    expect(faults(g)).toEqual([]);
    expect([g.x(10), g.x(11)]).toEqual([0x201n, 0x401n]);
  });

  it("hfence.vvma with an address, from HS-mode, drops that guest page", () => {
    const g = run(`
${G_ON()}
${VS_ON()}
  li s0, 0x1000
${enterGuest(1)}
  ld a0, 0(s0)
${toM()}
  la t0, vsl0
  li t1, (0x40002000 >> 2) | 0xcf
  sd t1, 8(t0)                    # GVA 0x1000 -> GPA 0x4000_2000 (gp_r)
${enterHost(1)}
  hfence.vvma s0
${toM()}
${enterGuest(1)}
  ld a1, 0(s0)
${toM()}
`);
    expect([g.x(10), g.x(11)]).toEqual([0x1111n, 0x2222n]);
  });
});

describe("MPRV with MPV", () => {
  it("M-mode loads and stores with MPRV=1 and MPV=1 translate in two stages as VS (MPP=S) or VU (MPP=U) would", () => {
    const g = run(`
${G_ON()}
${VS_ON()}
  li t0, 1
  slli t0, t0, 39
  csrs mstatus, t0                # MPV
  li t0, 0x1800
  csrc mstatus, t0
  li t0, 0x20800                  # MPRV, MPP = S
  csrs mstatus, t0
  li t1, 0x1000
  ld a0, 0(t1)                    # GVA 0x1000 -> gp_rw
  li t0, 0x800
  csrc mstatus, t0                # MPP = U: VU
  ld a1, 0(t1)                    # supervisor page: page fault (from M-mode, GVA set)
  li t0, 0x20000
  csrc mstatus, t0
`);
    expect(g.x(10)).toBe(0x1111n);
    const t = mTraps(g);
    expect(t.map((x) => [x.cause, x.tval])).toEqual([[13n, 0x1000n]]);
    expect(t[0]!.status & (MPV | MGVA)).toBe(MGVA); // the trap came from M-mode: MPV = 0, GVA = 1
    expect((t[0]!.status >> 11n) & 3n).toBe(3n);
  });
});

describe("hlv, hlvx and hsv", () => {
  it("from HS-mode, access guest memory as VS (SPVP=1) or VU (SPVP=0) would, through both stages", () => {
    const g = run(`
${G_ON()}
${VS_ON()}
  li t0, 1 << 8
  csrs hstatus, t0                # SPVP = VS
${enterHost(1)}
  li t0, 0x1000
  hlv.d a0, (t0)
  li t1, -2
  hsv.w t1, (t0)
  hlv.w a1, (t0)
  hlv.wu a2, (t0)
  hlv.b a3, (t0)
  hlv.hu a4, (t0)
  li t0, 0xd000
  hlvx.wu a5, (t0)                # VS execute-only: readable by hlvx
  lw zero, 0(zero)                # (a plain access is HS-level: nothing of the guest)
${toM()}
  li t0, 1 << 8
  csrc hstatus, t0                # SPVP = VU
${enterHost(1)}
  li t0, 0x1000
  hlv.d a6, (t0)                  # supervisor page as VU: page fault
  li t0, 0x9000
  hlv.d a7, (t0)
${toM()}
`);
    expect([g.x(10), g.x(11), g.x(12), g.x(13), g.x(14), g.x(15)]).toEqual([
      0x1111n,
      -2n,
      0xfffffffen,
      -2n,
      0xfffen,
      0x04d00513n,
    ]);
    const t = mTraps(g).filter((x) => x.cause !== 2n);
    // lw zero, 0(zero): HS-level, satp Bare: address 0 is not RAM (access fault, GVA = 0).
    expect(t.map((x) => [x.cause, x.tval, x.tinst])).toEqual([
      [5n, 0n, 0x2003n], // lw zero, 0(zero) transformed
      [13n, 0x1000n, 0x6c004873n], // hlv.d a6, (t0) with rs1 replaced by the offset 0
    ]);
    // The hlv fault: GVA = 1 but MPV = 0 (the trap came from HS-mode).
    expect(t[1]!.status & (MPV | MGVA)).toBe(MGVA);
  });

  it("hlvx needs execute permission in both stages; hlv needs read permission", () => {
    const g = run(`
${G_ON()}
${VS_ON()}
  li t0, 1 << 8
  csrs hstatus, t0
${enterHost(1)}
  li t0, 0x3000
  hlvx.hu a0, (t0)                # G execute-only: fine for hlvx
  hlv.hu a1, (t0)                 # guest-page fault
  li t0, 0x1000
  hlvx.wu a2, (t0)                # gp_rw is not executable at G: guest-page fault
${toM()}
`);
    expect(g.x(10)).toBe(0x0513n);
    expect(faults(g).map(([c, v, gpa]) => [c, v, gpa])).toEqual([
      [21n, 0x3000n, 0x4000_3000n >> 2n],
      [21n, 0x1000n, 0x4000_1000n >> 2n],
    ]);
  });

  it("in U-mode they need hstatus.HU; in VS-mode and VU-mode they raise virtual-instruction", () => {
    const g = run(`
${G_ON()}
${VS_ON()}
  li t0, 1 << 8
  csrs hstatus, t0
${enterHost(0)}
  li t0, 0x1000
  hlv.d a0, (t0)                  # HU = 0: illegal
${toM()}
  li t0, 1 << 9
  csrs hstatus, t0                # HU
${enterHost(0)}
  li t0, 0x1000
  hlv.d a1, (t0)
${toM()}
${enterGuest(1)}
  li t0, 0x1000
  hlv.d a2, (t0)
  hsv.d a2, (t0)
${toM()}
`);
    expect(g.x(11)).toBe(0x1111n);
    expect(mTraps(g).map((t) => t.cause)).toEqual([2n, 2n, 2n, 22n, 22n, 2n]);
  });
});
