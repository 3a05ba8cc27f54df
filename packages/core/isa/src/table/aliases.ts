import type { AliasDef } from "./spec.js";

const FFLAGS = 0x001;
const FRM = 0x002;
const FCSR = 0x003;
const CYCLE = 0xc00;
const TIME = 0xc01;
const INSTRET = 0xc02;

/**
 * Pseudo-instructions that stand for exactly one base instruction, in the
 * order the disassembler tries them (first match wins, most specific first).
 * The set and spelling follow the RISC-V assembly manual and what
 * llvm-objdump prints, so output can be compared line for line.
 */
export const ALIASES: readonly AliasDef[] = [
  { name: "nop", of: "addi", when: { xd: 0, xs1: 0, imm12: 0 }, syntax: "" },
  { name: "li", of: "addi", when: { xs1: 0 }, syntax: "xd,imm12" },
  { name: "mv", of: "addi", when: { imm12: 0 }, syntax: "xd,xs1" },
  { name: "mv", of: "add", when: { xs1: 0 }, syntax: "xd,xs2", compressedOnly: true },
  { name: "not", of: "xori", when: { imm12: -1 }, syntax: "xd,xs1" },
  { name: "neg", of: "sub", when: { xs1: 0 }, syntax: "xd,xs2" },
  { name: "negw", of: "subw", when: { xs1: 0 }, syntax: "xd,xs2" },
  { name: "sext.w", of: "addiw", when: { imm12: 0 }, syntax: "xd,xs1" },
  { name: "seqz", of: "sltiu", when: { imm12: 1 }, syntax: "xd,xs1" },
  { name: "snez", of: "sltu", when: { xs1: 0 }, syntax: "xd,xs2" },
  { name: "sltz", of: "slt", when: { xs2: 0 }, syntax: "xd,xs1" },
  { name: "sgtz", of: "slt", when: { xs1: 0 }, syntax: "xd,xs2" },
  { name: "beqz", of: "beq", when: { xs2: 0 }, syntax: "xs1,boff" },
  { name: "bnez", of: "bne", when: { xs2: 0 }, syntax: "xs1,boff" },
  { name: "blez", of: "bge", when: { xs1: 0 }, syntax: "xs2,boff" },
  { name: "bgez", of: "bge", when: { xs2: 0 }, syntax: "xs1,boff" },
  { name: "bltz", of: "blt", when: { xs2: 0 }, syntax: "xs1,boff" },
  { name: "bgtz", of: "blt", when: { xs1: 0 }, syntax: "xs2,boff" },
  // Operand-swapping branch pseudos: accepted by the assembler, never printed.
  { name: "bgt", of: "blt", when: {}, syntax: "xs2,xs1,boff", print: false },
  { name: "ble", of: "bge", when: {}, syntax: "xs2,xs1,boff", print: false },
  { name: "bgtu", of: "bltu", when: {}, syntax: "xs2,xs1,boff", print: false },
  { name: "bleu", of: "bgeu", when: {}, syntax: "xs2,xs1,boff", print: false },
  { name: "j", of: "jal", when: { xd: 0 }, syntax: "joff" },
  { name: "jal", of: "jal", when: { xd: 1 }, syntax: "joff" },
  { name: "ret", of: "jalr", when: { xd: 0, xs1: 1, imm12: 0 }, syntax: "" },
  { name: "jr", of: "jalr", when: { xd: 0, imm12: 0 }, syntax: "xs1" },
  { name: "jr", of: "jalr", when: { xd: 0 }, syntax: "imm12(xs1)" },
  { name: "jalr", of: "jalr", when: { xd: 1, imm12: 0 }, syntax: "xs1" },
  { name: "jalr", of: "jalr", when: { xd: 1 }, syntax: "imm12(xs1)" },
  { name: "jalr", of: "jalr", when: { imm12: 0 }, syntax: "xd,xs1" },
  { name: "fence", of: "fence", when: { pred: 15, succ: 15 }, syntax: "" },
  { name: "unimp", of: "csrrw", when: { xd: 0, csr: CYCLE, xs1: 0 }, syntax: "" },
  { name: "rdinstret", of: "csrrs", when: { csr: INSTRET, xs1: 0 }, syntax: "xd" },
  { name: "rdcycle", of: "csrrs", when: { csr: CYCLE, xs1: 0 }, syntax: "xd" },
  { name: "rdtime", of: "csrrs", when: { csr: TIME, xs1: 0 }, syntax: "xd" },
  { name: "frcsr", of: "csrrs", when: { csr: FCSR, xs1: 0 }, syntax: "xd" },
  { name: "frrm", of: "csrrs", when: { csr: FRM, xs1: 0 }, syntax: "xd" },
  { name: "frflags", of: "csrrs", when: { csr: FFLAGS, xs1: 0 }, syntax: "xd" },
  { name: "fscsr", of: "csrrw", when: { csr: FCSR, xd: 0 }, syntax: "xs1" },
  { name: "fscsr", of: "csrrw", when: { csr: FCSR }, syntax: "xd,xs1" },
  { name: "fsrm", of: "csrrw", when: { csr: FRM, xd: 0 }, syntax: "xs1" },
  { name: "fsrm", of: "csrrw", when: { csr: FRM }, syntax: "xd,xs1" },
  { name: "fsflags", of: "csrrw", when: { csr: FFLAGS, xd: 0 }, syntax: "xs1" },
  { name: "fsflags", of: "csrrw", when: { csr: FFLAGS }, syntax: "xd,xs1" },
  { name: "fsrmi", of: "csrrwi", when: { csr: FRM, xd: 0 }, syntax: "uimm5" },
  { name: "fsrmi", of: "csrrwi", when: { csr: FRM }, syntax: "xd,uimm5" },
  { name: "fsflagsi", of: "csrrwi", when: { csr: FFLAGS, xd: 0 }, syntax: "uimm5" },
  { name: "fsflagsi", of: "csrrwi", when: { csr: FFLAGS }, syntax: "xd,uimm5" },
  { name: "csrr", of: "csrrs", when: { xs1: 0 }, syntax: "xd,csr" },
  { name: "csrw", of: "csrrw", when: { xd: 0 }, syntax: "csr,xs1" },
  { name: "csrs", of: "csrrs", when: { xd: 0 }, syntax: "csr,xs1" },
  { name: "csrc", of: "csrrc", when: { xd: 0 }, syntax: "csr,xs1" },
  { name: "csrwi", of: "csrrwi", when: { xd: 0 }, syntax: "csr,uimm5" },
  { name: "csrsi", of: "csrrsi", when: { xd: 0 }, syntax: "csr,uimm5" },
  { name: "csrci", of: "csrrci", when: { xd: 0 }, syntax: "csr,uimm5" },
  { name: "fmv.s", of: "fsgnj.s", when: { fs2: "=fs1" }, syntax: "fd,fs1" },
  { name: "fneg.s", of: "fsgnjn.s", when: { fs2: "=fs1" }, syntax: "fd,fs1" },
  { name: "fabs.s", of: "fsgnjx.s", when: { fs2: "=fs1" }, syntax: "fd,fs1" },
  { name: "fmv.d", of: "fsgnj.d", when: { fs2: "=fs1" }, syntax: "fd,fs1" },
  { name: "fneg.d", of: "fsgnjn.d", when: { fs2: "=fs1" }, syntax: "fd,fs1" },
  { name: "fabs.d", of: "fsgnjx.d", when: { fs2: "=fs1" }, syntax: "fd,fs1" },
  // Comparison pseudos with swapped operands: assembler only.
  { name: "fgt.s", of: "flt.s", when: {}, syntax: "xd,fs2,fs1", print: false },
  { name: "fge.s", of: "fle.s", when: {}, syntax: "xd,fs2,fs1", print: false },
  { name: "fgt.d", of: "flt.d", when: {}, syntax: "xd,fs2,fs1", print: false },
  { name: "fge.d", of: "fle.d", when: {}, syntax: "xd,fs2,fs1", print: false },
  { name: "sfence.vma", of: "sfence.vma", when: { xs1: 0, xs2: 0 }, syntax: "" },
  { name: "sfence.vma", of: "sfence.vma", when: { xs2: 0 }, syntax: "xs1" },
  { name: "hfence.vvma", of: "hfence.vvma", when: { xs1: 0, xs2: 0 }, syntax: "" },
  { name: "hfence.vvma", of: "hfence.vvma", when: { xs2: 0 }, syntax: "xs1" },
  { name: "hfence.gvma", of: "hfence.gvma", when: { xs1: 0, xs2: 0 }, syntax: "" },
  { name: "hfence.gvma", of: "hfence.gvma", when: { xs2: 0 }, syntax: "xs1" },
];
