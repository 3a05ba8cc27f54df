/**
 * Regression: a trap the VMM reflects into the guest kernel must end an
 * LR/SC sequence, as a trap the hart delivers does. Before
 * hart.clearReservation() existed, an SC after a reflected trap succeeded
 * under trap-and-emulate and failed under emulation.
 */
import { emulation } from "@hvkit/emulation";
import { runGuest } from "@hvkit/hypervisor/testing";
import { assembleElf } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import { trapAndEmulateSfence, trapAndEmulateWriteProtect } from "../src/index.js";

const SOURCE = `
.globl _start
_start:
  la t0, handler
  csrw stvec, t0
  la a0, word
  lr.d t0, (a0)
  ebreak                  # a breakpoint trap between the LR and the SC
  li t2, 7
  sc.d t1, t2, (a0)       # must fail: rd = 1
  addi a0, t1, '0'
  li a7, 1
  ecall                   # legacy putchar
  li a0, 0
  li a1, 0
  li a6, 0
  li a7, 0x53525354
  ecall                   # shutdown
handler:
  csrr t3, sepc
  addi t3, t3, 4
  csrw sepc, t3
  sret
.data
.align 3
word: .dword 0
`;

const guest = {
  name: "lr/sc across a trap",
  maxSteps: 100_000,
  config: () => ({ kernel: assembleElf(SOURCE, { base: 0x80200000n }), memory: 32 * 1024 * 1024 }),
};

describe("LR/SC reservations across reflected traps", () => {
  it.each([emulation, trapAndEmulateSfence, trapAndEmulateWriteProtect])(
    "$name: the SC after a trap fails",
    (s) => {
      const r = runGuest(s, guest);
      expect(r.result.stop).toBe("poweroff");
      expect(r.output).toBe("1");
    },
  );
});
