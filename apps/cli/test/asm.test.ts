import { assemble, readElf, SHF_EXECINSTR, STB_GLOBAL, STT_FUNC } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import { main } from "../src/main.js";
import { argv, memoryIo } from "./helpers.js";

const PROGRAM = `    .text
    .globl _start
    .type _start, @function
_start:
    li a0, 42
    ecall
`;

describe("hvkit asm", () => {
  it("writes an ELF executable that disasm reads back", async () => {
    const io = memoryIo({ "prog.s": PROGRAM });
    expect(await main(argv("asm", "prog.s", "-o", "prog.elf"), io)).toBe(0);
    expect(io.err).toBe("");
    const elf = readElf(io.files.get("prog.elf")!);
    const text = elf.sections.find((s) => (s.flags & SHF_EXECINSTR) !== 0n)!;
    expect(text.address).toBe(0x8000_0000n);
    expect(elf.entry).toBe(text.address);
    expect(elf.symbols.find((s) => s.name === "_start")).toMatchObject({ type: STT_FUNC, bind: STB_GLOBAL });

    expect(await main(argv("disasm", "prog.elf"), io)).toBe(0);
    expect(io.out).toBe(`
prog.elf:\tfile format elf64-littleriscv

Disassembly of section .text:

0000000080000000 <_start>:
80000000: 13 05 a0 02  \tli\ta0, 42
80000004: 73 00 00 00  \tecall\t
`);
  });

  it("writes the flat image with --format bin", async () => {
    const io = memoryIo({ "prog.s": PROGRAM });
    expect(await main(argv("asm", "prog.s", "-o", "prog.bin", "--format", "bin"), io)).toBe(0);
    expect([...io.files.get("prog.bin")!]).toEqual([...assemble(PROGRAM, { fileName: "prog.s" }).bytes]);
    expect([...io.files.get("prog.bin")!]).toEqual([0x13, 0x05, 0xa0, 0x02, 0x73, 0, 0, 0]);
  });

  it("takes --base and --compress", async () => {
    const io = memoryIo({ "small.s": "_start:\n    li a0, 5\n    ecall\n" });
    expect(await main(argv("asm", "small.s", "-o", "p.elf", "--base", "0x1000", "--compress"), io)).toBe(0);
    const elf = readElf(io.files.get("p.elf")!);
    expect(elf.entry).toBe(0x1000n);
    // li a0, 5 compresses to c.li (2 bytes); ecall has no compressed form.
    expect(elf.sections.find((s) => s.name === ".text")!.size).toBe(6);
  });

  it("rejects a --base that is not an address", async () => {
    const io = memoryIo({ "prog.s": PROGRAM });
    expect(await main(argv("asm", "prog.s", "-o", "p.elf", "--base", "ram"), io)).toBe(2);
    expect(io.err).toMatch(/^hvkit: option '--base <address>' argument 'ram' is invalid/);
  });

  it("reports every assembly error with its file:line:col, one per line, and writes nothing", async () => {
    const io = memoryIo({ "bad.s": "_start:\n    addi a0, a0\n    frob a1\n" });
    expect(await main(argv("asm", "bad.s", "-o", "bad.elf"), io)).toBe(1);
    const lines = io.err.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^hvkit: ISA_[A-Z_]+: bad\.s:2:\d+: /);
    expect(lines[1]).toMatch(/^hvkit: ISA_[A-Z_]+: bad\.s:3:\d+: .*frob/);
    expect(io.err).not.toMatch(/\n\s+at /);
    expect(io.files.has("bad.elf")).toBe(false);
  });

  it("reports a missing source file", async () => {
    const io = memoryIo();
    expect(await main(argv("asm", "nope.s", "-o", "x.elf"), io)).toBe(1);
    expect(io.err).toBe("hvkit: ENOENT: nope.s: no such file or directory\n");
  });
});
