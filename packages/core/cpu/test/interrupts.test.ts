/**
 * Interrupts (privileged spec 3.1.6.1, 3.1.9, 3.3.3, 4.1.3; Sstc):
 * software-raised S-level interrupts through mip/sip, device lines driven
 * by the host, priority, the global-enable rules per mode, delegation, the
 * Sstc timer on the deterministic timebase, and WFI.
 */
import { describe, expect, it } from "vitest";
import { ExitReason, Irq, PRV_M } from "../src/index.js";
import { outcome } from "./helpers.js";
import { enter, irqCause, mtraps, privGuest, privPass, straps, toM } from "./priv.js";

describe("interrupt priority and enables", () => {
  it("pending interrupts are taken in the order MEI, MSI, MTI, SEI, SSI, STI", () => {
    const g = privGuest(
      `
  li t0, (1 << 1) | (1 << 5) | (1 << 9)
  csrs mip, t0              # SSIP, STIP, SEIP (software-writable)
  li t0, 0xaaa
  csrw mie, t0
  csrsi mstatus, 8          # all six are now takeable, one after another
  nop
  csrci mstatus, 8
`,
      {
        setup: (m) => {
          m.hart.setInterruptLine(Irq.MEI, true);
          m.hart.setInterruptLine(Irq.MSI, true);
          m.hart.setInterruptLine(Irq.MTI, true);
        },
      },
    );
    expect(outcome(g)).toBe("pass");
    expect(mtraps(g).map((t) => t.cause)).toEqual([11, 3, 7, 9, 1, 5].map(irqCause));
  });

  it("M-mode takes M-level interrupts only with MIE=1; enabling takes them at the next instruction", () => {
    const g = privGuest(
      `
  li t0, 2
  csrs mie, t0
  csrs mip, t0              # SSIP pending and enabled, MIE=0: nothing happens
  nop
  nop
  csrr s1, mip
enable:
  csrsi mstatus, 8
  csrci mstatus, 8
`,
    );
    expect(outcome(g)).toBe("pass");
    expect(g.x(9) & 2n).toBe(2n);
    expect(mtraps(g).map((t) => [t.cause, t.epc])).toEqual([[irqCause(1), BigInt(g.sym("enable")) + 4n]]);
  });

  it("below M, M-level interrupts are taken whatever MIE says; delegated ones never interrupt M-mode", () => {
    const g = privGuest(
      `
  la t0, s_handler
  csrw stvec, t0
  li t0, 1 << 9
  csrw mideleg, t0          # SEI delegated; SSI stays with M
  li t0, (1 << 9) | (1 << 1)
  csrs mie, t0
  csrsi sstatus, 2          # SIE=1
  csrsi mstatus, 8          # MIE=1
  li t0, 1 << 9
  csrs mip, t0              # SEIP: delegated, so not taken in M
  nop
  csrci mstatus, 8          # MIE=0
${enter(1)}
in_s:
  nop                       # SEI is taken in S on arrival (SIE=1)
${toM()}
  li t0, 2
  csrs mip, t0              # SSIP pending, MIE=0 in M: not taken
  nop
  csrr s3, mip
${enter(1)}
s_again:
  nop                       # M-level SSI taken in S although MIE=0
${toM()}
`,
      {
        data: `
.align 2
s_handler:
  csrr s4, scause
  csrr s5, sepc
  li t6, 1 << 9
  csrc sie, t6
  sret
`,
      },
    );
    expect(outcome(g)).toBe("pass");
    expect([g.x(20), g.x(21)]).toEqual([irqCause(9), BigInt(g.sym("in_s"))]);
    expect(g.x(19) & 2n).toBe(2n);
    expect(mtraps(g).map((t) => t.cause)).toEqual([9n, irqCause(1), 9n]);
    expect(mtraps(g)[1]!.epc).toBe(BigInt(g.sym("s_again")));
  });
});

describe("delegated interrupts in S-mode", () => {
  it("SIE gates them in S-mode, not in U-mode; the trap goes to stvec with SPP and SPIE", () => {
    const g = privPass(`
  li t0, 2
  csrw mideleg, t0
  csrw mie, t0
${enter(1)}
  csrci sstatus, 2          # SIE=0
  csrsi sip, 2              # SSIP pending: not taken in S with SIE=0
  nop
  csrr s1, sip
  li t0, 0x100
  csrc sstatus, t0          # SPP = U
  la t0, in_u
  csrw sepc, t0
  sret
in_u:
  nop                       # taken here: U-mode always takes S-level interrupts
in_u2:
  nop
${toM()}
`);
    expect(g.x(9) & 2n).toBe(2n);
    const s = straps(g);
    expect(s[0]!.cause).toBe(irqCause(1));
    expect(s[0]!.epc).toBe(BigInt(g.sym("in_u")));
    expect(Number((s[0]!.status >> 8n) & 1n)).toBe(0); // SPP = U
  });
});

/** Enable Sstc (menvcfg.STCE), let S read time and stimecmp, and delegate STI. */
const SSTC_ON = `
  li t0, 1
  slli t0, t0, 63
  csrs menvcfg, t0
  li t0, 2
  csrs mcounteren, t0
  li t0, 1 << 5
  csrw mideleg, t0
  csrs mie, t0
`;

describe("Sstc timer", () => {
  it("stimecmp raises STIP when time reaches it, taken in S; a later stimecmp clears it", () => {
    const g = privGuest(
      `
${SSTC_ON}
  la t0, s_timer
  csrw stvec, t0
${enter(1)}
  csrr s1, time
  addi s2, s1, 50
  csrw stimecmp, s2
  csrsi sstatus, 2
  li s3, 0
1:
  addi s3, s3, 1
  beqz s6, 1b               # wait for the handler
  csrci sstatus, 2
  csrr s7, sip
${toM()}
`,
      {
        data: `
.align 2
s_timer:
  csrr s4, scause
  csrr s5, time
  csrr s8, sip
  li t6, -1
  csrw stimecmp, t6         # far future: STIP drops
  li s6, 1
  sret
`,
      },
    );
    expect(outcome(g)).toBe("pass");
    expect(g.x(20)).toBe(irqCause(5));
    const t0 = g.x(9);
    const cmp = g.x(18);
    const at = g.x(21);
    expect(at).toBeGreaterThanOrEqual(cmp);
    expect(at - cmp).toBeLessThanOrEqual(1n); // deterministic timebase: taken as soon as it is due
    expect(cmp - t0).toBe(50n);
    expect(g.x(24) & 0x20n).toBe(0x20n); // STIP visible in sip while pending
    expect(g.x(23) & 0x20n).toBe(0n); // cleared by the new stimecmp
    // At 10 steps per tick, 50 ticks is about 500 steps of a 3-instruction loop.
    expect(g.x(19)).toBeGreaterThan(100n);
  });

  it("with STCE set, mip.STIP is read-only; without it, stimecmp is illegal below M", () => {
    const g = privPass(`
  li t0, 1 << 5
  csrs mip, t0              # STCE=0: STIP is software-writable
  csrr s1, mip
  csrc mip, t0
  li t0, 2
  csrs mcounteren, t0
${enter(1)}
no_stce:
  csrr a0, stimecmp
${toM()}
  li t0, 1
  slli t0, t0, 63
  csrs menvcfg, t0
  li t0, -1
  csrw stimecmp, t0
  li t0, 1 << 5
  csrs mip, t0              # ignored now
  csrr s2, mip
  csrw mcounteren, zero
${enter(1)}
no_tm:
  csrr a0, stimecmp         # mcounteren.TM=0: illegal
${toM()}
`);
    expect(g.x(9) & 0x20n).toBe(0x20n);
    expect(g.x(18) & 0x20n).toBe(0n);
    const ill = mtraps(g)
      .filter((t) => t.cause === 2n)
      .map((t) => t.epc);
    expect(ill).toEqual([BigInt(g.sym("no_stce")), BigInt(g.sym("no_tm"))]);
  });
});

describe("WFI", () => {
  it("completes at once when an enabled interrupt is pending, even with interrupts globally off", () => {
    const g = privPass(`
  li t0, 2
  csrw mie, t0
  csrs mip, t0
  wfi
  li s1, 1
  csrc mip, t0
`);
    expect(g.x(9)).toBe(1n);
    expect(mtraps(g)).toEqual([]);
  });

  it("exits to the host when idle and resumes into the interrupt when a line rises", () => {
    const g = privGuest(
      `
  la t0, handler
  csrw mtvec, t0
  li t0, 1 << 7
  csrw mie, t0
  csrsi mstatus, 8
  wfi
after:
  li s1, 1
`,
      {
        noRun: true,
        data: `
.align 2
handler:
  csrr s2, mcause
  csrr s3, mepc
  csrw mie, zero
  mret
`,
      },
    );
    const hart = g.machine.hart;
    expect(hart.run(1000)).toBe(ExitReason.WFI);
    expect(hart.exit.pc).toBe(BigInt(g.sym("after")));
    expect(hart.exit.mode).toBe(PRV_M);
    // Nothing pending: running again keeps... the host raises the timer line instead.
    hart.setInterruptLine(Irq.MTI, true);
    const r = g.machine.run(10_000);
    expect(outcome(r)).toBe("pass");
    expect(g.x(18)).toBe(irqCause(7));
    expect(g.x(19)).toBe(BigInt(g.sym("after")));
    expect(g.x(9)).toBe(1n);
  });

  it("an idle WFI in S-mode wakes on the Sstc timer (the bare machine skips time to stimecmp)", () => {
    const g = privGuest(
      `
${SSTC_ON}
  la t0, s_timer
  csrw stvec, t0
${enter(1)}
  csrr s1, time
  li t0, 100000
  add s2, s1, t0
  csrw stimecmp, s2
  csrsi sstatus, 2
  wfi
woke:
  csrr s3, time
  beqz s6, fail
${toM()}
`,
      {
        data: `
.align 2
s_timer:
  csrr s4, sepc
  li t6, -1
  csrw stimecmp, t6
  li s6, 1
  sret
`,
      },
    );
    expect(outcome(g)).toBe("pass");
    expect(g.x(20)).toBe(BigInt(g.sym("woke")));
    expect(g.x(19)).toBeGreaterThanOrEqual(g.x(18));
    expect(g.steps).toBeLessThan(10_000); // time was skipped, not spun
  });
});

describe("mip.SEIP", () => {
  it("csrs/csrc on mip modify the software SEIP bit, not the external line ORed into reads", () => {
    const g = privGuest(
      `
  csrr s1, mip              # line high: SEIP reads 1
  li t0, 2
  csrs mip, t0              # read-modify-write must not latch SEIP
  ebreak                    # the host lowers the line here
  csrr s2, mip
  csrc mip, t0
`,
      {
        noRun: true,
        setup: (m) => {
          m.hart.setInterruptLine(Irq.SEI, true);
          m.hart.exitOnException[PRV_M] = 1 << 3;
        },
      },
    );
    const hart = g.machine.hart;
    expect(hart.run(10_000)).toBe(ExitReason.TRAP);
    hart.setInterruptLine(Irq.SEI, false);
    hart.setPc(hart.pc + 4n);
    hart.exitOnException[PRV_M] = 0;
    expect(outcome(g.machine.run(10_000))).toBe("pass");
    expect(g.x(9) & 0x200n).toBe(0x200n);
    expect(g.x(18) & 0x202n).toBe(0x2n);
  });
});
