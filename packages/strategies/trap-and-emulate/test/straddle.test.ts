/**
 * A privileged instruction straddling a page boundary (its first half at
 * offset 0xffe): the exit must carry all 32 bits, or the VMM cannot emulate
 * it and reflects an illegal instruction. Regression: hart.peekInstruction
 * returned only the low half there, and hvkit-kernel panicked under
 * trap-and-emulate once a `csrw satp` of its arch layer landed at 0x...ffe.
 */
import { emulation } from "@hvkit/emulation";
import { type StrategyDefinition, Vm } from "@hvkit/hypervisor";
import { assembleElf } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import { trapAndEmulateSfence, trapAndEmulateWriteProtect } from "../src/index.js";
import { PRINT_DATA, PRINT_ROUTINES } from "./guest-asm.js";

const GUEST = `
.globl _start
_start:
  la sp, stack_top
  li s2, 421
  j straddle
.balign 4096
  .zero 4094
straddle:
  csrw sscratch, s2
  csrr a0, sscratch
  call print_dec
  li a0, '\\n'
  call putc
  li a0, 0
  li a1, 0
  li a6, 0
  li a7, 0x53525354
  ecall
1:j 1b
${PRINT_ROUTINES}
.data
${PRINT_DATA}
.align 4
stack: .zero 4096
stack_top:
`;

function run(strategy: StrategyDefinition) {
  const kernel = assembleElf(GUEST, { base: 0x8020_0000n, fileName: "straddle.s" });
  const vm = Vm.create(strategy, { kernel, memory: 32 * 1024 * 1024 });
  let output = "";
  vm.onOutput((b) => {
    output += new TextDecoder().decode(b);
  });
  const result = vm.run({ steps: 10_000_000 });
  return { output, result };
}

describe("a csrw straddling a page boundary", () => {
  it.each([trapAndEmulateSfence, trapAndEmulateWriteProtect])(
    "is emulated under $name as emulation runs it",
    (s) => {
      const base = run(emulation);
      expect(base.result).toEqual({ stop: "poweroff", exitStatus: 0 });
      expect(base.output).toBe("421\n");
      expect(run(s)).toEqual(base);
    },
  );
});
