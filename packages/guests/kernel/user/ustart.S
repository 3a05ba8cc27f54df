/* User program entry: the kernel starts it with a0 = workload, a1 = n, sp = the top of the stack. */
  .section .text.start, "ax", @progbits
  .globl _start
_start:
  call umain
  /* exit(umain's result) */
  li a7, 1
  ecall
1:
  j 1b
