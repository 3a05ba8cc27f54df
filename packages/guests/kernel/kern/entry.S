/*
 * hvkit-kernel: boot entry, the trap vector, trap return and the context
 * switch. Entered like Linux (RISC-V boot protocol): S-mode, a0 = hart id,
 * a1 = devicetree address, satp = 0.
 */
#include "asm-offsets.h"
#include <hvkit_pv.h>

  .section .text.entry, "ax", @progbits
  .globl _start
_start:
  /* No interrupts until the trap vector is set; sscratch = 0 means "in the kernel". */
  csrw sie, zero
  csrw sscratch, zero
  la sp, boot_stack_top
  /* Clear .bss: C relies on it, and the loader need not have done it. a0/a1 are kept. */
  la t0, __bss_start
  la t1, __bss_end
1:
  bgeu t0, t1, 2f
  sd zero, 0(t0)
  addi t0, t0, 8
  j 1b
2:
  call kmain
  /* kmain never returns; if it did, stop here rather than run off into data. */
3:
  wfi
  j 3b

  .section .text
/*
 * One trap vector for traps from U-mode and from S-mode (stvec direct mode).
 * sscratch holds the current process's trapframe while it runs in U-mode and
 * 0 while the kernel runs, so swapping it with sp tells the two apart:
 *  - from U-mode: sp becomes the trapframe at the top of the process's kernel
 *    stack; the user sp is parked in sscratch until saved;
 *  - from S-mode (an interrupt in the idle loop, or a kernel bug): sp becomes
 *    0; swap back and push a trapframe on the current kernel stack.
 */
  .balign 4
  .globl trap_vector
trap_vector:
  csrrw sp, sscratch, sp
  bnez sp, 1f
  csrrw sp, sscratch, sp
  addi sp, sp, -TF_SIZE
  SAVE_GPRS
  addi t0, sp, TF_SIZE
  sd t0, TF_X(2)(sp)
  j 2f
1:
  SAVE_GPRS
  csrr t0, sscratch
  sd t0, TF_X(2)(sp)
  csrw sscratch, zero
2:
  csrr t0, sepc
  csrr t1, sstatus
  csrr t2, scause
  csrr t3, stval
  sd t0, TF_SEPC(sp)
  sd t1, TF_SSTATUS(sp)
  sd t2, TF_SCAUSE(sp)
  sd t3, TF_STVAL(sp)
  mv a0, sp
  call trap_handler
  mv a0, sp
  /* fall through */

/*
 * trap_exit(tf): resume the context saved in tf. Returning to U-mode
 * (sstatus.SPP = 0) arms sscratch with tf for the next trap from there.
 * Interrupts stay disabled (SIE = 0) until sret sets SIE from SPIE.
 */
  .globl trap_exit
trap_exit:
  mv sp, a0
  la t2, pv_frames_page
  ld t2, 0(t2)
  bnez t2, pv_trap_exit
  ld t0, TF_SEPC(sp)
  ld t1, TF_SSTATUS(sp)
  csrw sepc, t0
  csrw sstatus, t1
  andi t1, t1, SSTATUS_SPP_BIT
  bnez t1, 1f
  csrw sscratch, sp
1:
  RESTORE_GPRS
  ld sp, TF_X(2)(sp)
  sret

/*
 * The paravirtual build's trap entries and return (hvkit ABI: PV_SET_TRAP
 * with a kernel-mode vector): the VMM delivers a trap by saving scause, sepc,
 * stval and sstatus in the shared page (t2 = pv_frames_page) and, from
 * U-mode, switching sp to the shared page's kernel_sp (the process's
 * trapframe) after saving the user's sp in user_sp. Nothing here traps.
 */
  .balign 4
  .globl pv_trap_user
pv_trap_user:
  SAVE_GPRS
  la t2, pv_frames_page
  ld t2, 0(t2)
  ld t0, PV_SHARED_USER_SP(t2)
  sd t0, TF_X(2)(sp)
  j 1f
  .balign 4
  .globl pv_trap_kernel
pv_trap_kernel:
  addi sp, sp, -TF_SIZE
  SAVE_GPRS
  addi t0, sp, TF_SIZE
  sd t0, TF_X(2)(sp)
  la t2, pv_frames_page
  ld t2, 0(t2)
1:
  ld t0, PV_SHARED_TRAP_EPC(t2)
  ld t1, PV_SHARED_TRAP_STATUS(t2)
  ld t3, PV_SHARED_TRAP_CAUSE(t2)
  ld t4, PV_SHARED_TRAP_TVAL(t2)
  sd t0, TF_SEPC(sp)
  sd t1, TF_SSTATUS(sp)
  sd t3, TF_SCAUSE(sp)
  sd t4, TF_STVAL(sp)
  mv a0, sp
  call trap_handler
  mv a0, sp
  j trap_exit

/* trap_exit's paravirtual half: the frame goes to the shared page, PV_TRAP_RETURN resumes it. */
pv_trap_exit:
  ld t0, TF_SEPC(sp)
  ld t1, TF_SSTATUS(sp)
  sd t0, PV_SHARED_TRAP_EPC(t2)
  sd t1, PV_SHARED_TRAP_STATUS(t2)
  andi t1, t1, SSTATUS_SPP_BIT
  bnez t1, 1f
  sd sp, PV_SHARED_KERNEL_SP(t2)
1:
  ld t0, TF_X(16)(sp)
  sd t0, PV_SHARED_RET_A6(t2)
  ld t0, TF_X(17)(sp)
  sd t0, PV_SHARED_RET_A7(t2)
  RESTORE_GPRS
  ld sp, TF_X(2)(sp)
  li a6, PV_TRAP_RETURN
  li a7, PV_EID
  ecall

/*
 * swtch(old, new): save the callee-saved registers, sp and ra in *old and
 * resume the context in *new (struct context in kernel.h).
 */
  .globl swtch
swtch:
  sd ra, 0(a0)
  sd sp, 8(a0)
  sd s0, 16(a0)
  sd s1, 24(a0)
  sd s2, 32(a0)
  sd s3, 40(a0)
  sd s4, 48(a0)
  sd s5, 56(a0)
  sd s6, 64(a0)
  sd s7, 72(a0)
  sd s8, 80(a0)
  sd s9, 88(a0)
  sd s10, 96(a0)
  sd s11, 104(a0)
  ld ra, 0(a1)
  ld sp, 8(a1)
  ld s0, 16(a1)
  ld s1, 24(a1)
  ld s2, 32(a1)
  ld s3, 40(a1)
  ld s4, 48(a1)
  ld s5, 56(a1)
  ld s6, 64(a1)
  ld s7, 72(a1)
  ld s8, 80(a1)
  ld s9, 88(a1)
  ld s10, 96(a1)
  ld s11, 104(a1)
  ret

  .section .bss
  .balign 16
boot_stack:
  .space 16384
boot_stack_top:
