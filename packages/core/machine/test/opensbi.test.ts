/**
 * Real firmware on the board: OpenSBI's generic platform (fw_jump) finds
 * the CLINT, UART and test device through the generated devicetree, prints
 * its banner, and runs an S-mode payload that uses the SBI console, timer
 * and system reset. Skipped when the Debian `opensbi` package is absent.
 */
import { existsSync, readFileSync } from "node:fs";
import { assemble } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import { loadRaw, VirtBoard } from "../src/index.js";

const FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";

/** S-mode payload at 0x8020_0000: print, arm the SBI timer, wait for it, print, shut down. */
const PAYLOAD = `
_start:
  la a0, hello
  call puts
  la t0, strap
  csrw stvec, t0
  li t0, 1 << 5
  csrs sie, t0          # STIE
  csrsi sstatus, 2      # SIE
  rdtime a0
  li t0, 5000
  add a0, a0, t0
  li a7, 0x54494d45     # TIME extension: set_timer(now + 5000)
  li a6, 0
  ecall
1: wfi
  j 1b

strap:
  la a0, tick
  call puts
  li a7, 0x53525354     # SRST extension: system_reset(shutdown, no reason)
  li a6, 0
  li a0, 0
  li a1, 0
  ecall
2: j 2b

puts:                   # legacy console_putchar, one byte at a time
  mv t1, a0
3: lbu a0, 0(t1)
  beqz a0, 4f
  li a7, 1
  ecall
  addi t1, t1, 1
  j 3b
4: ret

hello: .asciz "hello from S-mode\\n"
tick: .asciz "timer interrupt\\n"
`;

describe.skipIf(!existsSync(FW_JUMP))("OpenSBI on the virt board", () => {
  for (const pmpEntries of [0, 16] as const) {
    it(`boots, probes the devices and serves an S-mode payload (PMP entries: ${pmpEntries})`, () => {
      let out = "";
      const board = new VirtBoard({
        ramSize: 128 << 20,
        pmpEntries,
        onConsole: (b) => {
          out += String.fromCharCode(b);
        },
      });
      loadRaw(board.ram, board.ramBase, board.ramBase, readFileSync(FW_JUMP));
      loadRaw(board.ram, board.ramBase, 0x8020_0000, assemble(PAYLOAD, { base: 0x8020_0000n }).bytes);
      const dtb = 0x8000_0000 + (64 << 20);
      loadRaw(board.ram, board.ramBase, dtb, board.devicetree());
      board.hart.ramChanged(board.ramBase, board.ram.length);
      board.reset(BigInt(board.ramBase));
      board.hart.setX(10, 0n);
      board.hart.setX(11, BigInt(dtb));

      const r = board.run(100_000_000);
      expect(out).toContain("OpenSBI v");
      expect(out).toMatch(/Platform Console Device\s+: uart8250/);
      expect(out).toMatch(/Platform Timer Device\s+: aclint-mtimer @ 10000000Hz/);
      expect(out).toMatch(/Platform IPI Device\s+: aclint-mswi/);
      expect(out).toMatch(/Platform Shutdown Device\s+: sifive_test/);
      expect(out).toMatch(/Boot HART ISA Extensions\s+: .*sstc/);
      expect(out).toContain("hello from S-mode\r\ntimer interrupt\r\n"); // OpenSBI's putchar adds the CRs
      expect(r).toMatchObject({ reason: "poweroff", powerOff: { pass: true, code: 0 } });
      expect(board.counters().unmappedReads + board.counters().unmappedWrites).toBe(0);
    });
  }
});
