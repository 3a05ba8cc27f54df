/**
 * @hvkit/isa — the RISC-V RV64GC instruction set as data: one declarative
 * table from which the decoder, encoder, disassembler and assembler are
 * derived, plus CSR and register names and the sensitivity classification
 * used to reason about virtualizability.
 */
export * from "./asm/index.js";
export * from "./csr.js";
export * from "./decoder.js";
export * from "./disasm.js";
export * from "./elf.js";
export * from "./encoder.js";
export * from "./errors.js";
export * from "./fields.js";
export * from "./registers.js";
export * from "./sensitivity.js";
export {
  ALIAS_TABLE,
  type Alias,
  type Extension,
  INSTRUCTIONS,
  type Instruction,
  instructionByName,
  Op,
  type SyntaxToken,
} from "./table/index.js";
