/**
 * Bare-metal guest programs used by the CPU benchmarks, in assembly so the
 * benchmark needs no cross compiler. Each reports through HTIF tohost.
 */

/**
 * A compute-bound loop with the MMU on: M-mode maps RAM with one Sv39
 * gigapage, drops to S-mode, and runs integer arithmetic, loads/stores and
 * branches over a 4 KiB buffer `iterations` times (10 instructions per
 * iteration). Exits with code 0; the checksum is left in s2 for the caller to verify.
 */
export function mmuLoopProgram(iterations: number): string {
  return `
_start:
  la t0, pt
  li t1, 0x80000000
  srli t1, t1, 12
  slli t1, t1, 10
  ori t1, t1, 0xcf          # V R W X A D
  sd t1, 16(t0)             # VPN[2] = 2 maps 0x8000_0000..0xC000_0000
  srli t0, t0, 12
  li t1, 8
  slli t1, t1, 60           # MODE = Sv39
  or t0, t0, t1
  csrw satp, t0
  sfence.vma
  la t0, bench
  csrw mepc, t0
  li t0, 0x800              # MPP = S
  csrw mstatus, t0
  mret
bench:
  li s0, ${iterations}
  la s1, buf
  mv s3, s1
  li s2, 0
loop:
  ld t0, 0(s1)
  add t0, t0, s0
  xor t1, t0, s2
  sd t1, 8(s1)
  add s2, s2, t1
  addi s1, s1, 16
  andi t2, s1, 0x7f0
  add s1, t2, s3
  addi s0, s0, -1
  bnez s0, loop
  la t5, tohost
  li t6, 1
  sd t6, 0(t5)
1: j 1b
.align 12
pt: .zero 4096
buf: .zero 4096
.align 3
tohost: .dword 0
fromhost: .dword 0
`;
}
