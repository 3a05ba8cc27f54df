/**
 * Encode -> decode -> disassemble -> assemble over the whole table: for
 * random operands of every instruction (compressed ones included), the text
 * the disassembler prints, with and without aliases, assembles back to the
 * same bits at the same address.
 */
import { describe, expect, it } from "vitest";
import {
  ALIAS_TABLE,
  assemble,
  decode,
  disassemble,
  disassembleText,
  encodeInstruction,
  expandCompressed,
  type Field,
  getField,
  INSTRUCTIONS,
  type Instruction,
  instructionLength,
  type Ordering,
} from "../src/index.js";
import { rng } from "./random.js";

/** A random value that fits the field, biased towards the ends of its range. */
function randomValue(f: Field, next: () => number): number {
  const lo = (f.signed ? -(2 ** (f.width - 1)) : 0) + f.offset;
  const hi = (f.signed ? 2 ** (f.width - 1) - 1 : 2 ** f.width - 1) + f.offset;
  const step = 2 ** f.align;
  const pick = next() % 8;
  if (pick === 0) return lo;
  if (pick === 1) return hi - ((hi - f.offset) % step);
  if (pick === 2 && lo <= 0 && hi >= 0) return 0;
  return lo + Math.floor(((next() / 2 ** 32) * (hi - lo + 1)) / step) * step;
}

/** Addresses to assemble at: the usual RAM base, zero (targets wrap below it) and the top of the address space. */
const PCS = [0x8000_0000n, 0n, 0xffff_ffff_ffff_f000n, 0x1234_5678_9abc_d000n];

/** Encode random operands until the word decodes back to `insn` (overlapping patterns are skipped). */
function sample(insn: Instruction, next: () => number): { bits: number; ordering: Ordering } | undefined {
  for (let attempt = 0; attempt < 100; attempt++) {
    const values = insn.fields.map((f) => randomValue(f, next));
    const ordering: Ordering = insn.aqrl ? { aq: (next() & 1) === 1, rl: (next() & 2) === 2 } : {};
    let bits: number;
    try {
      bits = encodeInstruction(insn, values, ordering);
    } catch {
      continue; // a reserved zero in a non-zero field
    }
    if (decode(bits) === insn.id) return { bits, ordering };
  }
  return undefined;
}

/** The first instruction of an assembled image. */
function firstInstruction(bytes: Uint8Array): { bits: number; length: 2 | 4 } {
  const length = instructionLength(bytes[0]! | (bytes[1]! << 8));
  let bits = 0;
  for (let i = length - 1; i >= 0; i--) bits = ((bits << 8) | bytes[i]!) >>> 0;
  return { bits, length };
}

const hex = (v: number): string => `0x${v.toString(16)}`;

/** The spec's RVC HINT encodings (unprivileged spec, "RVC HINT instructions"), which assemblers do not compress into. */
function isCompressedHint(insn: Instruction, bits: number): boolean {
  const zero = (name: string): boolean => {
    const f = insn.fields.find((g) => g.name === name);
    return f !== undefined && getField(f, bits) === 0;
  };
  switch (insn.name) {
    case "c.addi":
      return zero("crd") || zero("cimm6");
    case "c.li":
    case "c.lui":
    case "c.mv":
    case "c.add":
      return zero("crd");
    case "c.slli":
      return zero("crd") || zero("cshamt");
    case "c.srli":
    case "c.srai":
      return zero("cshamt");
    default:
      return false;
  }
}

const SAMPLES = 40;

describe("every table instruction round-trips through the disassembler and the assembler", () => {
  for (const insn of INSTRUCTIONS) {
    it(insn.name, () => {
      const next = rng(insn.id * 7919 + 1);
      let done = 0;
      for (let n = 0; n < SAMPLES; n++) {
        const s = sample(insn, next);
        if (!s) continue;
        done++;
        const pc = PCS[n % PCS.length]!;
        const exact = disassembleText(s.bits, pc, { aliases: false });
        const back = assemble(exact, { base: pc });
        expect(back.bytes.length, exact).toBe(insn.length);
        expect(hex(firstInstruction(back.bytes).bits), `${exact} at ${pc.toString(16)}`).toBe(hex(s.bits));

        const pretty = disassembleText(s.bits, pc);
        if (insn.length === 4) {
          const r = assemble(pretty, { base: pc });
          expect(r.bytes.length, pretty).toBe(4);
          expect(hex(firstInstruction(r.bytes).bits), `${pretty} at ${pc.toString(16)}`).toBe(hex(s.bits));
        } else {
          // The alias form prints the expansion; assembling it with compression finds a 16-bit
          // form with the same expansion (maybe a different one, e.g. c.addi for c.addi16sp),
          // except for HINT encodings, which are not compressed into.
          const r = assemble(pretty, { base: pc, compress: true });
          const got = firstInstruction(r.bytes);
          const want = expandCompressed(s.bits) >>> 0;
          if (isCompressedHint(insn, s.bits)) {
            // Not compressed back into a HINT, but it means the same: it prints the same text
            // (`mv t6, t6` from the HINT c.addi t6, 0 may become c.mv t6, t6).
            if (got.length === 2)
              expect(isCompressedHint(INSTRUCTIONS[decode(got.bits)]!, got.bits)).toBe(false);
            expect(disassembleText(got.bits, pc), pretty).toBe(pretty);
          } else {
            expect(got.length, `${pretty} (from ${exact})`).toBe(2);
            expect(hex(expandCompressed(got.bits) >>> 0), pretty).toBe(hex(want));
          }
        }
      }
      expect(done, "samples that decode to the instruction itself").toBeGreaterThan(SAMPLES / 2);
    });
  }
});

describe("every printable alias round-trips", () => {
  for (const [k, alias] of ALIAS_TABLE.entries()) {
    if (!alias.print) continue;
    it(`${alias.name} (${alias.of.name}${alias.compressedOnly ? ", compressed only" : ""})`, () => {
      const next = rng(k * 104729 + 3);
      let printed = 0;
      for (let n = 0; n < SAMPLES; n++) {
        const byField = new Map(alias.of.fields.map((f) => [f, randomValue(f, next)]));
        for (const [f, v] of alias.constants) byField.set(f, v);
        for (const [f, g] of alias.equal) byField.set(f, byField.get(g)!);
        const bits = encodeInstruction(
          alias.of,
          alias.of.fields.map((f) => byField.get(f)!),
        );
        const pc = PCS[n % PCS.length]!;
        const d = disassemble(bits, pc);
        if (d.mnemonic === alias.name) printed++;
        const text = d.operands ? `${d.mnemonic}\t${d.operands}` : d.mnemonic;
        const r = assemble(text, { base: pc });
        expect(hex(firstInstruction(r.bytes).bits), `${text} at ${pc.toString(16)}`).toBe(hex(bits));
      }
      // Compressed-only aliases print only for expanded compressed instructions (covered above).
      if (!alias.compressedOnly) expect(printed, "times the alias itself was printed").toBeGreaterThan(0);
    });
  }
});
