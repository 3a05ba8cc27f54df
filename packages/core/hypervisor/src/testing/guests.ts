/**
 * Small deterministic S-mode guests for the contract suite, assembled at run
 * time with @hvkit/isa (so the suite needs no cross compiler). They use what
 * every strategy must virtualize: SBI calls (BASE, DBCN, legacy console,
 * SRST), CSR accesses, the Sstc timer with a trap to stvec, WFI, and
 * returning from a trap with sret.
 */
import { assembleElf } from "@hvkit/isa";
import type { ContractGuest } from "./index.js";

/** Where the Linux boot protocol puts a kernel on the virt board. */
const KERNEL_BASE = 0x80200000n;

const SBI_MACROS = `
.equ EID_BASE, 0x10
.equ EID_DBCN, 0x4442434E
.equ EID_SRST, 0x53525354
`;

/** Print the NUL-terminated string at \`label\` with DBCN console_write (clobbers a0-a7, t0). */
function print(label: string): string {
  return `
  la a1, ${label}
  mv t0, a1
1: lbu a0, 0(t0)
  beqz a0, 2f
  addi t0, t0, 1
  j 1b
2: sub a0, t0, a1
  li a2, 0
  li a6, 0
  li a7, EID_DBCN
  ecall
`;
}

/** A guest exercising SBI, CSRs, the Sstc timer interrupt, WFI and sret; it powers off with `reason`. */
function timerGuestSource(reason: number): string {
  return `${SBI_MACROS}
.globl _start
_start:
  ${print("hello")}
  # BASE.probe_extension(DBCN) must answer 1; print it with the legacy putchar.
  li a0, EID_DBCN
  li a6, 3
  li a7, EID_BASE
  ecall
  addi a0, a1, '0'
  li a7, 1
  ecall
  li a0, '\\n'
  li a7, 1
  ecall
  # Take three timer interrupts through stvec, waiting in WFI between them.
  la t0, trap
  csrw stvec, t0
  li t0, 1 << 5
  csrw sie, t0
  csrsi sstatus, 2
  li s0, 0
wait:
  rdtime t1
  addi t1, t1, 1000
  csrw stimecmp, t1
3: wfi
  la t2, ticks
  ld t2, 0(t2)
  blt t2, s0, 3b
  beq t2, s0, 3b
  addi s0, s0, 1
  li t3, 3
  blt s0, t3, wait
  ${print("timer")}
  # Power off (SRST shutdown) with the given reason.
  li a0, 0
  li a1, ${reason}
  li a6, 0
  li a7, EID_SRST
  ecall
4: j 4b

.align 2
trap:
  csrr t5, scause
  bgez t5, bad
  li t6, -1
  csrw stimecmp, t6          # acknowledge: no timer pending until re-armed
  la t5, ticks
  ld t6, 0(t5)
  addi t6, t6, 1
  sd t6, 0(t5)
  sret
bad:
  ${print("unexpected")}
5: j 5b

.data
hello: .asciz "hello from S-mode\\n"
timer: .asciz "timer: 3 interrupts\\n"
unexpected: .asciz "unexpected exception\\n"
.align 3
ticks: .dword 0
`;
}

/** The built-in guests: quick, deterministic, no artifacts needed. */
export function builtinGuests(): ContractGuest[] {
  return [
    {
      name: "sbi-timer (SBI calls, Sstc timer interrupts, WFI, sret)",
      config: () => ({
        kernel: assembleElf(timerGuestSource(0), { base: KERNEL_BASE, fileName: "sbi-timer.s" }),
        memory: 64 * 1024 * 1024,
      }),
      maxSteps: 5_000_000,
      expect: { output: /^hello from S-mode\n1\ntimer: 3 interrupts\n$/, exitStatus: 0 },
    },
    {
      name: "sbi-failure (power off reporting a system failure)",
      config: () => ({
        kernel: assembleElf(timerGuestSource(1), { base: KERNEL_BASE, fileName: "sbi-failure.s" }),
        memory: 64 * 1024 * 1024,
      }),
      maxSteps: 5_000_000,
      expect: { exitStatus: 1 },
    },
  ];
}
