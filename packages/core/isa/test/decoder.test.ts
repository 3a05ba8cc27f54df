import { describe, expect, it } from "vitest";
import {
  compressedExpansionTable,
  decode,
  decode16,
  decode32,
  expandCompressed,
  ILLEGAL,
  INSTRUCTIONS,
  type Instruction,
  instructionByName,
} from "../src/index.js";
import { rng } from "./random.js";

const popcount = (x: number): number => {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v >>>= 1) n += v & 1;
  return n;
};
const matches = (insn: Instruction, w: number): boolean => (w & insn.mask) >>> 0 === insn.match >>> 0;
const name = (id: number): string => (id === ILLEGAL ? "ILLEGAL" : INSTRUCTIONS[id]!.name);
const wide = INSTRUCTIONS.filter((i) => i.length === 4);
const narrow = INSTRUCTIONS.filter((i) => i.length === 2);
const id = (n: string): number => instructionByName(n)!.id;

describe("decode32", () => {
  it("decodes every 32-bit table entry's own match to that entry", () => {
    for (const insn of wide) expect(name(decode32(insn.match)), insn.name).toBe(insn.name);
  });

  it("decodes random words matching an entry to the most specific matching entry", () => {
    const next = rng(32);
    for (const insn of wide) {
      for (let i = 0; i < 200; i++) {
        const w = ((next() & ~insn.mask) | insn.match) >>> 0;
        const got = decode32(w);
        expect(got, `0x${w.toString(16)} (${insn.name})`).not.toBe(ILLEGAL);
        const g = INSTRUCTIONS[got]!;
        expect(matches(g, w)).toBe(true);
        // No matching entry is more specific than the one chosen.
        for (const other of wide) {
          if (matches(other, w)) expect(popcount(other.mask)).toBeLessThanOrEqual(popcount(g.mask));
        }
      }
    }
  });

  it("resolves the overlapping patterns most-specific first", () => {
    expect(name(decode32(0x8330000f))).toBe("fence.tso"); // fm=1000 pred=rw succ=rw
    expect(name(decode32(0x0330000f))).toBe("fence"); // same sets, fm=0
    expect(name(decode32(0x00000073))).toBe("ecall");
    expect(name(decode32(0x00100073))).toBe("ebreak");
    expect(name(decode32(0x10200073))).toBe("sret");
    expect(name(decode32(0x30200073))).toBe("mret");
    expect(name(decode32(0x10500073))).toBe("wfi");
    expect(name(decode32(0x12000073))).toBe("sfence.vma");
    expect(name(decode32(0x62000073))).toBe("hfence.gvma");
  });

  it("rejects words no entry matches", () => {
    for (const w of [0, 0xffffffff, 0x0000007f]) {
      expect(name(decode32(w)), `0x${w.toString(16)}`).toBe("ILLEGAL");
    }
    // Reserved funct3 of LOAD (111), an R-type with an unused funct7, an FP op with fmt=11 (Q, absent).
    expect(name(decode32(0x00007003))).toBe("ILLEGAL");
    expect(name(decode32(0x40001033))).toBe("ILLEGAL");
    expect(name(decode32(0x06000053))).toBe("ILLEGAL");
  });
});

describe("decode16", () => {
  it("treats known illegal and reserved halfwords as ILLEGAL", () => {
    const cases: [number, string][] = [
      [0x0000, "all zeros (c.addi4spn with imm 0): the defined illegal instruction"],
      [0x6101, "c.addi16sp with imm 0"],
      [0x6081, "c.lui with imm 0"],
      [0x4002, "c.lwsp with rd=0"],
      [0x6002, "c.ldsp with rd=0"],
      [0x8002, "c.jr with rs1=0"],
      [0x2001, "c.addiw with rd=0"],
      [0x9c41, "RV64 reserved c.subw-space encoding (funct6 100111, funct2 10)"],
    ];
    for (const [h, why] of cases) expect(name(decode16(h)), why).toBe("ILLEGAL");
    expect(name(decode(0xffffffff))).toBe("ILLEGAL");
  });

  it("resolves the overlapping compressed patterns most-specific first", () => {
    expect(decode16(0x0001)).toBe(id("c.nop"));
    expect(decode16(0x0505)).toBe(id("c.addi")); // addi a0, a0, 1
    expect(decode16(0x6141)).toBe(id("c.addi16sp")); // rd=sp
    expect(decode16(0x6505)).toBe(id("c.lui")); // rd=a0
    expect(decode16(0x8082)).toBe(id("c.jr")); // ret
    expect(decode16(0x852e)).toBe(id("c.mv"));
    expect(decode16(0x9002)).toBe(id("c.ebreak"));
    expect(decode16(0x9502)).toBe(id("c.jalr"));
    expect(decode16(0x952e)).toBe(id("c.add"));
  });

  it("decodes random halfwords matching an entry to the most specific matching entry", () => {
    const next = rng(16);
    for (const insn of narrow) {
      for (let i = 0; i < 200; i++) {
        const h = ((next() & ~insn.mask) | insn.match) & 0xffff;
        const got = decode16(h);
        if (got === ILLEGAL) continue; // a reserved value of a non-zero field
        const g = INSTRUCTIONS[got]!;
        expect(matches(g, h)).toBe(true);
        for (const other of narrow) {
          if (matches(other, h)) expect(popcount(other.mask)).toBeLessThanOrEqual(popcount(g.mask));
        }
      }
    }
  });
});

describe("compressed expansion", () => {
  it("compressedExpansionTable agrees with expandCompressed for all 65536 halfwords", () => {
    const table = compressedExpansionTable();
    expect(table.length).toBe(65536);
    for (let h = 0; h < 65536; h++) {
      if (table[h] !== expandCompressed(h))
        expect.fail(`0x${h.toString(16)}: ${table[h]} != ${expandCompressed(h)}`);
    }
  });

  it("every legal compressed instruction expands to a word that decodes to its expansion target", () => {
    let legal = 0;
    for (let h = 0; h < 65536; h++) {
      if ((h & 3) === 3) {
        expect(expandCompressed(h)).toBe(0);
        continue;
      }
      const c = decode16(h);
      if (c === ILLEGAL) {
        expect(expandCompressed(h)).toBe(0);
        continue;
      }
      legal++;
      const target = INSTRUCTIONS[c]!.expand!.target;
      const got = decode32(expandCompressed(h));
      if (got !== target.id)
        expect.fail(`0x${h.toString(16)} (${name(c)}) expands to ${name(got)}, want ${target.name}`);
    }
    // Sanity: most of the three quadrants is legal RV64C.
    expect(legal).toBeGreaterThan(40000);
  });
});
