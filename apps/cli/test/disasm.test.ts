import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeElf } from "@hvkit/isa";
import { afterAll, describe, expect, it } from "vitest";
import { main, nodeIo } from "../src/main.js";
import { argv, memoryIo } from "./helpers.js";

// An image that exercises the listing's corner cases: compressed and full
// instructions, a run of zero bytes, a data symbol inside code, an unknown
// word, the all-zero halfword, a branch into another symbol, and three odd
// trailing bytes that cannot form an instruction.
// biome-ignore format: one line per symbol
const TEXT = Uint8Array.from([
  0x05, 0x05, ...new Array<number>(12).fill(0), 0x82, 0x80,
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0x41, 0x42,
  0x01, 0x45, 0xff, 0xff, 0xff, 0xff, 0, 0, 0xe3, 0x0f, 0xb5, 0xfe, 0x73, 0, 0, 0, 0x02, 0x90, 0xff, 0xff, 0x13,
]);

const ELF = writeElf({
  entry: 0x8000_0000n,
  sections: [
    { name: ".text", address: 0x8000_0000n, data: TEXT, flags: "rx" },
    { name: ".data", address: 0x8000_1000n, data: Uint8Array.from([1, 2]), flags: "rw" },
  ],
  symbols: [
    { name: "_start", value: 0x8000_0000n, type: "func", global: true },
    { name: "tbl", value: 0x8000_0010n, type: "object", size: 12n },
    { name: "foo", value: 0x8000_001cn },
  ],
});

// What llvm-objdump 14 prints for ELF (checked against it when it is installed, below).
const WITH_ALIASES = `
prog.elf:\tfile format elf64-littleriscv

Disassembly of section .text:

0000000080000000 <_start>:
80000000: 05 05        \taddi\ta0, a0, 1
\t\t...
8000000e: 82 80        \tret

0000000080000010 <tbl>:
80000010: 01 02 03 04 05 06 07 08         ........
80000018: 09 0a 41 42                     ..AB

000000008000001c <foo>:
8000001c: 01 45        \tli\ta0, 0
8000001e: ff ff ff ff  \t<unknown>
80000022: 00 00        \tunimp\t
80000024: e3 0f b5 fe  \tbeq\ta0, a1, 0x80000022 <foo+0x6>
80000028: 73 00 00 00  \tecall\t
8000002c: 02 90        \tebreak\t
8000002e: ff           \t<unknown>
8000002f: ff           \t<unknown>
80000030: 13           \t<unknown>
`;

const NO_ALIASES_TAIL = `
000000008000001c <foo>:
8000001c: 01 45        \tc.li\ta0, 0
8000001e: ff ff ff ff  \t<unknown>
80000022: 00 00        \tc.unimp\t
80000024: e3 0f b5 fe  \tbeq\ta0, a1, 0x80000022 <foo+0x6>
80000028: 73 00 00 00  \tecall\t
8000002c: 02 90        \tc.ebreak\t
8000002e: ff           \t<unknown>
8000002f: ff           \t<unknown>
80000030: 13           \t<unknown>
`;

describe("hvkit disasm", () => {
  it("prints llvm-objdump's listing", async () => {
    const io = memoryIo({ "prog.elf": ELF });
    expect(await main(argv("disasm", "prog.elf"), io)).toBe(0);
    expect(io.err).toBe("");
    expect(io.out).toBe(WITH_ALIASES);
  });

  it("prints base and c.* mnemonics with --no-aliases", async () => {
    const io = memoryIo({ "prog.elf": ELF });
    expect(await main(argv("disasm", "--no-aliases", "prog.elf"), io)).toBe(0);
    expect(io.out.endsWith(NO_ALIASES_TAIL)).toBe(true);
    expect(io.out).toContain("80000000: 05 05        \tc.addi\ta0, 1\n");
  });

  it("limits the listing to --section", async () => {
    const io = memoryIo({ "prog.elf": ELF });
    expect(await main(argv("disasm", "prog.elf", "--section", ".text"), io)).toBe(0);
    expect(io.out).toBe(WITH_ALIASES);
  });

  it("names a missing section and lists the ones there are", async () => {
    const io = memoryIo({ "prog.elf": ELF });
    expect(await main(argv("disasm", "prog.elf", "-j", ".txt"), io)).toBe(1);
    expect(io.err).toBe(
      "hvkit: CLI_NO_SUCH_SECTION: prog.elf has no section .txt; its executable sections are: .text\n",
    );
    expect(io.out).toBe("");
  });

  it("refuses a data section", async () => {
    const io = memoryIo({ "prog.elf": ELF });
    expect(await main(argv("disasm", "prog.elf", "--section", ".data"), io)).toBe(1);
    expect(io.err).toMatch(/^hvkit: CLI_NOT_CODE: section \.data of prog\.elf holds no instructions/);
  });

  it("reports a file that is not ELF on one line", async () => {
    const io = memoryIo({ "notes.txt": "hello" });
    expect(await main(argv("disasm", "notes.txt"), io)).toBe(1);
    expect(io.err).toBe(
      "hvkit: ISA_ELF_MALFORMED: not an ELF file: it does not start with the bytes 7f 45 4c 46 ('\\x7fELF')\n",
    );
  });

  it("reports an ELF file for another machine", async () => {
    const other = ELF.slice();
    new DataView(other.buffer).setUint16(18, 62, true);
    const io = memoryIo({ "x86.elf": other });
    expect(await main(argv("disasm", "x86.elf"), io)).toBe(1);
    expect(io.err).toBe(
      "hvkit: ISA_ELF_UNSUPPORTED: the ELF file is for x86-64 (e_machine 62), not RISC-V (243)\n",
    );
  });

  it("reports a missing file without a stack trace", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hvkit-cli-"));
    try {
      let err = "";
      const io = { ...nodeIo, stdout: () => {}, stderr: (s: string) => (err += s) };
      const path = join(dir, "missing.elf");
      expect(await main(argv("disasm", path), io)).toBe(1);
      expect(err).toBe(`hvkit: ENOENT: ${path}: no such file or directory\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("llvm-objdump agrees with the expected listings", () => {
  const hasObjdump = spawnSync("llvm-objdump", ["--version"]).status === 0;
  const dir = mkdtempSync(join(tmpdir(), "hvkit-cli-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!hasObjdump)("with and without aliases", () => {
    writeFileSync(join(dir, "prog.elf"), ELF);
    const run = (...args: string[]) =>
      spawnSync("llvm-objdump", ["-d", ...args, "prog.elf"], { cwd: dir, encoding: "utf8" }).stdout;
    expect(run()).toBe(WITH_ALIASES);
    expect(run("-M", "no-aliases").endsWith(NO_ALIASES_TAIL)).toBe(true);
  });
});
