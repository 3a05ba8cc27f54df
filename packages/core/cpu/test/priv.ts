/**
 * Scaffolding for privileged-architecture tests: trap handlers that log
 * what the guest sees (cause, epc, tval, status) and resume where the test
 * says, helpers to change mode, and page-table entries as data.
 */
import { expect } from "vitest";
import { type Guest, type GuestOptions, outcome, runGuest } from "./helpers.js";

/** PTE bits (privileged spec 4.3.1). */
export const PTE = { V: 1, R: 2, W: 4, X: 8, U: 16, G: 32, A: 64, D: 128 } as const;

/** One logged trap. */
export interface Trap {
  cause: bigint;
  epc: bigint;
  tval: bigint;
  status: bigint;
}

/** mcause/scause value of interrupt `n` (bit 63 set, as a signed 64-bit value). */
export const irqCause = (n: number): bigint => BigInt.asIntN(64, (1n << 63n) | BigInt(n));

/**
 * The handlers. M-mode: log (mcause, mepc, mtval, mstatus) at s10, then
 *  - for an interrupt: disable it in mie, clear it in mip (if software
 *    writable) and resume at mepc;
 *  - with a7 = -1: continue in M-mode at s11 (see {@link toM});
 *  - else if s11 is set: return (mret) to s11 in the trapping mode, clearing s11;
 *  - else: skip the 4-byte trapping instruction.
 * S-mode (stvec): the same with (scause, sepc, stval, sstatus) at s9, sie/sip and sret.
 * Both clobber t5 and t6 only.
 */
const HANDLERS = `
.align 6
mtrap:
  csrr t6, mcause
  sd t6, 0(s10)
  csrr t6, mepc
  sd t6, 8(s10)
  csrr t6, mtval
  sd t6, 16(s10)
  csrr t6, mstatus
  sd t6, 24(s10)
  addi s10, s10, 32
  csrr t6, mcause
  bgez t6, 3f
  li t5, 1
  sll t5, t5, t6            # 1 << cause (the shift uses the low 6 bits)
  csrc mie, t5
  csrc mip, t5
  mret
3:
  li t6, -1
  bne a7, t6, 1f
  li a7, 0
  li t6, 0x1800
  csrs mstatus, t6
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
  csrr t6, sstatus
  sd t6, 24(s9)
  addi s9, s9, 32
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

/** Switch to privilege `mode` (0 U, 1 S, 3 M) at the next instruction, from M-mode (clobbers t0). */
export function enter(mode: number): string {
  const id = `enter_${++labels}`;
  return `
  li t0, 0x1800
  csrc mstatus, t0
  li t0, ${mode << 11}
  csrs mstatus, t0
  la t0, ${id}
  csrw mepc, t0
  mret
${id}:
`;
}

/**
 * Return to M-mode at the next instruction by trapping with `via` (default
 * ecall; use an illegal instruction where ecall is delegated).
 */
export function toM(via = "ecall"): string {
  const id = `to_m_${++labels}`;
  return `
  la s11, ${id}
  li a7, -1
  ${via}
${id}:
`;
}

/** An instruction that is illegal in every mode, for {@link toM}. */
export const ILLEGAL = ".word 0xffffffff";

/** Resume at `label` after the next trap (in the trapping mode). */
export const resumeAt = (label: string): string => `  la s11, ${label}\n`;

/** Options of {@link privGuest}. */
export interface PrivOptions extends GuestOptions {
  /** Extra data appended after the code (page tables, buffers). */
  data?: string;
}

/** Run `main` (entered in M-mode with the handlers installed) and return the guest. */
export function privGuest(main: string, options: PrivOptions = {}): Guest {
  return runGuest(
    `
_start:
  la t0, mtrap
  csrw mtvec, t0
  la t0, strap
  csrw stvec, t0
  la s10, trap_log
  la s9, strap_log
  li s11, 0
  li a7, 0
  j main
${HANDLERS}
main:
${main}
  j pass
.align 3
trap_log: .zero 1024
strap_log: .zero 1024
${options.data ?? ""}
`,
    options,
  );
}

/** Run and expect the program to reach `pass`. */
export function privPass(main: string, options: PrivOptions = {}): Guest {
  const g = privGuest(main, options);
  expect(outcome(g)).toBe("pass");
  return g;
}

function log(g: Guest, name: string, count: number): Trap[] {
  const w = g.dwords(name, 4 * count);
  return Array.from({ length: count }, (_, i) => ({
    cause: w[4 * i]!,
    epc: w[4 * i + 1]!,
    tval: w[4 * i + 2]!,
    status: w[4 * i + 3]!,
  }));
}

/** The M-mode traps logged, in order (all of them: the count is read from s10). */
export function mtraps(g: Guest): Trap[] {
  return log(g, "trap_log", Number(g.x(26) - BigInt(g.sym("trap_log"))) / 32);
}

/** The S-mode traps logged, in order. */
export function straps(g: Guest): Trap[] {
  return log(g, "strap_log", Number(g.x(25) - BigInt(g.sym("strap_log"))) / 32);
}

/** Cause and tval of each trap, for compact expectations. */
export const brief = (t: Trap[]): [bigint, bigint][] => t.map((x) => [x.cause, x.tval]);

/** A PTE pointing at physical address `pa` (an expression) with `flags`. */
export const pte = (pa: string, flags: number): string => `.dword (((${pa}) >> 12) << 10) | ${flags}`;

/** satp value expression for a root table at `label`: mode 8 (Sv39) or 9 (Sv48). */
export const satp = (label: string, mode: 8 | 9 = 8): string => `((${label} >> 12) | (${mode} << 60))`;
