/**
 * The assembler: RV64GC assembly source to a flat image or an ELF
 * executable, with every instruction, alias and operand syntax taken from
 * the instruction table.
 *
 * Differences from llvm-mc worth knowing: a branch or jump target written
 * as a number is an absolute address (as llvm-objdump prints it), not an
 * offset; there are no relocations, since the whole image is placed at
 * `base`; `la` is always pc-relative (auipc+addi).
 */
import { writeElf } from "../elf.js";
import { type AsmOptions, type AsmResult, assembleProgram } from "./assembler.js";
import { Diagnostics } from "./diagnostics.js";
import { tokenize } from "./lexer.js";
import { LOCAL_MARK, parse } from "./parser.js";

export type { AsmOptions, AsmResult, AsmSection } from "./assembler.js";
export { DEFAULT_BASE } from "./assembler.js";
export { type AsmDiagnostic, AsmError } from "./diagnostics.js";
export { type LiStep, liSequence } from "./pseudo.js";

function run(source: string, options: AsmOptions) {
  const diag = new Diagnostics(options.fileName ?? "<asm>");
  const prog = parse(tokenize(source, diag), diag);
  return { prog, out: assembleProgram(prog, options, diag) };
}

/**
 * Assemble `source`. Throws an {@link AsmError} (an `IsaError` whose
 * `errors` lists every problem, each as `file:line:col: what; what to do`).
 */
export function assemble(source: string, options: AsmOptions = {}): AsmResult {
  const { out } = run(source, options);
  return { bytes: out.bytes, entry: out.entry, symbols: out.symbols, sections: out.sections };
}

/** Assemble `source` to an ELF64 executable: one PT_LOAD per section, plus a symbol table. */
export function assembleElf(source: string, options: AsmOptions = {}): Uint8Array {
  const { prog, out } = run(source, options);
  const present = new Set(out.sections.map((s) => s.name));
  const symbols = [...out.symbols]
    .filter(([name]) => !name.startsWith(".L") && !name.includes(LOCAL_MARK))
    .map(([name, value]) => {
      const section = out.labelSections.get(name);
      return {
        name,
        value,
        ...(section !== undefined && present.has(section) ? { section } : {}),
        global: prog.globals.has(name),
        type: prog.types.get(name) ?? "notype",
      };
    });
  return writeElf({
    entry: out.entry,
    sections: out.sections.map((s) => ({
      name: s.name,
      address: s.address,
      data: s.data,
      flags: s.flags,
      ...(s.nobits ? { nobits: true, size: s.data.length } : {}),
    })),
    symbols,
  });
}
