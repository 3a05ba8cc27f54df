/*
 * Entry and trap vector of the bare-metal programs: S-mode, a0 = hart id,
 * a1 = devicetree (RISC-V boot protocol); no kernel, only SBI.
 */
  .section .text.entry, "ax", @progbits
  .globl _start
_start:
  csrw sie, zero
  /* FPU on (sstatus.FS = Initial) before any C: compiled for RV64GC, the code may save FP registers. */
  li t0, 1 << 13
  csrs sstatus, t0
  la sp, stack_top
  la t0, __bss_start
  la t1, __bss_end
1:
  bgeu t0, t1, 2f
  sd zero, 0(t0)
  addi t0, t0, 8
  j 1b
2:
  call bare_main
  call bare_exit
3:
  wfi
  j 3b

/*
 * bare_trap_vector: save every register but sp in a frame on the stack
 * (struct bare_frame in bare.h), call bare_trap(frame), restore and sret.
 * The handler may change frame->sepc to resume elsewhere.
 */
  .section .text
  .balign 4
  .globl bare_trap_vector
bare_trap_vector:
  addi sp, sp, -272
  sd ra, 0(sp)
  sd gp, 8(sp)
  sd tp, 16(sp)
  sd t0, 24(sp)
  sd t1, 32(sp)
  sd t2, 40(sp)
  sd s0, 48(sp)
  sd s1, 56(sp)
  sd a0, 64(sp)
  sd a1, 72(sp)
  sd a2, 80(sp)
  sd a3, 88(sp)
  sd a4, 96(sp)
  sd a5, 104(sp)
  sd a6, 112(sp)
  sd a7, 120(sp)
  sd s2, 128(sp)
  sd s3, 136(sp)
  sd s4, 144(sp)
  sd s5, 152(sp)
  sd s6, 160(sp)
  sd s7, 168(sp)
  sd s8, 176(sp)
  sd s9, 184(sp)
  sd s10, 192(sp)
  sd s11, 200(sp)
  sd t3, 208(sp)
  sd t4, 216(sp)
  sd t5, 224(sp)
  sd t6, 232(sp)
  csrr t0, sepc
  sd t0, 240(sp)
  csrr t0, scause
  sd t0, 248(sp)
  csrr t0, stval
  sd t0, 256(sp)
  mv a0, sp
  call bare_trap
  ld t0, 240(sp)
  csrw sepc, t0
  ld ra, 0(sp)
  ld gp, 8(sp)
  ld tp, 16(sp)
  ld t0, 24(sp)
  ld t1, 32(sp)
  ld t2, 40(sp)
  ld s0, 48(sp)
  ld s1, 56(sp)
  ld a0, 64(sp)
  ld a1, 72(sp)
  ld a2, 80(sp)
  ld a3, 88(sp)
  ld a4, 96(sp)
  ld a5, 104(sp)
  ld a6, 112(sp)
  ld a7, 120(sp)
  ld s2, 128(sp)
  ld s3, 136(sp)
  ld s4, 144(sp)
  ld s5, 152(sp)
  ld s6, 160(sp)
  ld s7, 168(sp)
  ld s8, 176(sp)
  ld s9, 184(sp)
  ld s10, 192(sp)
  ld s11, 200(sp)
  ld t3, 208(sp)
  ld t4, 216(sp)
  ld t5, 224(sp)
  ld t6, 232(sp)
  addi sp, sp, 272
  sret

  .section .bss
  .balign 16
stack:
  .space 16384
stack_top:
