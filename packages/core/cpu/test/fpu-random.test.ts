// Seeded random cases aimed at the FPU's hardest paths, checked in all five rounding
// modes against the BigInt reference (itself checked against hardware in
// fpu-rmm.test.ts): fma results on or next to ties where the double-double expansion
// needs its correction step, cancellations, and the BigInt slow paths of mul/div/fma
// at the ends of the exponent range.
import { describe, expect, it } from "vitest";
import { Fpu } from "../src/fpu.js";
import { getF, SPECS, setF } from "./fpu-vectors/harness.js";
import { expected } from "./fpu-vectors/oracle.js";

/** xorshift32, seeded: the same cases on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

const buf = new Float64Array(1);
const words = new Uint32Array(buf.buffer);
const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, "0");
const hexD = (v: number): string => {
  buf[0] = v;
  return hex8(words[1]!) + hex8(words[0]!);
};
const fromBits = (hi: number, lo: number): number => {
  words[0] = lo;
  words[1] = hi;
  return buf[0]!;
};
const single = new Float32Array(1);
const singleWord = new Uint32Array(single.buffer);
const hexS = (v: number): string => {
  single[0] = v;
  return hex8(singleWord[0]!);
};
/** The binary32 next to s (finite, non-zero) away from zero. */
const stepS = (s: number): number => {
  single[0] = s;
  singleWord[0]!++;
  return single[0]!;
};

/** A double in [2^e, 2^(e+1)) with random sign and `bits` significant bits (1..53). */
function randomD(next: () => number, e: number, bits = 53): number {
  let m = 2 ** 52 + (next() & 0xfffff) * 2 ** 32 + next();
  const drop = 2 ** (53 - bits);
  m = Math.floor(m / drop) * drop;
  const v = m * 2 ** (e - 52);
  return next() & 1 ? -v : v;
}

/** The exact product a*b as uh + ul (Dekker; operands in a safe range). */
function twoProduct(a: number, b: number): [number, number] {
  const split = (v: number): [number, number] => {
    const t = 134217729 * v;
    const h = t - (t - v);
    return [h, v - h];
  };
  const p = a * b;
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

/** The next double away from zero (k > 0) or towards it (k < 0), by |k| steps. */
function step(v: number, k: number): number {
  buf[0] = v;
  const big = BigInt(words[1]!) * 4294967296n + BigInt(words[0]!) + BigInt(k);
  return fromBits(Number(big >> 32n), Number(big & 0xffffffffn));
}

function ulp(v: number): number {
  return Math.abs(step(v, 1) - v);
}

/** fma operand triples (a, b, c) for binary64 aimed at ties and near-ties of a*b + c. */
function fmaCasesD(count: number, seed: number): number[][] {
  const next = rng(seed);
  const out: number[][] = [];
  while (out.length < count) {
    const kind = next() % 6;
    const ea = (next() % 80) - 40;
    const eb = (next() % 80) - 40;
    const a = randomD(next, ea, kind === 5 ? 20 + (next() % 14) : 53);
    const b = randomD(next, eb, kind === 5 ? 20 + (next() % 14) : 53);
    const [uh, ul] = twoProduct(a, b);
    const h = ulp(uh) / 2;
    const lsb = ul === 0 ? h * 2 ** -52 : ulp(ul);
    const jitter = ((next() % 7) - 3) * lsb * (next() & 1 ? 1 : 2 ** -(next() % 4));
    let c: number;
    switch (kind) {
      case 0: // X near uh + h: c cancels ul and adds half an ulp
        c = h - ul + jitter;
        break;
      case 1: // X near uh - h, where uh may be a power of two (smaller gap below)
        c = -h - ul + jitter;
        break;
      case 2: // exact-ish cancellation of the product
        c = -uh + ((next() % 9) - 4) * h + (next() & 1 ? -ul : 0);
        break;
      case 3: // c a few binades below the product: e1, ul and e2 all non-zero
        c = randomD(next, Math.floor(Math.log2(Math.abs(uh))) - 1 - (next() % 30));
        break;
      case 4: // quarter and three-quarter points
        c = (next() & 1 ? 0.5 : 1.5) * h - ul + jitter;
        break;
      default: // short significands: exact products, ties with a half-ulp addend
        c = (next() & 1 ? h : -h) * (next() & 1 ? 1 : 3);
    }
    if (Number.isFinite(c)) out.push([a, b, c]);
  }
  return out;
}

/** Operand pairs/triples at the ends of the exponent range (slow paths, subnormals, overflow). */
function extremeCasesD(count: number, seed: number, arity: number): number[][] {
  const next = rng(seed);
  const out: number[][] = [];
  const pickE = (): number => {
    switch (next() % 4) {
      case 0:
        return -1074 + (next() % 60);
      case 1:
        return 1023 - (next() % 40);
      case 2:
        return -540 + (next() % 80) - 40;
      default:
        return 511 + (next() % 40) - 20;
    }
  };
  while (out.length < count) {
    const row: number[] = [];
    for (let i = 0; i < arity; i++) {
      const e = pickE();
      row.push(e < -1022 ? randomD(next, -1022) * 2 ** (e + 1022) : randomD(next, e, 1 + (next() % 53)));
    }
    if (row.every(Number.isFinite)) out.push(row);
  }
  return out;
}

function check(file: string, rows: string[][]): string[] {
  const spec = SPECS.find((s) => s.file === file)!;
  const fpu = new Fpu(new Int32Array(64));
  const bad: string[] = [];
  for (const fields of rows) {
    for (let rm = 0; rm <= 4; rm++) {
      const e = expected(file, fields, rm);
      if (!e) continue;
      for (let k = 0; k < fields.length; k++) setF(fpu, k + 1, fields[k]!);
      fpu.fflags = 0;
      spec.run(fpu, rm);
      const got = getF(fpu, 4, spec.result === "fs" ? "s" : "d");
      if ((got !== e.hex || fpu.fflags !== e.flags) && bad.length < 10) {
        bad.push(`${file} ${fields.join(" ")} rm ${rm}: want ${e.hex} ${e.flags}, got ${got} ${fpu.fflags}`);
      }
    }
  }
  return bad;
}

describe("FPU on generated hard cases, all five modes, vs the BigInt reference", () => {
  it("fmadd.d/fnmsub.d near ties (double-double correction paths)", () => {
    const rows = fmaCasesD(6000, 0x1234567).map((r) => r.map(hexD));
    expect(check("d_fmadd", rows)).toEqual([]);
    expect(check("d_fnmsub", rows.slice(0, 1500))).toEqual([]);
  });

  it("fmadd.d and fmul.d/fdiv.d at the ends of the exponent range", () => {
    expect(
      check(
        "d_fmadd",
        extremeCasesD(3000, 0xbeef, 3).map((r) => r.map(hexD)),
      ),
    ).toEqual([]);
    const pairs = extremeCasesD(3000, 0xcafe, 2);
    expect(
      check(
        "d_mul",
        pairs.map((r) => r.map(hexD)),
      ),
    ).toEqual([]);
    expect(
      check(
        "d_div",
        pairs.map((r) => r.map(hexD)),
      ),
    ).toEqual([]);
    expect(
      check(
        "d_sqrt",
        pairs.map((r) => [hexD(Math.abs(r[0]!))]),
      ),
    ).toEqual([]);
  });

  it("fmadd.s near ties and at the ends of the binary32 range", () => {
    const next = rng(0x5eed);
    const rows: string[][] = [];
    while (rows.length < 6000) {
      const e = (next() % 3 === 0 ? -140 : -30) + (next() % 60);
      const a = Math.fround(randomD(next, e >> 1, 1 + (next() % 24)));
      const b = Math.fround(randomD(next, (e >> 1) - (next() % 4), 1 + (next() % 24)));
      const p = a * b; // exact
      const s = Math.fround(p);
      const h = s === 0 ? 2 ** -150 : Math.abs(stepS(s) - s) / 2;
      const c = Math.fround(next() & 1 ? s - p + h * ((next() % 5) - 2) : -s + h * ((next() % 5) - 2));
      if ([a, b, c].every(Number.isFinite)) rows.push([hexS(a), hexS(b), hexS(c)]);
    }
    expect(check("s_fmadd", rows)).toEqual([]);
  });
});
