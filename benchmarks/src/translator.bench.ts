/**
 * Guest MIPS of the hart's two engines, the interpreter and the block
 * translator (what binary translation runs on), on two compute-bound
 * bare-metal programs: the Sv39 S-mode integer loop of the cpu suite, and
 * schoolbook bignum multiplication (mul/mulhu, loads, stores, carries: the
 * kind of loop Linux's boot spends most of its time in, verifying
 * signatures). Each run starts from a fresh machine, so the translator's
 * profiling, translation and V8's compilation count in its time. Each case
 * checks the guest's result against a JavaScript reference before timing.
 */
import { BARE_RAM_BASE, BareMachine, type HartEngine } from "@hvkit/cpu";
import { assemble } from "@hvkit/isa";
import b from "benny";
import { mmuLoopProgram } from "./programs.js";

const LOOP_ITERATIONS = 2_000_000;
const BIGNUM_LIMBS = 16;
const BIGNUM_ROUNDS = 3_000;

/** Schoolbook multiplication of two BIGNUM_LIMBS-limb numbers, `rounds` times, folding the product into a. */
function bignumProgram(rounds: number): string {
  const n = BIGNUM_LIMBS;
  return `
_start:
  li s0, ${rounds}
round:
  la a2, r
  li t0, ${2 * n}
1:sd zero, 0(a2)
  addi a2, a2, 8
  addi t0, t0, -1
  bnez t0, 1b
  la a0, a
  la a1, b
  la a2, r
  li s1, 0
iloop:
  slli t6, s1, 3
  add t6, t6, a0
  ld t0, 0(t6)
  li s3, 0
  li s4, 0
jloop:
  slli t6, s4, 3
  add t6, t6, a1
  ld t1, 0(t6)
  mul t2, t0, t1
  mulhu t3, t0, t1
  add t6, s1, s4
  slli t6, t6, 3
  add t6, t6, a2
  ld t4, 0(t6)
  add t2, t2, t4
  sltu t5, t2, t4
  add t3, t3, t5
  add t2, t2, s3
  sltu t5, t2, s3
  add t3, t3, t5
  sd t2, 0(t6)
  mv s3, t3
  addi s4, s4, 1
  li t5, ${n}
  blt s4, t5, jloop
  add t6, s1, s4
  slli t6, t6, 3
  add t6, t6, a2
  sd s3, 0(t6)
  addi s1, s1, 1
  li t5, ${n}
  blt s1, t5, iloop
  # a[k] ^= r[k + n]: the next round multiplies something else.
  li t0, 0
2:slli t6, t0, 3
  add t1, t6, a0
  add t2, t6, a2
  ld t3, 0(t1)
  ld t4, ${8 * n}(t2)
  xor t3, t3, t4
  sd t3, 0(t1)
  addi t0, t0, 1
  li t5, ${n}
  blt t0, t5, 2b
  addi s0, s0, -1
  bnez s0, round
  # s2 = xor of the last product's limbs
  li s2, 0
  la a2, r
  li t0, ${2 * n}
3:ld t1, 0(a2)
  xor s2, s2, t1
  addi a2, a2, 8
  addi t0, t0, -1
  bnez t0, 3b
  la t5, tohost
  li t6, 1
  sd t6, 0(t5)
4:j 4b
# Data on pages of their own: a store to a code page (or the watched tohost page) takes the slow path.
.align 12
a: ${Array.from({ length: n }, (_, i) => `.dword ${limb(1, i)}`).join("\n")}
b: ${Array.from({ length: n }, (_, i) => `.dword ${limb(2, i)}`).join("\n")}
r: .zero ${16 * n}
.align 12
tohost: .dword 0
fromhost: .dword 0
`;
}

/** A deterministic 64-bit limb (as a signed decimal the assembler takes). */
function limb(which: number, i: number): string {
  const v = (BigInt(which) * 0x9e3779b97f4a7c15n + BigInt(i) * 0xbf58476d1ce4e5b9n) & ((1n << 64n) - 1n);
  return BigInt.asIntN(64, v).toString();
}

/** The bignum program's result, computed with BigInt (not timed). */
function bignumReference(rounds: number): bigint {
  const n = BIGNUM_LIMBS;
  const mask = (1n << 64n) - 1n;
  const a = Array.from({ length: n }, (_, i) => BigInt.asUintN(64, BigInt(limb(1, i))));
  const bb = Array.from({ length: n }, (_, i) => BigInt.asUintN(64, BigInt(limb(2, i))));
  let r: bigint[] = [];
  for (let k = 0; k < rounds; k++) {
    r = new Array(2 * n).fill(0n);
    for (let i = 0; i < n; i++) {
      let carry = 0n;
      for (let j = 0; j < n; j++) {
        const t = a[i]! * bb[j]! + r[i + j]! + carry;
        r[i + j] = t & mask;
        carry = t >> 64n;
      }
      r[i + n] = carry;
    }
    for (let i = 0; i < n; i++) a[i] = a[i]! ^ r[i + n]!;
  }
  let x = 0n;
  for (const v of r) x ^= v;
  return BigInt.asIntN(64, x);
}

/** The mmu loop's checksum, computed with BigInt (not timed); the same algorithm as the cpu suite's. */
function loopReference(iterations: number): bigint {
  const mask = (1n << 64n) - 1n;
  const buf = new BigUint64Array(512);
  let s0 = BigInt(iterations);
  let s1 = 0;
  let s2 = 0n;
  while (s0 !== 0n) {
    const t0 = (buf[s1 >> 3]! + s0) & mask;
    const t1 = t0 ^ s2;
    buf[(s1 + 8) >> 3] = t1;
    s2 = (s2 + t1) & mask;
    s1 = (s1 + 16) & 0x7f0;
    s0 -= 1n;
  }
  return BigInt.asIntN(64, s2);
}

interface Program {
  name: string;
  image: ReturnType<typeof assemble>;
  expected: bigint;
}

const programs: Program[] = [
  {
    name: `Sv39 S-mode integer loop (${LOOP_ITERATIONS} iterations)`,
    image: assemble(mmuLoopProgram(LOOP_ITERATIONS), { base: BigInt(BARE_RAM_BASE) }),
    expected: loopReference(LOOP_ITERATIONS),
  },
  {
    name: `bignum multiplication (${BIGNUM_LIMBS} x ${BIGNUM_LIMBS} limbs, ${BIGNUM_ROUNDS} rounds)`,
    image: assemble(bignumProgram(BIGNUM_ROUNDS), { base: BigInt(BARE_RAM_BASE) }),
    expected: bignumReference(BIGNUM_ROUNDS),
  },
];

/** Run `program` once on a fresh machine with `engine`; returns the instructions retired. */
function runOnce(program: Program, engine: HartEngine): number {
  const m = new BareMachine({ ramSize: 1 << 22, engine });
  m.ram.set(program.image.bytes);
  m.hart.ramChanged(BARE_RAM_BASE, program.image.bytes.length);
  m.setTohost(Number(program.image.symbols.get("tohost")));
  m.hart.reset(program.image.entry);
  const r = m.run(2e9);
  if (r.exitCode !== 0 || m.hart.getX(18) !== program.expected) {
    throw new Error(`${program.name} under the ${engine}: the guest's result is wrong`);
  }
  return r.instret;
}

export async function translatorSuite(): Promise<unknown> {
  const results = [];
  for (const program of programs) {
    let instret = 0;
    results.push(
      await b.suite(
        `translator: ${program.name}`,
        b.add("interpreter", () => {
          instret = runOnce(program, "interpreter");
        }),
        b.add("translator", () => {
          instret = runOnce(program, "translator");
        }),
        b.cycle((result: { name: string; ops: number; margin: number }) => {
          const mips = (result.ops * instret) / 1e6;
          return `  ${result.name}: ${mips.toFixed(1)} guest MIPS (±${result.margin}%, ${instret} instructions per run)`;
        }),
        b.complete(),
      ),
    );
  }
  return results;
}
