/**
 * `hvkit asm`: assemble a RISC-V source file into a minimal ELF executable
 * or a flat binary image.
 */
import { assemble, assembleElf, type AsmOptions as IsaAsmOptions } from "@hvkit/isa";
import type { Io } from "../io.js";

/** Output formats of `hvkit asm`. */
export const ASM_FORMATS = ["elf", "bin"] as const;

/** Options of {@link runAsm}. */
export interface AsmOptions {
  /** Output path. */
  output: string;
  /** An ELF executable (default) or the flat image of all sections from the base address. */
  format: (typeof ASM_FORMATS)[number];
  /** Address of the first section (the assembler's default: 0x80000000). */
  base?: bigint;
  /** Use compressed encodings where they exist (default: emit exactly what is written). */
  compress?: boolean;
}

/** Run `hvkit asm FILE -o OUT`: assemble and write the result; nothing is written when assembly fails. */
export function runAsm(file: string, options: AsmOptions, io: Io): void {
  // TextDecoder drops a UTF-8 byte-order mark.
  const source = new TextDecoder().decode(io.readFile(file));
  const asmOptions: IsaAsmOptions = { fileName: file };
  if (options.base !== undefined) asmOptions.base = options.base;
  if (options.compress !== undefined) asmOptions.compress = options.compress;
  const out = options.format === "bin" ? assemble(source, asmOptions).bytes : assembleElf(source, asmOptions);
  io.writeFile(options.output, out);
}
