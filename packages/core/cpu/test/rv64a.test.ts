/**
 * The A extension (unprivileged spec chapter 8): LR/SC reservation rules
 * and every AMO in both widths, checked on what the guest sees in rd and in
 * memory.
 */
import { describe, expect, it } from "vitest";
import { ExitReason } from "../src/index.js";
import { outcome, runGuest, s64, sx32, u64 } from "./helpers.js";

const VALUES = [
  0n,
  1n,
  -1n,
  0x7fffffffn,
  0x80000000n,
  -0x80000000n,
  0x7fffffffffffffffn,
  -0x8000000000000000n,
  0x123456789n,
];

const AMO: [string, (old: bigint, src: bigint, bits: number) => bigint][] = [
  ["amoswap", (_o, s) => s],
  ["amoadd", (o, s) => o + s],
  ["amoxor", (o, s) => o ^ s],
  ["amoand", (o, s) => o & s],
  ["amoor", (o, s) => o | s],
  ["amomin", (o, s, n) => (BigInt.asIntN(n, o) < BigInt.asIntN(n, s) ? o : s)],
  ["amomax", (o, s, n) => (BigInt.asIntN(n, o) > BigInt.asIntN(n, s) ? o : s)],
  ["amominu", (o, s, n) => (BigInt.asUintN(n, o) < BigInt.asUintN(n, s) ? o : s)],
  ["amomaxu", (o, s, n) => (BigInt.asUintN(n, o) > BigInt.asUintN(n, s) ? o : s)],
];

describe("AMOs", () => {
  for (const [name, model] of AMO) {
    for (const width of ["w", "d"] as const) {
      it(`${name}.${width} returns the old value and stores op(old, rs2)`, () => {
        const bits = width === "w" ? 32 : 64;
        let asm = "";
        const expected: bigint[] = [];
        for (const old of VALUES) {
          for (const src of VALUES) {
            // The word's upper neighbour is a canary for .w.
            asm += `  li a0, ${old}\n  sd a0, 0(s1)\n  li a1, ${src}\n  ${name}.${width} a2, a1, (s1)\n`;
            asm += `  sd a2, 0(s0)\n  ld a3, 0(s1)\n  sd a3, 8(s0)\n  addi s0, s0, 16\n`;
            const o = width === "w" ? sx32(old) : s64(old);
            const n = BigInt.asUintN(bits, model(old, src, bits));
            const mem = width === "w" ? (u64(old) & 0xffffffff00000000n) | n : n;
            expected.push(o, s64(mem));
          }
        }
        const g = runGuest(`
_start:
  la s0, results
  la s1, word
${asm}
  j pass
.align 3
word: .dword 0
results: .zero ${8 * expected.length}
`);
        expect(outcome(g)).toBe("pass");
        expect(g.dwords("results", expected.length)).toEqual(expected);
      });
    }
  }

  it("rd may equal rs2 or rs1; rd = x0 discards the old value but still writes memory", () => {
    const g = runGuest(`
_start:
  la s1, word
  li gp, 1
  li a1, 5
  amoadd.d a1, a1, (s1)     # rd == rs2: old value 10, memory 15
  li t0, 10
  bne a1, t0, fail
  ld t1, 0(s1)
  li t0, 15
  bne t1, t0, fail
  li gp, 2
  mv a2, s1
  amoswap.d a2, a1, (a2)    # rd == rs1
  li t0, 15
  bne a2, t0, fail
  li gp, 3
  li a3, 1
  amoadd.d x0, a3, (s1)
  ld t1, 0(s1)
  li t0, 11
  bne t1, t0, fail
  j pass
.align 3
word: .dword 10
`);
    expect(outcome(g)).toBe("pass");
  });
});

describe("LR/SC", () => {
  it("a paired LR/SC succeeds (rd = 0) and stores; lr.w sign-extends", () => {
    const g = runGuest(`
_start:
  la s1, word
  li gp, 1
  lr.w a0, (s1)
  li t0, -0x80000000
  bne a0, t0, fail
  li a1, 0x1234
  sc.w a2, a1, (s1)
  bnez a2, fail
  lw t1, 0(s1)
  li t0, 0x1234
  bne t1, t0, fail
  li gp, 2
  lr.d a0, (s1)
  addi a0, a0, 1
  sc.d a2, a0, (s1)
  bnez a2, fail
  ld t1, 0(s1)
  li t0, 0x1235
  bne t1, t0, fail
  j pass
.align 3
word: .word 0x80000000
  .word 0
`);
    expect(outcome(g)).toBe("pass");
  });

  it("an SC fails without a reservation, after another SC, or at another address, and then does not store", () => {
    const g = runGuest(`
_start:
  la s1, word
  li a1, 99
  li gp, 1
  sc.d a2, a1, (s1)         # no LR yet
  beqz a2, fail
  ld t1, 0(s1)
  li t0, 7
  bne t1, t0, fail

  li gp, 2
  lr.d a0, (s1)
  sc.d a2, a0, (s1)
  bnez a2, fail
  sc.d a2, a1, (s1)         # the reservation was consumed
  beqz a2, fail
  ld t1, 0(s1)
  li t0, 7
  bne t1, t0, fail

  li gp, 3
  lr.d a0, (s1)
  addi s2, s1, 64
  sc.d a2, a1, (s2)         # not the reserved address
  beqz a2, fail
  ld t1, 0(s2)
  bnez t1, fail
  sc.d a2, a1, (s1)         # the failed SC also ended the reservation
  beqz a2, fail

  li gp, 4
  lr.w a0, (s1)
  sc.w a2, a1, (s1)
  bnez a2, fail
  ld t1, 0(s1)
  li t0, 99
  bne t1, t0, fail
  j pass
.align 6
word: .dword 7
  .zero 120
`);
    expect(outcome(g)).toBe("pass");
  });

  it("a device's DMA write to the reserved doubleword makes the SC fail; a write elsewhere does not", () => {
    const source = `
_start:
  la s1, word
  lr.d a0, (s1)
  li a1, 42
  sc.d a2, a1, (s1)
  j pass
.align 3
word: .dword 7
other: .dword 0
`;
    for (const [where, fails] of [
      ["word", true],
      ["other", false],
    ] as const) {
      const g = runGuest(source, { noRun: true });
      const h = g.machine.hart;
      expect(h.run(3)).toBe(ExitReason.BUDGET); // la (2 instructions) and lr.d
      h.ramChanged(g.sym(where) + 4, 4); // a write by someone else, e.g. a DMA engine
      expect(outcome(g.machine.run(100))).toBe("pass");
      expect(g.x(12)).toBe(fails ? 1n : 0n);
      expect(g.dword("word")).toBe(fails ? 7n : 42n);
    }
  });

  it("a misaligned store reaching into the reserved doubleword makes the SC fail; one beside it does not", () => {
    const g = runGuest(`
_start:
  la s1, word
  addi s2, s1, 8
  li a1, -1
  lr.d a0, (s2)
  sd a1, 5(s1)
  sc.d a4, a1, (s2)
  lr.d a0, (s2)
  sd a1, 17(s1)
  sc.d a5, a1, (s2)
  j pass
.balign 4096
word: .dword 0, 0, 0, 0
.balign 4096
`);
    expect(outcome(g)).toBe("pass");
    // (A page of its own, without code or the watched tohost: the stores take the hart's path for
    // misaligned stores inside a page of plain RAM.)
    expect(g.x(14)).toBe(1n);
    expect(g.x(15)).toBe(0n);
    // Bytes 5-12 and 17-24 written by the stores, 8-15 by the second SC.
    expect(g.dword("word")).toBe(-0x100_0000_0000n);
  });

  it("misaligned LR/SC/AMO raise address-misaligned exceptions (load for LR, store/AMO otherwise)", () => {
    const g = runGuest(`
_start:
  la t0, handler
  csrw mtvec, t0
  la s1, word
  li gp, 1
  addi a0, s1, 4
  lr.d a1, (a0)
  li t0, 4
  bne s2, t0, fail
  bne s3, a0, fail
  li gp, 2
  addi a0, s1, 2
  sc.w a1, a1, (a0)
  li t0, 6
  bne s2, t0, fail
  bne s3, a0, fail
  li gp, 3
  addi a0, s1, 1
  amoadd.w a1, a1, (a0)
  li t0, 6
  bne s2, t0, fail
  bne s3, a0, fail
  j pass
handler:
  csrr s2, mcause
  csrr s3, mtval
  csrr t0, mepc
  addi t0, t0, 4
  csrw mepc, t0
  mret
.align 3
word: .dword 0, 0
`);
    expect(outcome(g)).toBe("pass");
  });
});
