/* The user program, embedded as an ELF file and loaded into each workload's process. */
  .section .rodata.user, "a", @progbits
  .balign 8
  .globl user_elf
user_elf:
  .incbin "user.elf"
  .globl user_elf_end
user_elf_end:
