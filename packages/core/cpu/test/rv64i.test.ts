/**
 * RV64I, instruction by instruction (unprivileged spec chapters 2 and 5):
 * each case loads operands with `li`, runs the instruction and stores the
 * result to memory; the test compares the stored words with a BigInt model
 * written from the spec.
 */
import { describe, expect, it } from "vitest";
import { EDGE64, outcome, randomDwords, runGuest, s64, sx32, u64 } from "./helpers.js";
import { brief, mtraps, privPass } from "./priv.js";

/** Run `body` (which stores results through s0, advancing it) and return `count` result words. */
function results(body: string, count: number): bigint[] {
  const g = runGuest(`
_start:
  la s0, results
${body}
  j pass
.align 3
results: .zero ${8 * count}
`);
  expect(outcome(g)).toBe("pass");
  return g.dwords("results", count);
}

const store = "  sd a2, 0(s0)\n  addi s0, s0, 8\n";

/** Asm and expected values for a register-register operation over all pairs of `values`. */
function rr(op: string, values: readonly bigint[], model: (a: bigint, b: bigint) => bigint) {
  let asm = "";
  const expected: bigint[] = [];
  for (const a of values) {
    for (const b of values) {
      asm += `  li a0, ${a}\n  li a1, ${b}\n  ${op} a2, a0, a1\n${store}`;
      expected.push(s64(model(a, b)));
    }
  }
  return { asm, expected };
}

/** Asm and expected values for an immediate operation. */
function ri(
  op: string,
  values: readonly bigint[],
  imms: readonly number[],
  model: (a: bigint, i: bigint) => bigint,
) {
  let asm = "";
  const expected: bigint[] = [];
  for (const a of values) {
    for (const i of imms) {
      asm += `  li a0, ${a}\n  ${op} a2, a0, ${i}\n${store}`;
      expected.push(s64(model(a, BigInt(i))));
    }
  }
  return { asm, expected };
}

function check(c: { asm: string; expected: bigint[] }): void {
  expect(results(c.asm, c.expected.length)).toEqual(c.expected);
}

const OPERANDS = [...EDGE64, ...randomDwords(8, 7n)];
const SHIFTS = [0n, 1n, 31n, 32n, 33n, 63n, 64n, 65n, 95n, -1n, 0x7fffffe1n];
const lt = (a: bigint, b: bigint) => (s64(a) < s64(b) ? 1n : 0n);
const ltu = (a: bigint, b: bigint) => (u64(a) < u64(b) ? 1n : 0n);

describe("RV64I register-register operations", () => {
  it("add/sub carry and borrow across bit 31/32 and wrap at 64 bits", () => {
    check(rr("add", OPERANDS, (a, b) => a + b));
    check(rr("sub", OPERANDS, (a, b) => a - b));
  });
  it("logical operations", () => {
    check(rr("and", OPERANDS, (a, b) => a & b));
    check(rr("or", OPERANDS, (a, b) => a | b));
    check(rr("xor", OPERANDS, (a, b) => a ^ b));
  });
  it("slt/sltu compare signed and unsigned", () => {
    check(rr("slt", OPERANDS, lt));
    check(rr("sltu", OPERANDS, ltu));
  });
  it("sll/srl/sra use the low 6 bits of rs2", () => {
    const a = [0x8000000000000001n, -1n, 0x123456789abcdef0n, 1n, 0x80000000n];
    const cases = (op: string, f: (v: bigint, s: bigint) => bigint) => {
      let asm = "";
      const expected: bigint[] = [];
      for (const v of a) {
        for (const s of SHIFTS) {
          asm += `  li a0, ${v}\n  li a1, ${s}\n  ${op} a2, a0, a1\n${store}`;
          expected.push(s64(f(v, u64(s) & 63n)));
        }
      }
      return { asm, expected };
    };
    check(cases("sll", (v, s) => v << s));
    check(cases("srl", (v, s) => u64(v) >> s));
    check(cases("sra", (v, s) => s64(v) >> s));
  });
  it("W forms compute on 32 bits and sign-extend; shifts use the low 5 bits", () => {
    check(rr("addw", OPERANDS, (a, b) => sx32(a + b)));
    check(rr("subw", OPERANDS, (a, b) => sx32(a - b)));
    const a = [0x80000001n, -1n, 0x123456789abcdef0n, 1n, 0x7fffffffn, 0xffffffff00000000n];
    const cases = (op: string, f: (v: bigint, s: bigint) => bigint) => {
      let asm = "";
      const expected: bigint[] = [];
      for (const v of a) {
        for (const s of SHIFTS) {
          asm += `  li a0, ${v}\n  li a1, ${s}\n  ${op} a2, a0, a1\n${store}`;
          expected.push(f(v, u64(s) & 31n));
        }
      }
      return { asm, expected };
    };
    check(cases("sllw", (v, s) => sx32(v << s)));
    check(cases("srlw", (v, s) => sx32(BigInt.asUintN(32, v) >> s)));
    check(cases("sraw", (v, s) => sx32(sx32(v) >> s)));
  });
});

describe("RV64I immediate operations", () => {
  const IMMS = [0, 1, -1, 2047, -2048, 0x555, -0x556];
  it("addi/slti/sltiu/xori/ori/andi sign-extend the 12-bit immediate", () => {
    check(ri("addi", OPERANDS, IMMS, (a, i) => a + i));
    check(ri("slti", OPERANDS, IMMS, lt));
    check(ri("sltiu", OPERANDS, IMMS, ltu));
    check(ri("xori", OPERANDS, IMMS, (a, i) => a ^ i));
    check(ri("ori", OPERANDS, IMMS, (a, i) => a | i));
    check(ri("andi", OPERANDS, IMMS, (a, i) => a & i));
  });
  it("slli/srli/srai take shift amounts 0..63", () => {
    const sh = [0, 1, 31, 32, 33, 63];
    const a = [0x8000000000000001n, -1n, 0x123456789abcdef0n, 0x80000000n];
    check(ri("slli", a, sh, (v, s) => v << s));
    check(ri("srli", a, sh, (v, s) => u64(v) >> s));
    check(ri("srai", a, sh, (v, s) => s64(v) >> s));
  });
  it("addiw/slliw/srliw/sraiw sign-extend 32-bit results", () => {
    check(ri("addiw", OPERANDS, IMMS, (a, i) => sx32(a + i)));
    const sh = [0, 1, 15, 31];
    const a = [0x80000001n, -1n, 0x123456789abcdef0n, 0x7fffffffn, 0xffffffff00000000n];
    check(ri("slliw", a, sh, (v, s) => sx32(v << s)));
    check(ri("srliw", a, sh, (v, s) => sx32(BigInt.asUintN(32, v) >> s)));
    check(ri("sraiw", a, sh, (v, s) => sx32(sx32(v) >> s)));
  });
  it("lui sign-extends bit 31; auipc adds to the pc", () => {
    const r = results(
      `
  lui a2, 0x80000
${store}  lui a2, 0x7ffff
${store}  lui a2, 0xfffff
${store}here:
  auipc a2, 0
  la a3, here
  sub a2, a2, a3
${store}  auipc a2, 0x80000
  auipc a3, 0
  sub a2, a2, a3
${store}`,
      5,
    );
    expect(r).toEqual([-0x80000000n, 0x7ffff000n, -0x1000n, 0n, -0x80000000n - 4n]);
  });
});

describe("x0", () => {
  it("reads as zero whatever is written to it", () => {
    const r = results(
      `
  li a0, 5
  addi x0, a0, 1
  add x0, a0, a0
  lui x0, 0x12345
  la a1, results
  ld x0, 0(a1)
  jal x0, 1f
1:
  mv a2, x0
${store}  addi a2, x0, -1
${store}`,
      2,
    );
    expect(r).toEqual([0n, -1n]);
  });
});

describe("fences", () => {
  it("fence and fence.i ignore their reserved fields (rs1, rd, fm, fence.i imm) and do not trap", () => {
    // Unprivileged spec 2.7 and 3.1: base implementations shall ignore these fields.
    const g = runGuest(`
_start:
  la t0, handler
  csrw mtvec, t0
  .word 0x0335850f          # fence rw, rw with rs1 = a1, rd = a0
  .word 0x8335850f          # fm = 1000 (TSO) with other pred/succ: a normal fence
  .word 0xf335850f          # reserved fm: a normal fence
  .word 0x0100000f          # pause
  .word 0xfff5950f          # fence.i with imm, rs1 and rd set
  j pass
handler:
  j fail
`);
    expect(outcome(g)).toBe("pass");
  });
});

describe("reserved encodings", () => {
  it("raise illegal instruction with the instruction bits in mtval", () => {
    const words = [
      0x0205151b, // slliw with shamt[5] set
      0xc015551b, // srliw/sraiw with a bad funct7
      0x4205551b, // sraiw with shamt[5] set
      0x04051533, // OP with funct7 = 2
      0x0000707f, // opcode 0x7f
      0x00008073, // ecall with rd != 0
      0x00200073, // funct12 = 2 (no uret)
      0x12000f73, // sfence.vma with rd != 0
    ];
    const g = privPass(words.map((w) => `  .word ${w}`).join("\n"));
    expect(brief(mtraps(g))).toEqual(words.map((w) => [2n, BigInt(w)]));
  });
});

describe("branches and jumps", () => {
  it("each branch compares as specified (signed/unsigned, all pairs)", () => {
    const vals = [0n, 1n, -1n, 0x7fffffffffffffffn, -0x8000000000000000n, 0x80000000n, 0xffffffffn];
    const ops: [string, (a: bigint, b: bigint) => boolean][] = [
      ["beq", (a, b) => a === b],
      ["bne", (a, b) => a !== b],
      ["blt", (a, b) => a < b],
      ["bge", (a, b) => a >= b],
      ["bltu", (a, b) => u64(a) < u64(b)],
      ["bgeu", (a, b) => u64(a) >= u64(b)],
    ];
    let asm = "";
    const expected: bigint[] = [];
    let n = 0;
    for (const [op, f] of ops) {
      for (const a of vals) {
        for (const b of vals) {
          n++;
          asm += `  li a0, ${a}\n  li a1, ${b}\n  li a2, 1\n  ${op} a0, a1, 1f\n  li a2, 0\n1:\n${store}`;
          expected.push(f(a, b) ? 1n : 0n);
        }
      }
    }
    expect(results(asm, n)).toEqual(expected);
  });

  it("backward branches, jal/jalr links, jalr clears bit 0 and reads rs1 before writing rd", () => {
    const g = runGuest(`
_start:
  li gp, 1
  li a0, 3
  li a1, 0
1:
  addi a1, a1, 1
  addi a0, a0, -1
  bnez a0, 1b
  li t0, 3
  bne a1, t0, fail

  li gp, 2
  jal ra, target1
back1:
  la t0, back1
  bne ra, t0, fail

  li gp, 3
  la t1, target2
  addi t1, t1, 1        # odd target: bit 0 is cleared
  jalr t2, 0(t1)
back2:
  la t0, back2
  bne t2, t0, fail

  li gp, 4
  la t1, target3
  jalr t1, 0(t1)        # rd == rs1: jump uses the old value
back3:
  la t0, back3
  bne t1, t0, fail

  li gp, 5
  la t1, target4 + 8
  jalr x0, -8(t1)       # negative offset
  j fail
target4:
  j pass

target1:
  ret
target2:
  jr t2
target3:
  jr t1
`);
    expect(outcome(g)).toBe("pass");
  });
});

describe("loads and stores", () => {
  it("sign- and zero-extend every load width", () => {
    const r = results(
      `
  la a0, data
  lb a2, 0(a0)
${store}  lbu a2, 0(a0)
${store}  lh a2, 0(a0)
${store}  lhu a2, 0(a0)
${store}  lw a2, 0(a0)
${store}  lwu a2, 0(a0)
${store}  ld a2, 0(a0)
${store}  lb a2, 8(a0)
${store}  lh a2, 8(a0)
${store}  lw a2, 8(a0)
${store}  lw a2, 20(a0)
${store}  lwu a2, 20(a0)
${store}  addi a1, a0, 24
  ld a2, -24(a1)
${store}  j 2f
.align 3
data:
  .dword 0xfedcba9876f5f3f1
  .dword 0x0000000071727374
  .dword 0x8000000000000000
2:
`,
      13,
    );
    expect(r).toEqual([
      -0xfn,
      0xf1n,
      -0xc0fn,
      0xf3f1n,
      0x76f5f3f1n,
      0x76f5f3f1n,
      s64(0xfedcba9876f5f3f1n),
      0x74n,
      0x7374n,
      0x71727374n,
      -0x80000000n,
      0x80000000n,
      s64(0xfedcba9876f5f3f1n),
    ]);
  });

  it("stores write only their width; misaligned accesses (also across pages) are done in hardware", () => {
    const g = runGuest(`
_start:
  la s1, buf
  li a0, -1
  sd a0, 0(s1)
  li a1, 0x12
  sb a1, 1(s1)
  li a1, 0x3456
  sh a1, 2(s1)
  li a1, 0x789abcde
  sw a1, 4(s1)
  ld a2, 0(s1)
  la s0, results
  sd a2, 0(s0)
  # Misaligned: within a page and across a page boundary.
  li a1, 0x1122334455667788
  sd a1, 3(s1)
  ld a2, 3(s1)
  sd a2, 8(s0)
  lw a2, 5(s1)
  sd a2, 16(s0)
  li t0, 4093
  add t1, s1, t0        # 3 bytes before the next page
  sd a1, 0(t1)
  ld a2, 0(t1)
  sd a2, 24(s0)
  lhu a2, 2(t1)         # straddles the boundary
  sd a2, 32(s0)
  lh a2, 1(t1)
  sd a2, 40(s0)
  j pass
.align 3
results: .zero 48
.align 12
buf: .zero 8192
`);
    expect(outcome(g)).toBe("pass");
    expect(g.dwords("results", 6)).toEqual([
      s64(0x789abcde345612ffn),
      0x1122334455667788n,
      0x33445566n,
      0x1122334455667788n,
      0x5566n,
      0x6677n,
    ]);
  });
});
