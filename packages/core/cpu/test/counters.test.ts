/**
 * Counters (unprivileged Zicntr, privileged spec 3.1.10-3.1.11, 3.3.1,
 * 4.1.5): instret counts retired instructions exactly (traps do not
 * retire), writes to mcycle/minstret are seen by the next instruction, time
 * follows the deterministic timebase, and mcounteren/scounteren gate
 * access from S and U.
 */
import { describe, expect, it } from "vitest";
import { outcome, runGuest } from "./helpers.js";
import { enter, mtraps, privPass, toM } from "./priv.js";

describe("instret and cycle", () => {
  it("instret counts retired instructions; an ecall or ebreak trap does not retire", () => {
    // Regression: instret read mid-run was derived from steps, which also count traps.
    const g = runGuest(`
_start:
  la t0, handler
  csrw mtvec, t0
  la s7, readings
  csrr s1, minstret
  nop
  nop
  nop
  csrr s2, minstret         # 4 retired since s1's read
  ecall                     # does not retire: the handler reads s2 + 1
  ebreak                    # nor this: the second reading is the first + 7
  j pass
.align 2
handler:
  csrr t6, minstret
  sd t6, 0(s7)
  addi s7, s7, 8
  csrr t6, mepc
  addi t6, t6, 4
  csrw mepc, t6
  mret
.align 3
readings: .dword 0, 0
`);
    expect(outcome(g)).toBe("pass");
    const [r0, r1] = g.dwords("readings", 2);
    expect(g.x(18) - g.x(9)).toBe(4n);
    expect(r0! - g.x(18)).toBe(1n);
    expect(r1! - r0!).toBe(7n);
  });

  it("a written value is what the next instruction reads", () => {
    const g = runGuest(`
_start:
  li t0, 1000
  csrw minstret, t0
  csrr s1, minstret
  li t0, 5000
  csrw mcycle, t0
  csrr s2, mcycle
  csrr s3, cycle
  csrr s4, instret
  j pass
`);
    expect(outcome(g)).toBe("pass");
    expect(g.x(9)).toBe(1000n);
    expect(g.x(18)).toBe(5000n);
    expect(g.x(19)).toBe(5001n);
    expect(g.x(20)).toBe(1000n + 6n); // csrr, li (lui+addi), csrw, csrr, csrr
  });

  it("time advances one tick per 10 steps (deterministic timebase)", () => {
    const g = runGuest(`
_start:
  csrr s1, time
  li t0, 1000
1:
  addi t0, t0, -1
  bnez t0, 1b
  csrr s2, time
  j pass
`);
    expect(outcome(g)).toBe("pass");
    const dt = g.x(18) - g.x(9);
    expect(dt === 200n || dt === 201n).toBe(true);
  });
});

describe("counter enables", () => {
  it("mcounteren gates S-mode; mcounteren and scounteren together gate U-mode", () => {
    const reads = `
  rdcycle a0
  rdtime a0
  rdinstret a0
  csrr a0, hpmcounter3
`;
    const g = privPass(`
  csrw mcounteren, zero
  csrw scounteren, zero
${enter(1)}
s_off:
${reads}
${toM()}
  li t0, 0xf
  csrw mcounteren, t0
${enter(1)}
s_on:
${reads}
  csrr s1, hpmcounter3
${toM()}
${enter(0)}
u_off:
${reads}
${toM()}
  li t0, 0x5                # CY and IR only
  csrw scounteren, t0
${enter(0)}
u_on:
${reads}
${toM()}
`);
    const ill = mtraps(g)
      .filter((t) => t.cause === 2n)
      .map((t) => t.epc);
    const at = (label: string, i: number) => BigInt(g.sym(label)) + BigInt(4 * i);
    expect(ill).toEqual([
      ...[0, 1, 2, 3].map((i) => at("s_off", i)),
      ...[0, 1, 2, 3].map((i) => at("u_off", i)),
      at("u_on", 1), // time: TM clear in scounteren
      at("u_on", 3), // hpmcounter3
    ]);
    expect(g.x(9)).toBe(0n); // unimplemented hpmcounter3 reads zero
  });
});
