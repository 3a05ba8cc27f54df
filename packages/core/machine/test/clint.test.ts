/**
 * CLINT: msip, mtimecmp and mtime as firmware uses them (32- and 64-bit
 * accesses), MTIP as the level mtime >= mtimecmp, the step count to the next
 * timer event, and a guest taking machine timer interrupts on a real hart
 * while the board skips idle time at WFI.
 */
import { describe, expect, it } from "vitest";
import { CLINT_MSIP, CLINT_MTIME, CLINT_MTIMECMP, Clint, type ClintClock } from "../src/index.js";
import { guest, probe } from "./helpers.js";

/** A clock advanced by hand: `steps` executed, stepsPerTick 10. */
function clock(): ClintClock & { steps: number } {
  const c = {
    steps: 0,
    offset: 0,
    stepsPerTick: 10,
    stepsInRun: 0,
    get cycles() {
      return c.steps;
    },
    time: () => Math.floor(c.steps / 10) + c.offset,
    skipTime: (t: number) => {
      c.offset += t;
    },
  };
  return c;
}

function setup() {
  const clk = clock();
  const msip = probe();
  const mtip = probe();
  const clint = new Clint({ clock: clk, msip: msip.line, mtip: mtip.line });
  return { clk, msip, mtip, clint };
}

describe("CLINT registers", () => {
  it("msip: bit 0 drives the software interrupt line, other bits read zero", () => {
    const { clint, msip } = setup();
    clint.write(CLINT_MSIP, 4, 0xffff_ffff, 0);
    expect(clint.read(CLINT_MSIP, 4)).toBe(1);
    expect(msip.level).toBe(true);
    clint.write(CLINT_MSIP, 4, 2, 0);
    expect(clint.read(CLINT_MSIP, 4)).toBe(0);
    expect(msip.level).toBe(false);
    expect(clint.softwareInterrupts).toBe(1);
  });

  it("mtimecmp resets to all ones and reads back as two words or one doubleword", () => {
    const { clint } = setup();
    expect(clint.read(CLINT_MTIMECMP, 4)).toBe(0xffff_ffff);
    expect(clint.read(CLINT_MTIMECMP + 4, 4)).toBe(0xffff_ffff);
    clint.write(CLINT_MTIMECMP, 8, 0x89ab_cdef, 0x0123_4567);
    expect(clint.read(CLINT_MTIMECMP, 8)).toBe(0x89ab_cdef);
    expect(clint.readHi).toBe(0x0123_4567);
    clint.write(CLINT_MTIMECMP + 4, 4, 0x7, 0);
    expect(clint.read(CLINT_MTIMECMP + 4, 4)).toBe(7);
    expect(clint.read(CLINT_MTIMECMP, 4)).toBe(0x89ab_cdef);
  });

  it("mtime is the hart's time; a write moves that time", () => {
    const { clint, clk } = setup();
    clk.steps = 12_345;
    expect(clint.read(CLINT_MTIME, 4)).toBe(1234);
    expect(clint.read(CLINT_MTIME + 4, 4)).toBe(0);
    clint.write(CLINT_MTIME, 8, 5, 1); // 2^32 + 5
    expect(clk.time()).toBe(2 ** 32 + 5);
    expect(clint.read(CLINT_MTIME, 8)).toBe(5);
    expect(clint.readHi).toBe(1);
    clint.write(CLINT_MTIME + 4, 4, 0, 0); // backwards: high word cleared
    expect(clk.time()).toBe(5);
    clint.write(CLINT_MTIME, 4, 100, 0);
    expect(clk.time()).toBe(100);
  });

  it("MTIP is the level mtime >= mtimecmp, re-evaluated on writes and update()", () => {
    const { clint, clk, mtip } = setup();
    clint.write(CLINT_MTIMECMP, 8, 50, 0);
    expect(mtip.level).toBe(false);
    clk.steps = 499; // time 49
    clint.update();
    expect(mtip.level).toBe(false);
    clk.steps = 500; // time 50
    clint.update();
    expect(mtip.level).toBe(true);
    // Writing a later compare value clears the line (the standard way to acknowledge).
    clint.write(CLINT_MTIMECMP, 4, 100, 0);
    expect(mtip.level).toBe(false);
    // So does moving time backwards.
    clint.write(CLINT_MTIMECMP, 4, 40, 0);
    expect(mtip.level).toBe(true);
    clint.write(CLINT_MTIME, 8, 0, 0);
    expect(mtip.level).toBe(false);
    expect(clint.timerInterrupts).toBe(2);
  });

  it("a 32-bit update sequence (hi = -1, lo, hi) never fires early", () => {
    const { clint, clk, mtip } = setup();
    clk.steps = 10_000; // time 1000
    clint.write(CLINT_MTIMECMP + 4, 4, 0xffff_ffff, 0);
    clint.write(CLINT_MTIMECMP, 4, 2000, 0);
    clint.write(CLINT_MTIMECMP + 4, 4, 0, 0);
    expect(mtip.level).toBe(false);
    expect(clint.mtimecmp).toBe(2000);
  });

  it("stepsUntilNextEvent counts steps to the tick boundary where mtime reaches mtimecmp", () => {
    const { clint, clk } = setup();
    expect(clint.stepsUntilNextEvent()).toBe(Number.POSITIVE_INFINITY); // all ones: never
    clk.steps = 1003; // time 100, 7 steps to 101
    clint.write(CLINT_MTIMECMP, 8, 105, 0);
    expect(clint.stepsUntilNextEvent()).toBe(47);
    clk.steps += 46;
    clint.update();
    expect(clk.time()).toBe(104);
    expect(clint.stepsUntilNextEvent()).toBe(1);
    clk.steps += 1;
    expect(clint.stepsUntilNextEvent()).toBe(0); // due: the board calls update()
    clint.update();
    expect(clint.stepsUntilNextEvent()).toBe(Number.POSITIVE_INFINITY); // raised already
    clint.write(CLINT_MTIMECMP, 8, 0xffff_0000, 0x7fff_ffff);
    expect(clint.stepsUntilNextEvent()).toBe(Number.POSITIVE_INFINITY); // beyond 2^53 steps
  });

  it("1- and 2-byte accesses and unimplemented offsets are bad accesses", () => {
    const { clint } = setup();
    expect(clint.read(CLINT_MTIME, 1)).toBe(0);
    expect(clint.read(CLINT_MSIP + 4, 4)).toBe(0); // hart 1's msip: no hart 1
    clint.write(CLINT_MTIMECMP, 2, 0, 0);
    clint.write(0x8000, 4, 0, 0);
    expect(clint.read(CLINT_MTIMECMP + 4, 8)).toBe(0); // misaligned doubleword
    expect(clint.badAccesses).toBe(5);
    expect(clint.mtimecmp).toBe(2 ** 64 - 1);
  });

  it("state round-trips and re-drives the lines", () => {
    const a = setup();
    a.clint.write(CLINT_MSIP, 4, 1, 0);
    a.clint.write(CLINT_MTIMECMP, 8, 0, 0);
    const s = a.clint.getState();
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    const b = setup();
    b.clint.setState(s);
    expect([b.msip.level, b.mtip.level]).toEqual([true, true]);
    expect(b.clint.getState()).toEqual(s);
    expect(() => b.clint.setState({ msip: 2, mtimecmpLo: 0, mtimecmpHi: 0 })).toThrow(/msip/);
    expect(() => b.clint.setState(null as never)).toThrow(/not an object/);
  });
});

describe("machine timer interrupts on a hart", () => {
  const program = `
_start:
  la t0, trap
  csrw mtvec, t0
  li s1, 0x200bff8      # mtime
  li s2, 0x2004000      # mtimecmp
  li s3, 0              # interrupts taken
  ld t0, 0(s1)
  addi t0, t0, 1000
  sd t0, 0(s2)          # first deadline: now + 1000 ticks
  li t0, 1 << 7
  csrs mie, t0          # MTIE
  csrsi mstatus, 8      # MIE
idle:
  wfi
  j idle

trap:
  csrr t0, mcause
  la t2, causes
  slli t3, s3, 3
  add t2, t2, t3
  sd t0, 0(t2)          # causes[n] = mcause
  ld t1, 0(s1)
  sd t1, 24(t2)         # when[n] = mtime
  ld t1, 0(s2)
  sd t1, 48(t2)         # deadline[n] = mtimecmp
  addi s3, s3, 1
  li t4, 3
  beq s3, t4, finish
  addi t1, t1, 1000
  sd t1, 0(s2)          # next deadline; also lowers MTIP
  mret
finish:
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
1: j 1b

.align 3
causes: .dword 0, 0, 0
when: .dword 0, 0, 0
deadline: .dword 0, 0, 0
`;

  it("takes three timer interrupts at their deadlines, skipping idle time at WFI", () => {
    const g = guest(program);
    const r = g.run();
    expect(r.reason).toBe("poweroff");
    expect(r.powerOff).toEqual({ pass: true, code: 0 });
    const irq7 = (1n << 63n) | 7n;
    for (let i = 0; i < 3; i++) {
      expect(g.dword("causes", 8 * i)).toBe(irq7);
      const deadline = g.dword("deadline", 8 * i);
      const when = g.dword("when", 8 * i);
      expect(when >= deadline).toBe(true);
      expect(when - deadline).toBeLessThan(5n); // taken within a few instructions
    }
    expect(g.dword("deadline", 8) - g.dword("deadline", 0)).toBe(1000n);
    // 3000 ticks = 30,000 steps of guest time, yet the guest ran only a few dozen instructions.
    expect(g.board.hart.time()).toBeGreaterThanOrEqual(3000);
    expect(r.steps).toBeLessThan(200);
    expect(g.board.counters().clint.timerInterrupts).toBe(3);
  });

  it("is deterministic: the same program gives the same times", () => {
    const a = guest(program);
    const b = guest(program);
    a.run();
    b.run();
    for (let i = 0; i < 3; i++) expect(a.dword("when", 8 * i)).toBe(b.dword("when", 8 * i));
  });

  // Regression: a guest polling mtime by MMIO saw the time at the start of the
  // hart's run slice, because the interpreter published its step count only
  // before CSR/system instructions, not before bus accesses.
  it("mtime read by MMIO advances within one run slice", () => {
    const g = guest(`
_start:
  li s1, 0x200bff8
  ld t0, 0(s1)
  li t1, 1000
1: addi t1, t1, -1
  bnez t1, 1b
  ld t2, 0(s1)
  sub t3, t2, t0
  la t4, elapsed
  sd t3, 0(t4)
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
2: j 2b
.align 3
elapsed: .dword 0
`);
    expect(g.run().reason).toBe("poweroff");
    // 2003 steps between the two reads at 10 steps per tick.
    expect(g.dword("elapsed")).toBe(200n);
  });

  it("a WFI with no timer armed returns 'idle' to the host", () => {
    const g = guest(`
_start:
  wfi
  j _start
`);
    const r = g.run();
    expect(r.reason).toBe("idle");
  });

  it("software interrupts: writing msip interrupts the hart", () => {
    const g = guest(`
_start:
  la t0, trap
  csrw mtvec, t0
  li t0, 1 << 3
  csrs mie, t0          # MSIE
  csrsi mstatus, 8
  li s1, 0x2000000
  li t0, 1
  sw t0, 0(s1)          # msip = 1
1: j 1b
trap:
  csrr s2, mcause
  sw zero, 0(s1)        # clear msip
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
2: j 2b
`);
    expect(g.run().reason).toBe("poweroff");
    expect(g.board.hart.getX(18)).toBe(-(1n << 63n) | 3n);
    expect(g.board.counters().clint.softwareInterrupts).toBe(1);
  });
});
