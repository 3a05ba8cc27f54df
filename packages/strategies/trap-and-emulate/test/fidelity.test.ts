/**
 * Fidelity (Popek and Goldberg's equivalence) and the POPF lesson. On the
 * opt-in non-virtualizable ISA profile four sensitive operations complete in
 * U-mode without trapping, so Theorem 1 fails: trap-and-emulate refuses such
 * a VM at creation with a typed error naming them. Forced to run anyway, it
 * runs a guest that uses each of them, and exactly the four lines the guest
 * prints about them differ from the emulation baseline (where the guest
 * kernel is in real S-mode and the profile changes nothing): the VMM never
 * saw the guest kernel enable interrupts, read its satp, or return to user
 * mode, and the counters say how often that happened.
 */
import { emulation } from "@hvkit/emulation";
import { HypervisorError, Vm } from "@hvkit/hypervisor";
import { assembleElf, type IsaProfile, NON_VIRTUALIZABLE_PROFILE, STANDARD_PROFILE } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import { trapAndEmulate, trapAndEmulateSfence, trapAndEmulateWriteProtect } from "../src/index.js";
import { PRINT_DATA, PRINT_ROUTINES } from "./guest-asm.js";

/**
 * A guest kernel that sets SIE and reads it back, reads back the satp it
 * wrote, waits for a timer interrupt with interrupts enabled, and returns to
 * a user program with sret; it prints what it saw of each.
 */
const SENSITIVE_GUEST = `
.globl _start
_start:
  la sp, stack_top
  la t0, trap
  csrw stvec, t0
  li t0, 1 << 5
  csrw sie, t0

  # 1. local_irq_enable, then look at the flag (x86: POPF, then PUSHF).
  csrsi sstatus, 2
  csrr t0, sstatus
  andi s1, t0, 2
  srli s1, s1, 1
  la a0, str_sie
  call print_str
  mv a0, s1
  call print_dec
  li a0, '\\n'
  call putc
  csrci sstatus, 2

  # 2. Read back the address-translation root (x86: SGDT/SIDT).
  csrw satp, zero
  csrr s1, satp
  la a0, str_satp
  call print_str
  la a0, str_yes
  beqz s1, 1f
  la a0, str_no
1:call print_str

  # 3. Enable interrupts and wait a while for the timer (x86: STI by POPF).
  li s2, 0
  rdtime t0
  addi t0, t0, 50
  csrw stimecmp, t0
  csrsi sstatus, 2
  li t1, 20000
2:bnez s2, 3f
  addi t1, t1, -1
  bnez t1, 2b
3:csrci sstatus, 2
  la a0, str_timer
  call print_str
  la a0, str_yes
  bnez s2, 4f
  la a0, str_no
4:call print_str

  # 4. Return to a user program (PDP-10: JRST 1).
  la t0, user
  csrw sepc, t0
  li t0, 1 << 8
  csrc sstatus, t0
  sret
  la a0, str_fell
  call print_str
back:
  la a0, str_end
  call print_str
  li a0, 0
  li a1, 0
  li a6, 0
  li a7, 0x53525354
  ecall
5:j 5b

user:
  ecall
6:j 6b

${PRINT_ROUTINES}

.align 2
trap:
  csrr t6, scause
  bgez t6, 1f
  # The timer: note it, disarm it.
  li s2, 1
  li t6, -1
  csrw stimecmp, t6
  sret
1:li t5, 8
  bne t6, t5, 2f
  # An ecall from U-mode: the sret reached the user program. Back to S-mode after "back".
  la a0, str_user
  call print_str
  la t6, back
  csrw sepc, t6
  li t6, 1 << 8
  csrs sstatus, t6
  sret
2:la a0, str_unexpected
  call print_str
3:j 3b

.data
${PRINT_DATA}
str_sie: .asciz "sstatus.SIE after csrsi: "
str_satp: .asciz "satp reads back what was written: "
str_timer: .asciz "timer interrupt with SIE set: "
str_yes: .asciz "yes\\n"
str_no: .asciz "no\\n"
str_user: .asciz "sret: reached the user program\\n"
str_fell: .asciz "sret: fell through\\n"
str_end: .asciz "end\\n"
str_unexpected: .asciz "unexpected trap\\n"
.align 4
stack: .zero 1024
stack_top:
`;

const kernel = (): Uint8Array => assembleElf(SENSITIVE_GUEST, { base: 0x8020_0000n, compress: false });

function run(strategy: Parameters<typeof Vm.create>[0], isaProfile: IsaProfile) {
  const vm = Vm.create(strategy, { kernel: kernel(), memory: 32 * 1024 * 1024, isaProfile });
  let output = "";
  vm.onOutput((b) => {
    output += new TextDecoder().decode(b);
  });
  const result = vm.run({ steps: 5_000_000 });
  return { vm, output, result };
}

const FAITHFUL = [
  "sstatus.SIE after csrsi: 1",
  "satp reads back what was written: yes",
  "timer interrupt with SIE set: yes",
  "sret: reached the user program",
  "end",
  "",
].join("\n");

describe("the non-virtualizable ISA profile (Theorem 1 does not hold)", () => {
  it.each([trapAndEmulateSfence, trapAndEmulateWriteProtect])(
    "$name refuses it at VM creation with HV_INVALID_COMBINATION naming the offenders",
    (strategy) => {
      let error: unknown;
      try {
        Vm.create(strategy, {
          kernel: kernel(),
          memory: 32 * 1024 * 1024,
          isaProfile: NON_VIRTUALIZABLE_PROFILE,
        });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(HypervisorError);
      const e = error as HypervisorError;
      expect(e.code).toBe("HV_INVALID_COMBINATION");
      expect(e.message).toMatch(/Theorem 1/);
      expect(e.message).toMatch(/non-virtualizable/);
      for (const op of ["csrr sstatus", "csrw sstatus", "csrr satp", "sret"]) expect(e.message).toContain(op);
      expect(e.message).toMatch(/forceNonVirtualizable/);
    },
  );

  it("the emulation baseline runs the guest faithfully on either profile (the guest kernel is in real S-mode)", () => {
    for (const profile of [STANDARD_PROFILE, NON_VIRTUALIZABLE_PROFILE]) {
      const r = run(emulation, profile);
      expect(r.result.stop, r.result.message).toBe("poweroff");
      expect(r.output).toBe(FAITHFUL);
    }
  });

  it("trap-and-emulate runs it faithfully on the standard profile", () => {
    for (const strategy of [trapAndEmulateSfence, trapAndEmulateWriteProtect]) {
      const r = run(strategy, STANDARD_PROFILE);
      expect(r.result.stop, r.result.message).toBe("poweroff");
      expect(r.output).toBe(FAITHFUL);
      expect(r.vm.stats.counters.profileNonTraps).toBe(0);
    }
  });

  it("forced, trap-and-emulate runs and exactly the four sensitive results diverge from the baseline", () => {
    const forced = trapAndEmulate({ forceNonVirtualizable: true });
    expect(forced.name).toBe("trap-and-emulate+forced");
    const baseline = run(emulation, NON_VIRTUALIZABLE_PROFILE);
    const r = run(forced, NON_VIRTUALIZABLE_PROFILE);
    expect(r.result.stop, r.result.message).toBe("poweroff");
    const want = baseline.output.split("\n");
    const got = r.output.split("\n");
    expect(got).toHaveLength(want.length);
    const diverging = want.flatMap((line, i) =>
      line === got[i] ? [] : [{ baseline: line, forced: got[i] }],
    );
    expect(diverging).toEqual([
      // csrsi sstatus was dropped (POPF), csrr sstatus showed the VMM's real SIE (PUSHF).
      { baseline: "sstatus.SIE after csrsi: 1", forced: "sstatus.SIE after csrsi: 0" },
      // csrr satp showed the shadow page table's root, not the guest's (SGDT).
      { baseline: "satp reads back what was written: yes", forced: "satp reads back what was written: no" },
      // The VMM never learnt that the guest enabled interrupts: the timer never reached it.
      { baseline: "timer interrupt with SIE set: yes", forced: "timer interrupt with SIE set: no" },
      // sret did nothing in U-mode: the guest kernel carried on as if it were its user program.
      { baseline: "sret: reached the user program", forced: "sret: fell through" },
    ]);
    // The operations that escaped the VMM, as the hart counted them.
    expect(r.vm.stats.counters.profileNonTraps).toBeGreaterThanOrEqual(7);
  });
});
