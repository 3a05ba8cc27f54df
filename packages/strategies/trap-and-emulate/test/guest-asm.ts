/**
 * Assembly shared by the test guests: console output through the SBI DBCN
 * extension (print_str, print_dec, putc) and print_result, which prints
 * "<name>: ok" or "<name>: fault <scause>" after a probe (a trap handler
 * leaves scause in s10, which a probe sets to -1 first).
 */
export const PRINT_ROUTINES = `# a0: name. Prints "<name>: ok" or "<name>: fault <scause>".
print_result:
  addi sp, sp, -16
  sd ra, 0(sp)
  call print_str
  bltz s10, 1f
  la a0, str_fault
  call print_str
  mv a0, s10
  call print_dec
  j 2f
1:la a0, str_ok
  call print_str
2:li a0, '\\n'
  call putc
  ld ra, 0(sp)
  addi sp, sp, 16
  ret

print_str:
  addi sp, sp, -16
  sd ra, 0(sp)
  sd s0, 8(sp)
  mv s0, a0
1:lbu a0, 0(s0)
  beqz a0, 2f
  call putc
  addi s0, s0, 1
  j 1b
2:ld ra, 0(sp)
  ld s0, 8(sp)
  addi sp, sp, 16
  ret

# a0 < 1000
print_dec:
  addi sp, sp, -32
  sd ra, 0(sp)
  sd s0, 8(sp)
  sd s1, 16(sp)
  mv s0, a0
  li s1, 100
3:bge s0, s1, 4f
  li t0, 1
  beq s1, t0, 4f
  li t0, 10
  divu s1, s1, t0
  j 3b
4:divu a0, s0, s1
  remu s0, s0, s1
  addi a0, a0, '0'
  call putc
  li t0, 10
  divu s1, s1, t0
  bnez s1, 4b
  ld ra, 0(sp)
  ld s0, 8(sp)
  ld s1, 16(sp)
  addi sp, sp, 32
  ret

putc:
  li a7, 0x4442434E
  li a6, 2
  ecall
  ret

`;

/** The strings print_result uses: put them in the guest's .data. */
export const PRINT_DATA = `str_ok: .asciz ": ok"
str_fault: .asciz ": fault "`;
