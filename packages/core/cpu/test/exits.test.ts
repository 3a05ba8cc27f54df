/**
 * Exit controls: `exitOnException[mode]` selects exception causes that leave
 * `run()` as ExitReason.TRAP instead of being delivered (the way a VMM
 * intercepts a guest), with cause, tval, the instruction and the pc of the
 * faulting instruction; `exitOnInterrupt` leaves `run()` when an interrupt
 * becomes takeable. Nothing is delivered in either case.
 */
import { describe, expect, it } from "vitest";
import { Cause, CsrSlot, ExitReason, Irq, PRV_M, PRV_S, PRV_U } from "../src/index.js";
import { outcome } from "./helpers.js";
import { enter, mtraps, privGuest, toM } from "./priv.js";

describe("exitOnException", () => {
  it("an ecall from U exits with the pc at the ecall; an M-mode ecall (not selected) is delivered", () => {
    const g = privGuest(
      `
${enter(0)}
ecu:
  ecall
  li s1, 1
${toM("ebreak")}
ecm:
  ecall
`,
      { noRun: true },
    );
    const hart = g.machine.hart;
    hart.exitOnException[PRV_U] = 1 << Cause.ECALL_U;
    expect(hart.run(10_000)).toBe(ExitReason.TRAP);
    const e = hart.exit;
    expect([e.cause, e.pc, e.tval, e.insn, e.insnLength, e.mode]).toEqual([
      Cause.ECALL_U,
      BigInt(g.sym("ecu")),
      0n,
      0x00000073,
      4,
      PRV_U,
    ]);
    expect(hart.pc).toBe(BigInt(g.sym("ecu")));
    expect(hart.priv).toBe(PRV_U);
    expect(mtraps(g)).toEqual([]); // not delivered
    expect(hart.csr[CsrSlot.MCAUSE]).toBe(0); // mcause untouched
    // The host emulates the ecall and moves on.
    hart.setPc(hart.pc + 4n);
    expect(outcome(g.machine.run(10_000))).toBe("pass");
    expect(g.x(9)).toBe(1n);
    expect(mtraps(g).map((t) => t.cause)).toEqual([3n, 11n]);
  });

  it("illegal instructions exit with their bits; compressed ones report the expansion and length 2", () => {
    const g = privGuest(
      `
ill32:
  .word 0xffffffff
ill16:
  .half 0x0000
  nop
`,
      { noRun: true },
    );
    const hart = g.machine.hart;
    hart.exitOnException[PRV_M] = 1 << Cause.ILLEGAL_INSTRUCTION;
    expect(hart.run(10_000)).toBe(ExitReason.TRAP);
    expect([hart.exit.cause, hart.exit.pc, hart.exit.tval, hart.exit.insnLength]).toEqual([
      Cause.ILLEGAL_INSTRUCTION,
      BigInt(g.sym("ill32")),
      0xffffffffn,
      4,
    ]);
    hart.setPc(hart.pc + 4n);
    expect(hart.run(10_000)).toBe(ExitReason.TRAP);
    expect([hart.exit.pc, hart.exit.tval, hart.exit.insnLength]).toEqual([BigInt(g.sym("ill16")), 0n, 2]);
    // A valid compressed instruction that traps reports its 32-bit expansion.
    const g2 = privGuest(
      `
  .half 0x9002               # c.ebreak
`,
      { noRun: true },
    );
    g2.machine.hart.exitOnException[PRV_M] = 1 << Cause.BREAKPOINT;
    expect(g2.machine.hart.run(10_000)).toBe(ExitReason.TRAP);
    expect([g2.machine.hart.exit.insn, g2.machine.hart.exit.insnLength]).toEqual([0x00100073, 2]);
  });

  it("page faults exit with the faulting virtual address; the mask is per mode", () => {
    const g = privGuest(
      `
  la t0, root
  srli t0, t0, 12
  li t1, 8
  slli t1, t1, 60
  or t0, t0, t1
  csrw satp, t0
${enter(1)}
  li a0, 0x40000000          # unmapped
ld_s:
  ld a1, 0(a0)
${toM()}
`,
      {
        noRun: true,
        data: `
.align 12
root:
  .dword 0, 0
  .dword (0x80000000 >> 2) | 0xcf   # gigapage: RAM, RWX, A, D
  .zero 4072
`,
      },
    );
    const hart = g.machine.hart;
    hart.exitOnException[PRV_U] = 1 << Cause.LOAD_PAGE_FAULT; // wrong mode: not taken
    hart.exitOnException[PRV_S] = 1 << Cause.LOAD_PAGE_FAULT;
    expect(hart.run(10_000)).toBe(ExitReason.TRAP);
    expect([hart.exit.cause, hart.exit.pc, hart.exit.tval, hart.exit.mode]).toEqual([
      Cause.LOAD_PAGE_FAULT,
      BigInt(g.sym("ld_s")),
      0x40000000n,
      PRV_S,
    ]);
    // Deliver it this time: clear the mask and resume at the same instruction.
    hart.exitOnException[PRV_S] = 0;
    expect(outcome(g.machine.run(10_000))).toBe("pass");
    expect(mtraps(g).map((t) => [t.cause, t.tval])).toEqual([
      [13n, 0x40000000n],
      [9n, 0n],
    ]);
  });
});

describe("exitOnInterrupt", () => {
  it("exits without delivering when an interrupt becomes takeable; delivered once the control is off", () => {
    const g = privGuest(
      `
  li t0, 1 << 11
  csrw mie, t0
irq_on:
  csrsi mstatus, 8
  nop
`,
      {
        noRun: true,
        setup: (m) => {
          m.hart.setInterruptLine(Irq.MEI, true);
          m.hart.exitOnInterrupt = true;
        },
      },
    );
    const hart = g.machine.hart;
    expect(hart.run(10_000)).toBe(ExitReason.INTERRUPT);
    expect(hart.exit.cause).toBe(Irq.MEI);
    expect(hart.exit.pc).toBe(BigInt(g.sym("irq_on")) + 4n);
    expect(hart.csr[CsrSlot.MCAUSE]).toBe(0); // mcause untouched
    // Still pending: exits again at once.
    expect(hart.run(10_000)).toBe(ExitReason.INTERRUPT);
    hart.exitOnInterrupt = false;
    expect(outcome(g.machine.run(10_000))).toBe("pass");
    const t = mtraps(g);
    expect(t[0]!.epc).toBe(BigInt(g.sym("irq_on")) + 4n);
  });

  it("budget exits stop at an instruction boundary and resume exactly", () => {
    const g = privGuest(
      `
  li a0, 0
  li a1, 1000
1:
  addi a0, a0, 1
  bne a0, a1, 1b
`,
      { noRun: true },
    );
    const hart = g.machine.hart;
    let exits = 0;
    while (hart.run(7) === ExitReason.BUDGET && exits < 10_000) exits++;
    expect(exits).toBeGreaterThan(200);
    expect(hart.getX(10)).toBe(1000n);
  });
});
