import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ElfImage,
  EM_RISCV,
  ET_EXEC,
  ET_REL,
  IsaError,
  PF_R,
  PF_W,
  PF_X,
  PT_LOAD,
  readElf,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_WRITE,
  SHN_ABS,
  SHT_NOBITS,
  SHT_PROGBITS,
  SHT_STRTAB,
  SHT_SYMTAB,
  STB_GLOBAL,
  STB_LOCAL,
  STT_FUNC,
  STT_NOTYPE,
  STT_OBJECT,
  writeElf,
} from "@hvkit/isa";
import { afterAll, describe, expect, it } from "vitest";

// li a0, 42; ecall; c.jr ra (ret)
const TEXT = Uint8Array.from([0x13, 0x05, 0xa0, 0x02, 0x73, 0x00, 0x00, 0x00, 0x82, 0x80]);

const IMAGE: ElfImage = {
  entry: 0x8000_0000n,
  sections: [
    { name: ".text", address: 0x8000_0000n, data: TEXT, flags: "rx" },
    { name: ".rodata", address: 0x8000_1000n, data: Uint8Array.from([1, 2, 3]), flags: "r" },
    { name: ".data", address: 0x8000_2008n, data: Uint8Array.from([4, 5]), flags: "rw" },
    { name: ".bss", address: 0x8000_3000n, data: new Uint8Array(0), flags: "rw", nobits: true, size: 64 },
  ],
  symbols: [
    { name: "_start", value: 0x8000_0000n, global: true, type: "func", size: 10n },
    { name: "loop", value: 0x8000_0004n },
    { name: "table", value: 0x8000_1000n, section: ".rodata", type: "object" },
    { name: "answer", value: 42n },
  ],
};

const valid = writeElf(IMAGE);

/** Run readElf and classify the outcome: "ok", an IsaError code, or the unexpected error itself. */
function outcome(bytes: Uint8Array): string {
  try {
    readElf(bytes);
    return "ok";
  } catch (e) {
    if (e instanceof IsaError) return e.code;
    throw e;
  }
}

function expectIsaError(bytes: Uint8Array, code: string, message: RegExp): void {
  let caught: unknown;
  try {
    readElf(bytes);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(IsaError);
  expect((caught as IsaError).code).toBe(code);
  expect((caught as IsaError).message).toMatch(message);
}

function patched(edit: (dv: DataView, b: Uint8Array) => void): Uint8Array {
  const b = valid.slice();
  edit(new DataView(b.buffer), b);
  return b;
}

describe("writeElf -> readElf", () => {
  const elf = readElf(valid);

  it("keeps the header", () => {
    expect(elf.machine).toBe(EM_RISCV);
    expect(elf.type).toBe(2);
    expect(elf.entry).toBe(0x8000_0000n);
    expect(elf.flags).toBe(0x5);
  });

  it("keeps every section with its contents, flags and address", () => {
    const names = elf.sections.map((s) => s.name);
    expect(names).toEqual(["", ".text", ".rodata", ".data", ".bss", ".symtab", ".strtab", ".shstrtab"]);
    const text = elf.sections[1]!;
    expect(text.type).toBe(SHT_PROGBITS);
    expect(text.flags).toBe(SHF_ALLOC | SHF_EXECINSTR);
    expect(text.address).toBe(0x8000_0000n);
    expect([...text.data]).toEqual([...TEXT]);
    expect(elf.sections[2]!.flags).toBe(SHF_ALLOC);
    expect([...elf.sections[3]!.data]).toEqual([4, 5]);
    expect(elf.sections[3]!.flags).toBe(SHF_ALLOC | SHF_WRITE);
    const bss = elf.sections[4]!;
    expect(bss.type).toBe(SHT_NOBITS);
    expect(bss.size).toBe(64);
    expect(bss.data.length).toBe(0);
    expect(elf.sections[5]!.type).toBe(SHT_SYMTAB);
    expect(elf.sections[6]!.type).toBe(SHT_STRTAB);
    for (const s of elf.sections.slice(1, 5)) expect(Number(s.address % 0x1000n)).toBe(s.offset % 0x1000);
  });

  it("writes one PT_LOAD per section with the section's permissions", () => {
    expect(elf.segments.map((s) => [s.type, s.flags, s.vaddr, s.fileSize, s.memSize])).toEqual([
      [PT_LOAD, PF_R | PF_X, 0x8000_0000n, 10, 10],
      [PT_LOAD, PF_R, 0x8000_1000n, 3, 3],
      [PT_LOAD, PF_R | PF_W, 0x8000_2008n, 2, 2],
      [PT_LOAD, PF_R | PF_W, 0x8000_3000n, 0, 64],
    ]);
    expect([...elf.segments[0]!.data]).toEqual([...TEXT]);
  });

  it("keeps symbols, locals before globals, placing each in its section", () => {
    const byName = new Map(elf.symbols.map((s) => [s.name, s]));
    expect(byName.get("_start")).toEqual({
      name: "_start",
      value: 0x8000_0000n,
      size: 10n,
      type: STT_FUNC,
      bind: STB_GLOBAL,
      sectionIndex: 1,
    });
    expect(byName.get("loop")).toMatchObject({ type: STT_NOTYPE, bind: STB_LOCAL, sectionIndex: 1 });
    expect(byName.get("table")).toMatchObject({ type: STT_OBJECT, sectionIndex: 2 });
    expect(byName.get("answer")).toMatchObject({ value: 42n, sectionIndex: SHN_ABS });
    expect(elf.symbols.at(-1)!.name).toBe("_start");
    expect(elf.sections[5]!.info).toBe(elf.symbols.length); // first global, counting the null entry
  });

  it("round-trips names outside ASCII", () => {
    const bytes = writeElf({ entry: 0n, sections: [], symbols: [{ name: "größe_λ", value: 1n }] });
    expect(readElf(bytes).symbols[0]!.name).toBe("größe_λ");
  });

  it("rejects an image it cannot describe", () => {
    expect(() =>
      writeElf({ entry: 0n, sections: [], symbols: [{ name: "x", value: 0n, section: ".nope" }] }),
    ).toThrow(IsaError);
    const s = { name: ".text", address: 0n, data: TEXT, flags: "rx" } as const;
    expect(() => writeElf({ entry: 0n, sections: [s, s] })).toThrow(/used twice/);
  });
});

function tool(name: string): boolean {
  return spawnSync(name, ["--version"]).status === 0;
}

describe("standard tools accept written files", () => {
  const dir = mkdtempSync(join(tmpdir(), "hvkit-elf-"));
  const file = join(dir, "image.elf");
  writeFileSync(file, valid);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!tool("llvm-readelf"))("llvm-readelf reads it without warnings", () => {
    const r = spawnSync("llvm-readelf", ["--all", file], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/Machine:\s+RISC-V/);
    expect(r.stdout).toMatch(/Flags:\s+0x5, RVC, double-float ABI/);
    expect(r.stdout).toMatch(/FUNC\s+GLOBAL\s+DEFAULT\s+1 _start/);
  });

  it.skipIf(!tool("llvm-objdump"))("llvm-objdump disassembles it", () => {
    const r = spawnSync("llvm-objdump", ["-d", file], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("<_start>:");
    expect(r.stdout).toMatch(/li\ta0, 42/);
    expect(r.stdout).toMatch(/ecall/);
  });
});

describe("readElf on files clang and ld.lld wrote", () => {
  const dir = join(import.meta.dirname, "fixtures", "disasm");
  const files = readdirSync(dir).filter((f) => /\.(elf|o)$/.test(f));

  it.each(files)("%s", (file) => {
    const elf = readElf(readFileSync(join(dir, file)));
    expect(elf.machine).toBe(EM_RISCV);
    expect(elf.type).toBe(file.endsWith(".o") ? ET_REL : ET_EXEC);
    const text = elf.sections.find((s) => s.name === ".text")!;
    expect(text.flags & SHF_EXECINSTR).toBe(SHF_EXECINSTR);
    expect(text.data.length).toBe(text.size);
    expect(elf.symbols.some((s) => s.type === STT_FUNC && s.sectionIndex === text.index)).toBe(true);
    if (elf.type === ET_EXEC) {
      expect(elf.entry).toBe(0x8000_0000n);
      const load = elf.segments.filter((s) => s.type === PT_LOAD);
      expect(load.some((s) => s.vaddr === text.address && s.flags & PF_X)).toBe(true);
    }
  });
});

describe("readElf on bad input", () => {
  it("rejects non-ELF data", () => {
    expectIsaError(new Uint8Array(0), "ISA_ELF_MALFORMED", /not an ELF file/);
    expectIsaError(new TextEncoder().encode("#!/bin/sh\necho hi\n"), "ISA_ELF_MALFORMED", /not an ELF file/);
    expectIsaError(
      patched((_, b) => (b[1] = 0x46)),
      "ISA_ELF_MALFORMED",
      /not an ELF file/,
    );
  });

  it("rejects 32-bit and unknown classes", () => {
    expectIsaError(
      patched((_, b) => (b[4] = 1)),
      "ISA_ELF_UNSUPPORTED",
      /32-bit/,
    );
    expectIsaError(
      patched((_, b) => (b[4] = 3)),
      "ISA_ELF_MALFORMED",
      /class 3/,
    );
  });

  it("rejects big-endian files", () => {
    expectIsaError(
      patched((_, b) => (b[5] = 2)),
      "ISA_ELF_UNSUPPORTED",
      /big-endian/,
    );
  });

  it("names the machine of a file for another architecture", () => {
    expectIsaError(
      patched((dv) => dv.setUint16(18, 62, true)),
      "ISA_ELF_UNSUPPORTED",
      /x86-64 \(e_machine 62\)/,
    );
    expectIsaError(
      patched((dv) => dv.setUint16(18, 183, true)),
      "ISA_ELF_UNSUPPORTED",
      /AArch64/,
    );
    expectIsaError(
      patched((dv) => dv.setUint16(18, 9999, true)),
      "ISA_ELF_UNSUPPORTED",
      /unknown machine \(e_machine 9999\)/,
    );
  });

  it("rejects a file truncated anywhere", () => {
    // The section header table is last, so every proper prefix is missing something.
    for (let n = 0; n < valid.length; n++) {
      const r = outcome(valid.subarray(0, n));
      if (r !== "ISA_ELF_MALFORMED") throw new Error(`prefix of ${n} bytes gave ${r}`);
    }
    expect(outcome(valid)).toBe("ok");
  });

  it("rejects header fields that point outside the file", () => {
    const shoff = Number(new DataView(valid.buffer).getBigUint64(40, true));
    const textHeader = shoff + 64;
    expectIsaError(
      patched((dv) => dv.setBigUint64(textHeader + 24, BigInt(valid.length), true)),
      "ISA_ELF_MALFORMED",
      /section 1 .*past the end/,
    );
    expectIsaError(
      patched((dv) => dv.setBigUint64(textHeader + 32, 0xffff_ffff_ffff_ffffn, true)),
      "ISA_ELF_MALFORMED",
      /section 1/,
    );
    expectIsaError(
      patched((dv) => dv.setBigUint64(40, 0xffff_ffff_ffff_ff00n, true)),
      "ISA_ELF_MALFORMED",
      /section header/,
    );
    expectIsaError(
      patched((dv) => dv.setBigUint64(32, BigInt(valid.length - 10), true)),
      "ISA_ELF_MALFORMED",
      /program header table/,
    );
    expectIsaError(
      patched((dv) => dv.setUint16(62, 99, true)),
      "ISA_ELF_MALFORMED",
      /e_shstrndx 99/,
    );
    expectIsaError(
      patched((dv) => dv.setUint32(textHeader, 0x7fff_ffff, true)),
      "ISA_ELF_MALFORMED",
      /section 1 name: string index/,
    );
    expectIsaError(
      patched((dv) => dv.setUint16(58, 40, true)),
      "ISA_ELF_MALFORMED",
      /e_shentsize/,
    );
  });

  it("rejects a symbol naming a section that does not exist", () => {
    const elf = readElf(valid);
    const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB)!;
    expectIsaError(
      patched((dv) => dv.setUint16(symtab.offset + 24 + 6, 200, true)),
      "ISA_ELF_MALFORMED",
      /symbol 1 refers to section 200/,
    );
  });

  it("throws nothing but IsaError for 2000 random mutations of a valid file", () => {
    // A fixed-seed xorshift so a failure reproduces.
    let seed = 0x2545f491;
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    // Bias mutations towards the headers and tables, where the interesting fields are.
    const shoff = Number(new DataView(valid.buffer).getBigUint64(40, true));
    const hot = [
      [0, 64 + 4 * 56],
      [shoff - 200, valid.length],
    ] as const;
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const b = valid.slice();
      const edits = 1 + rand(4);
      for (let k = 0; k < edits; k++) {
        const [lo, hi] = rand(4) === 0 ? [0, valid.length] : hot[rand(2)]!;
        const at = lo + rand(hi - lo);
        b[at] = rand(3) === 0 ? 0xff : rand(256);
      }
      const cut = rand(8) === 0 ? rand(b.length) : b.length;
      seen.add(outcome(b.subarray(0, cut)));
    }
    expect(seen.has("ok")).toBe(true);
    expect(seen.has("ISA_ELF_MALFORMED")).toBe(true);
  });
});
