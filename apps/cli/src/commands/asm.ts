/**
 * `hvkit asm`: assemble a RISC-V source file into a minimal ELF executable
 * or a flat binary image.
 */
import * as isa from "@hvkit/isa";
import { writeElf } from "@hvkit/isa";
import { CliError, type Io } from "../io.js";

/** Output formats of `hvkit asm`. */
export const ASM_FORMATS = ["elf", "bin"] as const;

/** Options of {@link runAsm}. */
export interface AsmOptions {
  /** Output path. */
  output: string;
  /** An ELF executable (default) or the raw image bytes. */
  format: (typeof ASM_FORMATS)[number];
}

/** What @hvkit/isa's assembler returns. */
interface Assembled {
  bytes: Uint8Array;
  entry: bigint;
  symbols: Map<string, bigint>;
  sections: { name: string; address: bigint; data: Uint8Array; flags: "rx" | "rw" | "r" }[];
}

type Assemble = (source: string, options?: { fileName?: string; base?: bigint }) => Assembled;

/** The assembler, looked up at run time so the CLI builds against an @hvkit/isa without one. */
function assembler(): Assemble {
  const assemble = (isa as { assemble?: Assemble }).assemble;
  if (typeof assemble !== "function") {
    throw new CliError(
      "CLI_NO_ASSEMBLER",
      "this build of @hvkit/isa has no assembler; update @hvkit/isa to a version that exports assemble()",
    );
  }
  return assemble;
}

/** Decode UTF-8 source text; a byte-order mark is dropped. */
function sourceText(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** Run `hvkit asm FILE -o OUT`: assemble and write the result. */
export function runAsm(file: string, options: AsmOptions, io: Io): void {
  const assemble = assembler();
  const result = assemble(sourceText(io.readFile(file)), { fileName: file });
  if (options.format === "bin") {
    io.writeFile(options.output, result.bytes);
    return;
  }
  const elf = writeElf({
    entry: result.entry,
    sections: result.sections,
    symbols: [...result.symbols].map(([name, value]) => ({ name, value })),
  });
  io.writeFile(options.output, elf);
}
