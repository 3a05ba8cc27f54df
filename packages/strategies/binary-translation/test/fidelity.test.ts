/**
 * Fidelity on the non-virtualizable ISA profile (the POPF/PUSHF lesson):
 * four sensitive operations complete in U-mode without trapping, so
 * trap-and-emulate, which runs the guest kernel in U-mode, never sees them
 * and the guest silently diverges. Binary translation sees every
 * instruction before it runs, so it rewrites the non-trapping ones too: the
 * guest kernel (and its user program reading sstatus and satp, which the
 * profile lets it) sees exactly what it sees under emulation.
 */
import { emulation } from "@hvkit/emulation";
import { type StrategyDefinition, Vm } from "@hvkit/hypervisor";
import { NON_VIRTUALIZABLE_PROFILE } from "@hvkit/isa";
import { trapAndEmulate } from "@hvkit/trap-and-emulate";
import { describe, expect, it } from "vitest";
import { binaryTranslation, binaryTranslationSfence } from "../src/index.js";
import { guestConfig, show } from "./guests.js";

/**
 * A guest kernel that enables interrupts and reads the flag back (POPF then
 * PUSHF), reads back the satp it wrote (SGDT), waits for the timer with
 * interrupts enabled (STI by POPF), returns to a user program with sret
 * (JRST 1), whose reads of sstatus and satp it prints; in a loop, so it runs
 * as translated code.
 */
const GUEST = `
.globl _start
_start:
  la sp, stack_top
  la t0, trap
  csrw stvec, t0
  li t0, 1 << 5
  csrw sie, t0
  li s0, 0
  li s1, 0
  li s8, 100
1:csrsi sstatus, 2
  csrr t0, sstatus
  andi t0, t0, 2
  add s0, s0, t0
  csrci sstatus, 2
  csrr t0, sstatus
  andi t0, t0, 2
  add s0, s0, t0
  li t1, 0x12345
  csrw satp, zero
  csrr t2, satp
  add s1, s1, t2
  addi s8, s8, -1
  bnez s8, 1b
${show("str_sie", "s0")}
${show("str_satp", "s1")}
  # Wait for a timer interrupt with interrupts enabled.
  li s2, 0
  rdtime t0
  addi t0, t0, 100
  csrw stimecmp, t0
  csrsi sstatus, 2
  li t1, 100000
2:bnez s2, 3f
  addi t1, t1, -1
  bnez t1, 2b
3:csrci sstatus, 2
${show("str_timer", "s2")}
  # Return to user mode with sret, 20 times; the user program reads sstatus and satp.
  li s3, 0
  li s9, 20
4:la t0, user
  csrw sepc, t0
  li t0, 1 << 8
  csrc sstatus, t0
  csrsi sstatus, 2
  sret
  # sret fell through (it did not leave S-mode)
  li s3, -1
  j 5f
back:
  addi s9, s9, -1
  bnez s9, 4b
5:${show("str_user", "s3")}
${show("str_usstatus", "s4")}
${show("str_usatp", "s5")}
  call poweroff

user:
  csrr s4, sstatus
  csrr s5, satp
  addi s3, s3, 1
  ecall
6:j 6b

.align 2
trap:
  csrr t6, scause
  bgez t6, 1f
  li s2, 1
  li t6, -1
  csrw stimecmp, t6
  sret
1:la t6, back
  csrw sepc, t6
  li t6, 1 << 8
  csrs sstatus, t6
  csrci sstatus, 2
  sret

.data
str_sie: .asciz "sie seen: "
str_satp: .asciz "satp read: "
str_timer: .asciz "timer: "
str_user: .asciz "user runs: "
str_usstatus: .asciz "user sstatus: "
str_usatp: .asciz "user satp: "
.align 4
stack: .zero 4096
stack_top:
`;

function run(strategy: StrategyDefinition) {
  const vm = Vm.create(strategy, guestConfig(GUEST, NON_VIRTUALIZABLE_PROFILE));
  let output = "";
  vm.onOutput((b) => {
    output += new TextDecoder().decode(b);
  });
  const result = vm.run({ steps: 20_000_000 });
  return { vm, output, result };
}

describe("binary translation on the non-virtualizable profile", () => {
  const base = run(emulation);

  it("the baseline: the guest kernel sees its own interrupt flag, satp and timer, and its user program runs", () => {
    expect(base.result.stop).toBe("poweroff");
    expect(base.output).toContain(`sie seen: ${(200).toString(16).padStart(16, "0")}`);
    expect(base.output).toContain(`satp read: ${"0".repeat(16)}`);
    expect(base.output).toContain(`timer: ${"1".padStart(16, "0")}`);
    expect(base.output).toContain(`user runs: ${(20).toString(16).padStart(16, "0")}`);
  });

  it.each([
    ["default", binaryTranslationSfence],
    [
      "eager",
      binaryTranslation({
        translation: { threshold: 0, profileSteps: 0, missThreshold: 1, discovery: "static" },
      }),
    ],
  ])(
    "binary translation (%s) is accepted and gives exactly the baseline's results, step for step",
    (_, strategy) => {
      const bt = run(strategy);
      expect(bt.result.stop, bt.result.message).toBe("poweroff");
      expect(bt.output).toBe(base.output);
      expect(bt.vm.stats.steps).toBe(base.vm.stats.steps);
      // The sensitive operations were rewritten: none completed on the real hart behind the VMM's back.
      expect(bt.vm.stats.counters.profileNonTraps).toBe(0);
      expect(bt.vm.stats.counters["bt.inline"]).toBeGreaterThan(0);
    },
  );

  it("while trap-and-emulate, forced to run, diverges on exactly those operations", () => {
    const te = run(trapAndEmulate({ forceNonVirtualizable: true }));
    expect(te.output).not.toBe(base.output);
    expect(te.vm.stats.counters.profileNonTraps).toBeGreaterThan(0);
    const lines = (s: string) => s.split("\n");
    const diff = lines(te.output).filter((l, i) => l !== lines(base.output)[i]);
    expect(diff.length).toBeGreaterThan(0);
  });
});
