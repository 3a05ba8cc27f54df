/**
 * Scaffolding for the H-extension tests (h-*.test.ts): a bare machine whose
 * hart has the H extension, trap handlers for M-mode, HS-mode and VS-mode
 * that log what each level sees, helpers to enter guest modes, and a
 * two-stage memory layout (VS-level tables and G-stage tables as data).
 *
 * Handlers log six dwords per trap and then resume:
 *  - M (mtvec), at s10: mcause, mepc, mtval, mtval2, mtinst, mstatus;
 *  - HS (stvec), at s9: scause, sepc, stval, htval, htinst, hstatus;
 *  - VS (vstvec), at s8: vscause, vsepc, vstval, 0, 0, vsstatus.
 * An interrupt is disabled (and its software-writable pending bit cleared)
 * and resumed. With a7 = -1 the M handler continues in M-mode at s11 (see
 * {@link toM}); else with s11 set a handler returns to s11 in the trapping
 * mode; else it skips the 4-byte trapping instruction. Handlers clobber t5
 * and t6; tests must not use s8-s11 or a7.
 */
import { assemble } from "@hvkit/isa";
import { expect } from "vitest";
import { BARE_RAM_BASE, BareMachine } from "../src/index.js";
import { EPILOGUE, type Guest, outcome } from "./helpers.js";
import { PTE, pte } from "./priv.js";

export { PTE, pte };

/** One logged trap. `tval2` is mtval2 or htval (0 for VS); `tinst` is mtinst or htinst; `status` is mstatus, hstatus or vsstatus. */
export interface HTrap {
  cause: bigint;
  epc: bigint;
  tval: bigint;
  tval2: bigint;
  tinst: bigint;
  status: bigint;
}

/** mcause/scause value of interrupt `n`. */
export const irq = (n: number): bigint => BigInt.asIntN(64, (1n << 63n) | BigInt(n));

/** mstatus.MPV (bit 39) and GVA (bit 38); hstatus fields. */
export const MPV = 1n << 39n;
export const MGVA = 1n << 38n;
export const HS = {
  GVA: 1n << 6n,
  SPV: 1n << 7n,
  SPVP: 1n << 8n,
  HU: 1n << 9n,
  VTVM: 1n << 20n,
  VTW: 1n << 21n,
  VTSR: 1n << 22n,
};

const HANDLERS = `
.align 6
mtrap:
  csrr t6, mcause
  sd t6, 0(s10)
  csrr t6, mepc
  sd t6, 8(s10)
  csrr t6, mtval
  sd t6, 16(s10)
  csrr t6, mtval2
  sd t6, 24(s10)
  csrr t6, mtinst
  sd t6, 32(s10)
  csrr t6, mstatus
  sd t6, 40(s10)
  addi s10, s10, 48
  csrr t6, mcause
  bgez t6, 3f
  li t5, 1
  sll t5, t5, t6
  csrc mie, t5
  csrc mip, t5
  mret
3:
  li t6, -1
  bne a7, t6, 1f
  li a7, 0
  li t6, 0x1800
  csrs mstatus, t6
  li t6, 1
  slli t6, t6, 39
  csrc mstatus, t6
  csrw mepc, s11
  li s11, 0
  mret
1:
  beqz s11, 2f
  csrw mepc, s11
  li s11, 0
  mret
2:
  csrr t6, mepc
  addi t6, t6, 4
  csrw mepc, t6
  mret

.align 6
strap:
  csrr t6, scause
  sd t6, 0(s9)
  csrr t6, sepc
  sd t6, 8(s9)
  csrr t6, stval
  sd t6, 16(s9)
  csrr t6, htval
  sd t6, 24(s9)
  csrr t6, htinst
  sd t6, 32(s9)
  csrr t6, hstatus
  sd t6, 40(s9)
  addi s9, s9, 48
  csrr t6, scause
  bgez t6, 3f
  li t5, 1
  sll t5, t5, t6
  csrc sie, t5
  csrc sip, t5
  csrc hie, t5
  csrc hvip, t5
  sret
3:
  beqz s11, 2f
  csrw sepc, s11
  li s11, 0
  sret
2:
  csrr t6, sepc
  addi t6, t6, 4
  csrw sepc, t6
  sret

.align 6
vstrap:
  csrr t6, scause
  sd t6, 0(s8)
  csrr t6, sepc
  sd t6, 8(s8)
  csrr t6, stval
  sd t6, 16(s8)
  sd zero, 24(s8)
  sd zero, 32(s8)
  csrr t6, sstatus
  sd t6, 40(s8)
  addi s8, s8, 48
  csrr t6, scause
  bgez t6, 3f
  li t5, 1
  sll t5, t5, t6
  csrc sie, t5
  csrc sip, t5
  sret
3:
  beqz s11, 2f
  csrw sepc, s11
  li s11, 0
  sret
2:
  csrr t6, sepc
  addi t6, t6, 4
  csrw sepc, t6
  sret
`;

let labels = 0;

/**
 * From M-mode, continue at the next instruction in guest mode `mode` (1 VS,
 * 0 VU) through mret with MPV=1, at its address plus `alias` (clobbers t0,
 * t1). Without a VS-stage mapping of this code (vsatp Bare), guest virtual
 * addresses are guest physical ones.
 */
export function enterGuest(mode: 0 | 1, alias = 0): string {
  const id = `enter_guest_${++labels}`;
  return `
  li t0, 0x1800
  csrc mstatus, t0
  li t0, ${mode << 11}
  csrs mstatus, t0
  li t0, 1
  slli t0, t0, 39
  csrs mstatus, t0
  la t0, ${id}
  li t1, ${alias}
  add t0, t0, t1
  csrw mepc, t0
  mret
${id}:
`;
}

/** The GVA alias of RAM with U set in GUEST_MEMORY's VS-stage (GVA 0xc000_0000 = GPA 0x8000_0000): `enterGuest(0, USER_ALIAS)`. */
export const USER_ALIAS = 0x40000000;

/** From M-mode, continue at the next instruction in HS-mode (0 U-mode with `mode` 0), V=0 (clobbers t0). */
export function enterHost(mode: 0 | 1): string {
  const id = `enter_host_${++labels}`;
  return `
  li t0, 0x1800
  csrc mstatus, t0
  li t0, ${mode << 11}
  csrs mstatus, t0
  li t0, 1
  slli t0, t0, 39
  csrc mstatus, t0
  la t0, ${id}
  csrw mepc, t0
  mret
${id}:
`;
}

/**
 * Return to M-mode at the next instruction by trapping with `via` (default:
 * an illegal instruction); from code running at an alias, give the alias
 * offset so M-mode resumes at the physical address.
 */
export function toM(via = ILLEGAL, alias = 0): string {
  const id = `to_m_${++labels}`;
  return `
  la s11, ${id}
  li t6, ${alias}
  sub s11, s11, t6
  li a7, -1
  ${via}
${id}:
`;
}

/** An instruction that is illegal in every mode. */
export const ILLEGAL = ".word 0xffffffff";

/** Resume at `label` after the next trap, in the trapping mode. */
export const resumeAt = (label: string): string => `  la s11, ${label}\n`;

/** Options of {@link hGuest}. */
export interface HOptions {
  /** Step budget (default 1 million). */
  maxSteps?: number;
  /** RAM size (default 4 MiB). */
  ramSize?: number;
  /** Extra data after the code (page tables, buffers). */
  data?: string;
  /** Give the hart the H extension (default true). */
  hypervisor?: boolean;
  /** PMP entries (default 0). */
  pmpEntries?: 0 | 16;
  /** Do not run: only load and reset (the caller drives the hart). */
  noRun?: boolean;
}

/** Run `main` in M-mode with the three handlers installed (mtvec, stvec, vstvec). */
export function hGuest(main: string, options: HOptions = {}): Guest {
  const hyp = options.hypervisor ?? true;
  const source = `
_start:
  la t0, mtrap
  csrw mtvec, t0
  la t0, strap
  csrw stvec, t0
${hyp ? "  la t0, vstrap\n  csrw vstvec, t0" : ""}
  la s10, mlog
  la s9, hslog
  la s8, vslog
  li s11, 0
  li a7, 0
  j main
${HANDLERS}
main:
${main}
  j pass
.align 3
mlog: .zero 1536
hslog: .zero 1536
vslog: .zero 1536
${options.data ?? ""}
${EPILOGUE}`;
  const { bytes, symbols, entry } = assemble(source, { base: BigInt(BARE_RAM_BASE) });
  let output = "";
  const machine = new BareMachine({
    ramSize: options.ramSize ?? 4 * 1024 * 1024,
    onOutput: (b) => (output += String.fromCharCode(b)),
    pmpEntries: options.pmpEntries ?? 0,
    hypervisor: hyp,
  });
  machine.ram.set(bytes, 0);
  machine.hart.ramChanged(BARE_RAM_BASE, bytes.length);
  machine.setTohost(Number(symbols.get("tohost")!), Number(symbols.get("fromhost")!));
  machine.hart.reset(entry);
  const r = options.noRun
    ? { exitCode: undefined, reason: "budget" as const, steps: 0, instret: 0 }
    : machine.run(options.maxSteps ?? 1_000_000);
  const view = new DataView(machine.ram.buffer, machine.ram.byteOffset, machine.ram.byteLength);
  const sym = (name: string): number => {
    const v = symbols.get(name);
    if (v === undefined) throw new Error(`no symbol ${name}`);
    return Number(v);
  };
  const dword = (name: string, offset = 0): bigint =>
    view.getBigInt64(sym(name) - BARE_RAM_BASE + offset, true);
  return {
    ...r,
    machine,
    get output() {
      return output;
    },
    sym,
    dword,
    dwords: (name, count) => Array.from({ length: count }, (_, i) => dword(name, 8 * i)),
    x: (i) => machine.hart.getX(i),
  };
}

/** Run and expect the program to reach `pass`. */
export function hPass(main: string, options: HOptions = {}): Guest {
  const g = hGuest(main, options);
  expect(outcome(g)).toBe("pass");
  return g;
}

function log(g: Guest, name: string, reg: number): HTrap[] {
  const count = Number(g.x(reg) - BigInt(g.sym(name))) / 48;
  const w = g.dwords(name, 6 * count);
  return Array.from({ length: count }, (_, i) => ({
    cause: w[6 * i]!,
    epc: w[6 * i + 1]!,
    tval: w[6 * i + 2]!,
    tval2: w[6 * i + 3]!,
    tinst: w[6 * i + 4]!,
    status: w[6 * i + 5]!,
  }));
}

/** Traps taken in M-mode, in order. */
export const mTraps = (g: Guest): HTrap[] => log(g, "mlog", 26);
/** Traps taken in HS-mode, in order. */
export const hsTraps = (g: Guest): HTrap[] => log(g, "hslog", 25);
/** Traps taken in VS-mode, in order. */
export const vsTraps = (g: Guest): HTrap[] => log(g, "vslog", 24);
/** Causes of logged traps. */
export const causes = (t: HTrap[]): bigint[] => t.map((x) => x.cause);

/** hgatp value expression for a G-stage root at `label`: mode 8 (Sv39x4) or 9 (Sv48x4), with `vmid`. */
export const hgatp = (label: string, mode: 8 | 9 = 8, vmid = 0): string =>
  `((${label} >> 12) | (${vmid} << 44) | (${mode} << 60))`;

const { V, R, W, X, U, A, D } = PTE;

/**
 * Guest memory for two-stage tests.
 *
 * G-stage (Sv39x4, root `groot`; Sv48x4 root `groot48`), guest physical to
 * supervisor physical:
 *  - GPA 0x8000_0000 + 1 GiB: RAM, identity (gigapage, U R W X A D);
 *  - GPA 0x100_0000_0000 (root index 1024, above 2^40): RAM again (gigapage);
 *  - GPA 0x4000_0000 + 0x1000 i (table gl0): i=0 unmapped (the MMIO hole),
 *    1 `gp_rw` (U R W A D), 2 `gp_r` (U R A), 3 `gp_x` (U X A), 4 `gp_rw`
 *    without U, 5 `gp_ad` (U R W, A and D clear), 6 `gp_pt` read-only (a
 *    VS-level table whose leaf has A and D clear), 7 `gp_rwx` (U R W X A D);
 *  - GPA 0x4020_0000: a megapage onto RAM 0x8020_0000 (U R W X A D);
 *  - GPA 0x4040_0000: a misaligned megapage (guest-page fault);
 *  - GPA 0x4060_0000: a non-leaf entry with A set (reserved: guest-page fault).
 *
 * VS-stage (Sv39, root `vsroot` at its own address as GPA), guest virtual to
 * guest physical:
 *  - GVA 0x8000_0000 + 1 GiB: GPA 0x8000_0000 (gigapage, R W X A D);
 *  - GVA 0xc000_0000 + 1 GiB: the same with U, for VU-mode code;
 *  - GVA 0x1000 i (table vsl0) maps GPA 0x4000_0000 + 0x1000 i (R W X A D)
 *    for i = 0..7; i=8 is invalid; i=9 user (U R W A D) onto GPA 0x4000_1000;
 *    i=10 onto GPA 0x100_8000_0000 + (vs_target - RAM) (above 2^32);
 *    i=11 onto GPA 2^41 (beyond Sv39x4); i=12 onto GPA 0x4000_5000 with A and
 *    D clear; i=13 execute-only (X A) onto GPA 0x4000_7000; i=14 onto GPA
 *    2^50 (beyond Sv48x4);
 *  - GVA 0x20_0000: a megapage onto GPA 0x4020_0000 (R W X A D);
 *  - GVA 0x40_0000 + 2 MiB: its level-0 table is at GPA 0x4000_0000, which
 *    G-stage does not map (an implicit guest-page fault);
 *  - GVA 0x60_0000: its level-0 table is `gp_pt` (GPA 0x4000_6000), which
 *    G-stage maps read-only: setting A in its leaf is an implicit store;
 *  - GVA 0x80_0000: a misaligned megapage (a VS-stage page fault).
 * `vsroot48` is an Sv48 root over the same tables. `hsroot` is an HS-level
 * Sv39 root (for satp): VA 0x8000_0000 identity, VA 0x1000 onto `gp_r`.
 * Every VS-stage entry grants R W X, so that permission faults there come
 * from the G-stage, except where noted.
 */
export const GUEST_MEMORY = `
.align 14
groot:
  .zero 8
  ${pte("gl1", V)}                                   # [1] GPA 0x4000_0000
  ${pte("0x80000000", V | R | W | X | U | A | D)}   # [2] GPA 0x8000_0000: RAM (identity)
  .zero (1024 - 3) * 8
  ${pte("0x80000000", V | R | W | X | U | A | D)}   # [1024] GPA 0x100_0000_0000: RAM
  ${pte("0x80000000", V | R | W | X | U | A | D)}   # [1025] GPA 0x100_4000_0000: RAM
  ${pte("0x80000000", V | R | W | X | U | A | D)}   # [1026] GPA 0x100_8000_0000: RAM
  .zero (2048 - 1027) * 8
groot48:                                             # Sv48x4 root: [0] -> groot's first 512 entries
  ${pte("groot", V)}
  .zero (2048 - 1) * 8
gl1:
  ${pte("gl0", V)}                                   # [0] GPA 0x4000_0000 .. 0x401f_ffff
  ${pte("0x80200000", V | R | W | X | U | A | D)}   # [1] GPA 0x4020_0000: megapage
  ${pte("0x80201000", V | R | W | X | U | A | D)}   # [2] GPA 0x4040_0000: misaligned megapage
  ${pte("gl0", V | A)}                               # [3] GPA 0x4060_0000: non-leaf with A
  .zero 4096 - 32
gl0:
  .dword 0                                           # [0] GPA 0x4000_0000: MMIO hole
  ${pte("gp_rw", V | R | W | U | A | D)}             # [1]
  ${pte("gp_r", V | R | U | A)}                      # [2]
  ${pte("gp_x", V | X | U | A)}                      # [3]
  ${pte("gp_rw", V | R | W | A | D)}                 # [4] no U
  ${pte("gp_ad", V | R | W | U)}                     # [5] A and D clear
  ${pte("gp_pt", V | R | U | A | D)}                 # [6] read-only: a VS-level table
  ${pte("gp_rwx", V | R | W | X | U | A | D)}        # [7]
  .zero 4096 - 64
vsroot:
  ${pte("vsl1", V)}                                  # [0] GVA 0 .. 1 GiB
  .zero 8
  ${pte("0x80000000", V | R | W | X | A | D)}       # [2] GVA 0x8000_0000: kernel (identity)
  ${pte("0x80000000", V | R | W | X | U | A | D)}   # [3] GVA 0xc000_0000: user alias
  .zero 4096 - 32
vsl1:
  ${pte("vsl0", V)}                                  # [0] GVA 0 .. 0x1f_ffff
  ${pte("0x40200000", V | R | W | X | A | D)}       # [1] GVA 0x20_0000: megapage
  ${pte("0x40000000", V)}                            # [2] GVA 0x40_0000: next table in the MMIO hole
  ${pte("0x40006000", V)}                            # [3] GVA 0x60_0000: next table G-stage read-only
  ${pte("0x40201000", V | R | W | A | D)}           # [4] GVA 0x80_0000: misaligned megapage
  .zero 4096 - 40
vsl0:
  ${pte("0x40000000", V | R | W | X | A | D)}       # [0]
  ${pte("0x40001000", V | R | W | X | A | D)}       # [1]
  ${pte("0x40002000", V | R | W | X | A | D)}       # [2]
  ${pte("0x40003000", V | R | W | X | A | D)}       # [3]
  ${pte("0x40004000", V | R | W | X | A | D)}       # [4]
  ${pte("0x40005000", V | R | W | X | A | D)}       # [5]
  ${pte("0x40006000", V | R | W | X | A | D)}       # [6]
  ${pte("0x40007000", V | R | W | X | A | D)}       # [7]
  .dword 0                                           # [8] invalid
  ${pte("0x40001000", V | R | W | U | A | D)}       # [9] user
  ${pte("0x10080000000 + (vs_target - 0x80000000)", V | R | W | A | D)}  # [10] GPA above 2^32
  ${pte("0x20000000000", V | R | W | A | D)}        # [11] GPA 2^41: beyond Sv39x4
  ${pte("0x40005000", V | R | W)}                    # [12] A and D clear, onto gp_ad
  ${pte("0x40007000", V | X | A)}                    # [13] execute-only
  ${pte("0x4000000000000", V | R | W | A | D)}      # [14] GPA 2^50: beyond Sv48x4
  .zero 4096 - 120
vsroot48:                                            # Sv48 root: [0] -> vsroot as level 2
  ${pte("vsroot", V)}
  .zero 4096 - 8
hsroot:                                              # HS-level Sv39 (satp), for V=0 next to V=1
  ${pte("hsl1", V)}
  .zero 8
  ${pte("0x80000000", V | R | W | X | A | D)}       # [2] VA 0x8000_0000: identity
  .zero 4096 - 24
hsl1:
  ${pte("hsl0", V)}
  .zero 4096 - 8
hsl0:
  .zero 8
  ${pte("gp_r", V | R | W | A | D)}                  # [1] VA 0x1000 -> gp_r (GVA 0x1000 is gp_rw)
  .zero 4096 - 16
gp_rw:
  .dword 0x1111
  .zero 4088
gp_r:
  .dword 0x2222
  .zero 4088
gp_x:
  li a0, 33
  ret
  .zero 4088
gp_ad:
  .dword 0x5555
  .zero 4088
gp_rwx:
  li a0, 77
  ret
  .zero 4088
gp_pt:
  ${pte("0x40001000", V | R | W)}                    # a VS-level leaf, A and D clear
  .zero 4088
vs_target:
  .dword 0xabcd
  .zero 4088
`;

/** From M-mode: G-stage translation on (Sv39x4 with `groot`, or Sv48x4 with `groot48`). */
export const G_ON = (mode: 8 | 9 = 8): string => `
  li t0, ${hgatp(mode === 8 ? "groot" : "groot48", mode)}
  csrw hgatp, t0
  hfence.gvma
`;

/** From M-mode: VS-stage translation on (Sv39 with `vsroot`, or Sv48 with `vsroot48`). */
export const VS_ON = (mode: 8 | 9 = 8): string => `
  li t0, ((${mode === 8 ? "vsroot" : "vsroot48"} >> 12) | (${mode} << 60))
  csrw vsatp, t0
  hfence.vvma
`;
