/*
 * Hand-picked encodings for the disassembler fixtures: printing rules that
 * compiled code rarely or never exercises. Each group names the rule.
 */
  .text
  .globl encodings
  .type encodings, @function
encodings:
  .option norvc
  /* jalr/jr through their aliases, with and without an offset (32-bit forms). */
  jalr x0, 0(x1)
  jalr x0, 0(t0)
  jalr x0, 8(t0)
  jalr x1, 0(t0)
  jalr x1, -12(t0)
  jalr t0, 0(t1)
  jalr t0, 4(t1)
  /* CSRs LLVM names though the hart lacks them, RV32-only ones as numbers, unnamed ones. */
  csrr a0, 0x000
  csrr a0, 0x041
  csrr a0, 0x008
  csrr a0, 0xc22
  csrr a0, 0x30c
  csrr a0, 0x3a1
  csrr a0, 0x3a2
  csrr a0, 0x7c0
  csrw 0xc80, a1
  /* Reserved fields in fence and fence.i: LLVM prints <unknown>. */
  .word 0x0ff0000f /* fence iorw, iorw */
  .word 0x0ff5000f /* fence with rs1 = a0 */
  .word 0x0ff0050f /* fence with rd = a0 */
  .word 0x8330000f /* fence.tso */
  .word 0x9330000f /* fence with fm = 1001 */
  .word 0x0000100f /* fence.i */
  .word 0x0010100f /* fence.i with imm = 1 */
  /* Exact conversions with a non-zero rounding mode: <unknown> to LLVM. */
  .word 0xd2050053 /* fcvt.d.w fa0... rm = 0 */
  .word 0xd2057053 /* rm = dyn */
  .word 0x42050053 /* fcvt.d.s rm = 0 */
  .word 0x42051053 /* rm = rtz */
  /* Rounding modes printed, dyn omitted. */
  fadd.d fa0, fa1, fa2, rne
  fadd.d fa0, fa1, fa2, rtz
  fadd.d fa0, fa1, fa2, rdn
  fadd.d fa0, fa1, fa2, rup
  fadd.d fa0, fa1, fa2, rmm
  fadd.d fa0, fa1, fa2, dyn
  /* The all-zero halfword and an unknown word. */
  .half 0
  .word 0xffffffff
  ret
  .size encodings, .-encodings
