/**
 * The M extension (unprivileged spec chapter 7): products, high products
 * with every signedness, division and remainder including the corner cases
 * the spec defines instead of trapping (x/0 and MIN/-1), and the W forms.
 * Results are checked against a BigInt model written from the spec.
 */
import { describe, expect, it } from "vitest";
import { EDGE64, outcome, randomDwords, runGuest, s64, sx32, u64 } from "./helpers.js";

const MIN = -0x8000000000000000n;

function run(op: string, pairs: [bigint, bigint][], model: (a: bigint, b: bigint) => bigint): void {
  let asm = "";
  for (const [a, b] of pairs)
    asm += `  li a0, ${a}\n  li a1, ${b}\n  ${op} a2, a0, a1\n  sd a2, 0(s0)\n  addi s0, s0, 8\n`;
  const g = runGuest(`
_start:
  la s0, results
${asm}
  j pass
.align 3
results: .zero ${8 * pairs.length}
`);
  expect(outcome(g)).toBe("pass");
  const got = g.dwords("results", pairs.length);
  const expected = pairs.map(([a, b]) => s64(model(a, b)));
  // Report the failing operands, not just the index.
  const bad = pairs.flatMap(([a, b], i) =>
    got[i] === expected[i] ? [] : [`${op} ${a}, ${b} = ${got[i]}, expected ${expected[i]}`],
  );
  expect(bad).toEqual([]);
  expect(got).toEqual(expected);
}

/** All pairs of edge values plus pseudo-random pairs. */
function pairs(seed: bigint): [bigint, bigint][] {
  const out: [bigint, bigint][] = [];
  for (const a of EDGE64) for (const b of EDGE64) out.push([a, b]);
  const r = randomDwords(96, seed);
  for (let i = 0; i < r.length; i += 2) out.push([r[i]!, r[i + 1]!]);
  return out;
}

// Spec models: division truncates toward zero; x/0 = -1 (all ones) and x%0 = x;
// MIN/-1 = MIN and MIN%-1 = 0 (unprivileged spec 7.2, table 7.1).
const div = (a: bigint, b: bigint, bits: number) => {
  const sa = BigInt.asIntN(bits, a);
  const sb = BigInt.asIntN(bits, b);
  if (sb === 0n) return -1n;
  if (sa === -(1n << BigInt(bits - 1)) && sb === -1n) return sa;
  return sa / sb;
};
const rem = (a: bigint, b: bigint, bits: number) => {
  const sa = BigInt.asIntN(bits, a);
  const sb = BigInt.asIntN(bits, b);
  if (sb === 0n) return sa;
  if (sa === -(1n << BigInt(bits - 1)) && sb === -1n) return 0n;
  return sa % sb;
};
const divu = (a: bigint, b: bigint, bits: number) => {
  const ua = BigInt.asUintN(bits, a);
  const ub = BigInt.asUintN(bits, b);
  return ub === 0n ? -1n : ua / ub;
};
const remu = (a: bigint, b: bigint, bits: number) => {
  const ua = BigInt.asUintN(bits, a);
  const ub = BigInt.asUintN(bits, b);
  return ub === 0n ? ua : ua % ub;
};

describe("M extension: multiplication", () => {
  it("mul keeps the low 64 bits", () => run("mul", pairs(1n), (a, b) => a * b));
  it("mulh: signed x signed, high 64 bits (negative operands)", () =>
    run("mulh", pairs(2n), (a, b) => (s64(a) * s64(b)) >> 64n));
  it("mulhu: unsigned x unsigned, high 64 bits", () =>
    run("mulhu", pairs(3n), (a, b) => (u64(a) * u64(b)) >> 64n));
  it("mulhsu: signed rs1 x unsigned rs2, high 64 bits", () =>
    run("mulhsu", pairs(4n), (a, b) => (s64(a) * u64(b)) >> 64n));
  it("mulw multiplies the low words and sign-extends", () => run("mulw", pairs(5n), (a, b) => sx32(a * b)));
});

describe("M extension: division", () => {
  it("div/rem: truncation, x/0, MIN/-1", () => {
    const extra: [bigint, bigint][] = [
      [MIN, -1n],
      [MIN, 1n],
      [MIN, 0n],
      [-7n, 2n],
      [7n, -2n],
      [-7n, -2n],
      [0n, 0n],
    ];
    run("div", [...pairs(6n), ...extra], (a, b) => div(a, b, 64));
    run("rem", [...pairs(7n), ...extra], (a, b) => rem(a, b, 64));
  });
  it("divu/remu: x/0 gives all ones and the dividend", () => {
    run("divu", pairs(8n), (a, b) => divu(a, b, 64));
    run("remu", pairs(9n), (a, b) => remu(a, b, 64));
  });
  it("divw/remw/divuw/remuw use the low words and sign-extend 32-bit results", () => {
    const extra: [bigint, bigint][] = [
      [-0x80000000n, -1n],
      [0x180000000n, 0xffffffffn], // low words MIN and -1
      [0x123456780n, 0n],
      [-7n, 2n],
      [0xffffffff00000007n, 0x1fffffffen], // upper halves ignored
    ];
    run("divw", [...pairs(10n), ...extra], (a, b) => sx32(div(a, b, 32)));
    run("remw", [...pairs(11n), ...extra], (a, b) => sx32(rem(a, b, 32)));
    run("divuw", [...pairs(12n), ...extra], (a, b) => sx32(divu(a, b, 32)));
    run("remuw", [...pairs(13n), ...extra], (a, b) => sx32(remu(a, b, 32)));
  });
  it("writes to x0 are discarded and rd may equal a source", () => {
    const g = runGuest(`
_start:
  li gp, 1
  li a0, 6
  li a1, 7
  mul x0, a0, a1
  bnez x0, fail
  li gp, 2
  mul a0, a0, a1
  li t0, 42
  bne a0, t0, fail
  li gp, 3
  div a1, a0, a1
  li t0, 6
  bne a1, t0, fail
  j pass
`);
    expect(outcome(g)).toBe("pass");
  });
});
