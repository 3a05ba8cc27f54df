/**
 * The virtual interrupt flag in the shared page, driven by an assembled PV
 * guest: with the flag off it arms the timer and spins past the deadline;
 * the VMM holds the interrupt and flags it pending in the shared page,
 * which the guest reads without trapping, and the handler has not run.
 * The guest sets the flag (a store), sees the pending bit, calls
 * IRQ_CHECK, and the interrupt is injected on the entry that follows,
 * before the next instruction. Then, flag off again, IDLE waits (guest time
 * skips to the deadline) and delivers the wake-up interrupt before it
 * returns. The counters agree: one interrupt held, two delivered, the
 * guest's own count of flag and mask changes, none of which trapped.
 */
import { Vm } from "@hvkit/hypervisor";
import { assembleElf } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import { PvCall, PvIrq, PvShared, paravirt } from "../src/index.js";
import { call, PRINT_ROUTINES } from "./guest-asm.js";

/** Print `label` then a0 with `routine` and a newline. */
const show = (label: string, routine: string) => `
  mv s8, a0
  la a0, ${label}
  call print_str
  mv a0, s8
  call ${routine}
  li a0, '\\n'
  call putc
`;

/** One change of the flag or mask: store t0 at `offset` of the shared page (s0) and count it there. */
const change = (offset: number) => `
  sw t0, ${offset}(s0)
  lw t1, ${PvShared.IRQ_TOGGLES}(s0)
  addi t1, t1, 1
  sw t1, ${PvShared.IRQ_TOGGLES}(s0)
`;

const GUEST = `
.globl _start
_start:
  la sp, stack_top
  li s10, 0
  la a0, shared
${call(PvCall.SET_SHARED)}
  la a0, trap
  li a1, 7
  li a2, 0
${call(PvCall.SET_TRAP)}
  la s0, shared
  li t0, ${PvIrq.TIMER}
${change(PvShared.IRQ_MASK)}
  # The flag is off: arm the timer 100 ticks ahead and spin 1000 ticks.
  rdtime a0
  addi a0, a0, 100
${call(PvCall.SET_TIMER)}
  rdtime t1
  addi t1, t1, 1000
1:rdtime t2
  blt t2, t1, 1b
  lw a0, ${PvShared.IRQ_PENDING}(s0)
${show("s_pending", "print_hex_low")}
  mv a0, s10
${show("s_taken", "print_int")}
  # Interrupts on: a store, then the pending check the ABI asks for.
  li t0, 1
${change(PvShared.IRQ_ENABLED)}
  lw t0, ${PvShared.IRQ_PENDING}(s0)
  lw t1, ${PvShared.IRQ_MASK}(s0)
  and t0, t0, t1
  beqz t0, 2f
${call(PvCall.IRQ_CHECK)}
2:mv s9, s10
  mv a0, s9
${show("s_taken", "print_int")}
  lw a0, ${PvShared.IRQ_PENDING}(s0)
${show("s_pending", "print_hex_low")}
  # Off again; IDLE until a timer 5000 ticks ahead.
  li t0, 0
${change(PvShared.IRQ_ENABLED)}
  rdtime s7
  li t0, 5000
  add a0, s7, t0
${call(PvCall.SET_TIMER)}
${call(PvCall.IDLE)}
  mv a0, s10
${show("s_taken", "print_int")}
  rdtime t0
  sub t0, t0, s7
  li t1, 5000
  sltu a0, t0, t1
  xori a0, a0, 1
${show("s_waited", "print_int")}
  lw a0, ${PvShared.IRQ_ENABLED}(s0)
${show("s_flag", "print_int")}
  li a0, 0
${call(PvCall.SHUTDOWN)}
3:j 3b

.align 2
trap:
  csrw sscratch, a0
  addi s10, s10, 1
  li a0, -1
${call(PvCall.SET_TIMER)}
  csrr a0, sscratch
  sret

${PRINT_ROUTINES}
.data
s_pending: .asciz "pending: "
s_taken: .asciz "taken: "
s_waited: .asciz "waited: "
s_flag: .asciz "flag: "
.align 12
shared: .zero 4096
stack: .zero 4096
stack_top:
`;

describe("the shared page's interrupt flag", () => {
  it("holds an interrupt while the flag is off, injects it after IRQ_CHECK, and IDLE delivers one", () => {
    const kernel = assembleElf(GUEST, { base: 0x8020_0000n, fileName: "irq.s" });
    const vm = Vm.create(paravirt, { kernel, memory: 32 * 1024 * 1024 });
    let output = "";
    vm.onOutput((b) => {
      output += new TextDecoder().decode(b);
    });
    const result = vm.run({ steps: 20_000_000 });
    expect(result, output).toEqual({ stop: "poweroff", exitStatus: 0 });
    expect(output).toBe(
      [
        "pending: 00000020", // held, and visible without a trap
        "taken: 0000", // not delivered with the flag off
        "taken: 0001", // delivered right after IRQ_CHECK
        "pending: 00000000",
        "taken: 0002", // IDLE returned after the wake-up interrupt ran
        "waited: 0001", // guest time went to the deadline
        "flag: 0000", // as it was before IDLE
        "",
      ].join("\n"),
    );
    const c = vm.stats.counters;
    expect(c["pv.irq.held"]).toBe(1); // the exit during the spin
    // Held at an entry without an exit: the timer pending since reset (stimecmp = 0) when the
    // shared page is registered, and each delivered timer interrupt, still asserted when its
    // handler starts with the flag off.
    expect(c["pv.irq.heldAtEntry"]).toBe(3);
    expect(c["pv.irq.delivered"]).toBe(2);
    expect(c["pv.irq.toggles"]).toBe(3);
    // The flag and mask changes never trapped: no sstatus or sie access was emulated.
    expect(c["csr.sstatus.write"]).toBeUndefined();
    expect(c["csr.sie.write"]).toBeUndefined();
    expect(vm.stats.hypercalls.byName["pv.irq_check"]).toBe(1);
    expect(vm.stats.hypercalls.byName["pv.idle"]).toBe(1);
  });
});
