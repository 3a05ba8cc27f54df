/**
 * Per-mode instruction counts and trap statistics, which the hypervisor's
 * stats (instructions by guest mode, modeled cycles per trap) are built on.
 */
import { describe, expect, it } from "vitest";
import { CounterSlot, TRAP_STATS_MRET } from "../src/index.js";
import { runGuest } from "./helpers.js";

describe("hart statistics", () => {
  it("counts retired instructions by privilege mode and traps by cause", () => {
    const g = runGuest(`
_start:
  la t0, mtrap
  csrw mtvec, t0
  la t0, user
  csrw mepc, t0
  li t0, 0x1800
  csrc mstatus, t0
  mret                  # 7 M-mode instructions so far (la = 2)
user:
  li a0, 10             # 1
1: addi a0, a0, -1      # 10 x 2
  bnez a0, 1b
  ecall                 # traps: not retired
mtrap:
  j pass
`);
    expect(g.reason).toBe("exit");
    const k = g.machine.hart.counters;
    expect(k[CounterSlot.INSTRET_U]).toBe(21);
    expect(k[CounterSlot.INSTRET_S]).toBe(0);
    expect(k[CounterSlot.INSTRET_M]! + k[CounterSlot.INSTRET_U]!).toBe(g.machine.hart.instret);
    const traps = g.machine.hart.trapStats;
    expect(traps[8]).toBe(1); // one ecall from U
    expect(traps[TRAP_STATS_MRET]).toBe(1);
    expect(g.machine.hart.cycles).toBe(g.machine.hart.instret + 1); // the trap takes a step
  });
});
