/**
 * Assembled S-mode test guests for binary translation: a console (SBI DBCN
 * byte writes), a hex printer, power-off, and the guests themselves. Their
 * loops run hundreds of times so that, with the test translation options,
 * the code runs as translated blocks.
 */
import type { VmConfig } from "@hvkit/hypervisor";
import { assembleElf, type IsaProfile } from "@hvkit/isa";

/** Where the Linux boot protocol puts a kernel on the virt board. */
const KERNEL_BASE = 0x80200000n;

/** Console and power-off routines (clobber a0-a2, a6, a7, t0-t2). */
export const ROUTINES = `
# a0: NUL-terminated string
puts:
  mv t0, a0
1:lbu a0, 0(t0)
  beqz a0, 2f
  li a7, 0x4442434E
  li a6, 2
  ecall
  addi t0, t0, 1
  j 1b
2:ret

# a0: value, printed as 16 hex digits and a newline
puthex:
  mv t1, a0
  li t2, 60
1:srl a0, t1, t2
  andi a0, a0, 15
  addi a0, a0, '0'
  li t0, '9'
  ble a0, t0, 2f
  addi a0, a0, 39
2:li a7, 0x4442434E
  li a6, 2
  ecall
  addi t2, t2, -4
  bgez t2, 1b
  li a0, '\\n'
  li a7, 0x4442434E
  li a6, 2
  ecall
  ret

poweroff:
  li a0, 0
  li a1, 0
  li a6, 0
  li a7, 0x53525354
  ecall
1:j 1b
`;

/** `label: ` then the value in a register, in hex. */
export function show(label: string, reg: string): string {
  return `
  mv s11, ${reg}
  la a0, ${label}
  call puts
  mv a0, s11
  call puthex
`;
}

/** A VmConfig for a guest kernel assembled from `source` (which defines _start). */
export function guestConfig(source: string, isaProfile?: IsaProfile): VmConfig {
  return {
    kernel: assembleElf(`${source}\n${ROUTINES}`, { base: KERNEL_BASE, fileName: "guest.s" }),
    memory: 64 * 1024 * 1024,
    ...(isaProfile ? { isaProfile } : {}),
  };
}

/**
 * A guest kernel that runs every kind of sensitive instruction in a loop
 * (the interrupt-flag dance, sscratch swaps, trap CSRs, satp reads,
 * sfence.vma, sie, stvec), takes timer interrupts through stvec, waits in
 * WFI, makes SBI calls, and goes to user mode and back with sret and ecall.
 */
export const SENSITIVE_GUEST = `
.globl _start
_start:
  la sp, stack_top
  la t0, trap
  csrw stvec, t0
  li s1, 0
  li s0, 300
loop:
  csrw sscratch, s0
  csrrw t1, sscratch, s0
  add s1, s1, t1
  csrr t2, sstatus
  andi t2, t2, 0x122
  add s1, s1, t2
  csrsi sstatus, 2
  csrci sstatus, 2
  csrs sstatus, zero
  csrw sepc, s0
  csrr t3, sepc
  add s1, s1, t3
  csrw scause, s0
  csrr t3, scause
  add s1, s1, t3
  csrw stval, s0
  csrr t3, stval
  xor s1, s1, t3
  csrr t4, sie
  add s1, s1, t4
  csrr t5, stvec
  add s1, s1, t5
  csrr t6, satp
  add s1, s1, t6
  csrr t6, scounteren
  add s1, s1, t6
  sfence.vma
  addi s0, s0, -1
  bnez s0, loop
${show("str_sum", "s1")}
  # Timer interrupts: enable STIE and SIE, arm the timer, wait in WFI, three times.
  li t0, 1 << 5
  csrw sie, t0
  li s2, 0
  li s3, 3
tick:
  rdtime t0
  addi t0, t0, 500
  csrw stimecmp, t0
  csrsi sstatus, 2
1:wfi
  beqz s4, 1b
  li s4, 0
  csrci sstatus, 2
  addi s2, s2, 1
  blt s2, s3, tick
${show("str_ticks", "s2")}
  # User mode and back, 200 times: sret to user code that counts and makes a syscall.
  li s5, 0
  li s6, 200
user_loop:
  la t0, user
  csrw sepc, t0
  li t0, 1 << 8
  csrc sstatus, t0
  sret
back:
  addi s5, s5, 1
  blt s5, s6, user_loop
${show("str_user", "s7")}
  la a0, str_done
  call puts
  call poweroff

user:
  addi s7, s7, 3
  ecall
1:j 1b

.align 2
trap:
  csrr t6, scause
  bltz t6, irq
  # ecall from U: back to the kernel loop (S-mode after sret).
  la t6, back
  csrw sepc, t6
  li t6, 1 << 8
  csrs sstatus, t6
  sret
irq:
  li s4, 1
  li t6, -1
  csrw stimecmp, t6
  sret

.data
str_sum: .asciz "sum: "
str_ticks: .asciz "ticks: "
str_user: .asciz "user: "
str_done: .asciz "done\\n"
.align 4
stack: .zero 4096
stack_top:
`;

/** addi a0, zero, v as a 32-bit word (an instruction to patch in). */
export function liA0(v: number): number {
  return ((v & 0xfff) << 20) | 0x513;
}

/**
 * Self-modifying code: a hot loop calls a function on another page and
 * patches it halfway (store + fence.i); patches the instruction right after
 * the store in its own block without fence.i (the hart, like emulation, sees
 * stores at once); and rewrites a loop's own body while it runs, with
 * stores of every width.
 */
export const SMC_GUEST = `
.globl _start
_start:
  la sp, stack_top
  # 1. A function on another page, patched at iteration 100 of 300, with fence.i.
  li s0, 0
  li s1, 0
1:call func
  add s1, s1, a0
  addi s0, s0, 1
  li t0, 100
  bne s0, t0, 2f
  la t1, func
  li t2, ${liA0(5)}
  sw t2, 0(t1)
  fence.i
2:li t0, 300
  blt s0, t0, 1b
${show("str_func", "s1")}
  # 2. The next instruction of the same block, patched without fence.i, 200 times.
  li s0, 0
  li s1, 0
  la s2, next
3:andi t3, s0, 1
  li t2, ${liA0(7)}
  beqz t3, 4f
  li t2, ${liA0(9)}
4:sw t2, 0(s2)
next:
  li a0, 1
  add s1, s1, a0
  addi s0, s0, 1
  li t0, 200
  blt s0, t0, 3b
${show("str_next", "s1")}
  # 3. A loop body rewritten with sb, sh and amoswap while it runs.
  li s0, 0
  li s1, 0
  la s2, body
5:
body:
  li a0, 2
  add s1, s1, a0
  andi t0, s0, 3
  li t1, 1
  bne t0, t1, 6f
  li t2, ${liA0(3)}
  amoswap.w zero, t2, (s2)
  j 7f
6:li t1, 2
  bne t0, t1, 7f
  li t2, ${liA0(2)}
  sh t2, 0(s2)
  srli t2, t2, 16
  sh t2, 2(s2)
7:addi s0, s0, 1
  li t0, 400
  blt s0, t0, 5b
${show("str_body", "s1")}
  call poweroff

.align 12
func:
  li a0, 1
  ret

.data
str_func: .asciz "func: "
str_next: .asciz "next: "
str_body: .asciz "body: "
.align 4
stack: .zero 4096
stack_top:
`;
