import { describe, expect, it } from "vitest";
import {
  csrNum,
  FIELDS16,
  FIELDS32,
  type Field,
  fitsField,
  funct3,
  funct7,
  getField,
  immB,
  immI,
  immJ,
  immS,
  immU,
  rd,
  rs1,
  rs2,
  rs3,
  setField,
} from "../src/index.js";
import { rng } from "./random.js";

/** funct7 has no operand field in the table (it is part of the fixed bits), so describe it here. */
const FUNCT7: Field = {
  name: "funct7",
  kind: "imm",
  segments: [[31, 25, 0]],
  width: 7,
  signed: false,
  offset: 0,
  align: 0,
};

const F = (name: string): Field => FIELDS32[name]!;

/** Each hot-path extractor and the declarative field (or expression over one) it must agree with. */
const EXTRACTORS: readonly [string, (w: number) => number, (w: number) => number][] = [
  ["rd", rd, (w) => getField(F("xd"), w)],
  ["rs1", rs1, (w) => getField(F("xs1"), w)],
  ["rs2", rs2, (w) => getField(F("xs2"), w)],
  ["rs3", rs3, (w) => getField(F("fs3"), w)],
  ["funct3", funct3, (w) => getField(F("rm"), w)],
  ["funct7", funct7, (w) => getField(FUNCT7, w)],
  ["immI", immI, (w) => getField(F("imm12"), w)],
  ["immS", immS, (w) => getField(F("simm12"), w)],
  ["immB", immB, (w) => getField(F("boff"), w)],
  ["immU", immU, (w) => (getField(F("uimm20"), w) << 12) | 0],
  ["immJ", immJ, (w) => getField(F("joff"), w)],
  ["csrNum", csrNum, (w) => getField(F("csr"), w)],
];

/** Words worth checking besides random ones: all-zero, all-one, each sign bit alone. */
const EDGE_WORDS = [0, 0xffffffff, 0x80000000, 0x7fffffff, 0x00000fff, 0xfffff000, 0x80000fff];

describe("hot-path field extractors agree with the declarative FIELDS32", () => {
  for (const [name, fast, declarative] of EXTRACTORS) {
    it(name, () => {
      const next = rng(0x5eed ^ name.length);
      const words = [...EDGE_WORDS];
      for (let i = 0; i < 20000; i++) words.push(next());
      for (const w of words) {
        // The interpreter may hold the word as uint32 or int32; both must give the same answer.
        const want = declarative(w);
        if (fast(w >>> 0) !== want || fast(w | 0) !== want) {
          expect.fail(
            `${name}(0x${(w >>> 0).toString(16)}): got ${fast(w >>> 0)}/${fast(w | 0)}, want ${want}`,
          );
        }
      }
    });
  }
});

describe("setField, getField and fitsField are consistent", () => {
  const all = [...Object.values(FIELDS32), ...Object.values(FIELDS16)];
  for (const f of all) {
    it(f.name, () => {
      const next = rng(f.name.charCodeAt(0) * 977 + f.width);
      const lo = (f.signed ? -(2 ** (f.width - 1)) : 0) + f.offset;
      const hi = (f.signed ? 2 ** (f.width - 1) - 1 : 2 ** f.width - 1) + f.offset;
      const step = 2 ** f.align;
      expect(fitsField(f, lo)).toBe(true);
      expect(fitsField(f, hi - ((hi - f.offset) % step))).toBe(true);
      expect(fitsField(f, lo - step)).toBe(false);
      expect(fitsField(f, hi + step)).toBe(false);
      if (step > 1) expect(fitsField(f, lo + 1)).toBe(false);
      for (let i = 0; i < 500; i++) {
        const v = lo + Math.floor(((next() / 2 ** 32) * (hi - lo + 1)) / step) * step;
        expect(fitsField(f, v)).toBe(true);
        const background = next();
        const w = setField(f, background, v);
        expect(getField(f, w)).toBe(v);
        // Bits outside the field are untouched.
        expect(setField(f, w, getField(f, background))).toBe(background >>> 0);
      }
    });
  }
});
