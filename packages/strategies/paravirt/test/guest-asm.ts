/**
 * Assembly shared by the paravirtual test guests: a hypercall, and console
 * output through the SBI DBCN extension (print_str, putc, print_int,
 * print_hex_low).
 */
import { PV_EID } from "../src/index.js";

/** A hypercall of function `fid` with a0..a3 already set (clobbers a6, a7; results in a0, a1). */
export const call = (fid: number): string => `  li a6, ${fid}\n  li a7, ${PV_EID}\n  ecall\n`;

/** print_str (a0: string), putc (a0), print_int (a0: |a0| < 10000, four digits), print_hex_low (a0: low word). */
export const PRINT_ROUTINES = `# a0: NUL-terminated string
print_str:
  mv t5, a0
1:lbu a0, 0(t5)
  beqz a0, 2f
  li a7, 0x4442434E
  li a6, 2
  ecall
  addi t5, t5, 1
  j 1b
2:ret

putc:
  li a7, 0x4442434E
  li a6, 2
  ecall
  ret

# a0: a small signed number (|a0| < 10000), in decimal
print_int:
  addi sp, sp, -16
  sd ra, 0(sp)
  mv t4, a0
  bgez t4, 1f
  li a0, '-'
  call putc
  neg t4, t4
1:li t3, 1000
2:divu a0, t4, t3
  remu t4, t4, t3
  addi a0, a0, '0'
  call putc
  li t2, 10
  divu t3, t3, t2
  bnez t3, 2b
  ld ra, 0(sp)
  addi sp, sp, 16
  ret

# a0: the low 32 bits in hex
print_hex_low:
  addi sp, sp, -16
  sd ra, 0(sp)
  mv t4, a0
  li t3, 28
1:srl a0, t4, t3
  andi a0, a0, 15
  addi a0, a0, '0'
  li t2, '9'
  ble a0, t2, 2f
  addi a0, a0, 39
2:call putc
  addi t3, t3, -4
  bgez t3, 1b
  ld ra, 0(sp)
  addi sp, sp, 16
  ret

`;
