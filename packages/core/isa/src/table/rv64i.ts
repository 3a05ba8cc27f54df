import type { Def32 } from "./spec.js";

/** RV32I and RV64I base integer instructions (unprivileged spec, chapters 2 and 4). */
export const RV64I: readonly Def32[] = [
  { name: "lui", bits: "-------------------- ----- 0110111", syntax: "xd,uimm20" },
  { name: "auipc", bits: "-------------------- ----- 0010111", syntax: "xd,uimm20" },
  { name: "jal", bits: "-------------------- ----- 1101111", syntax: "xd,joff" },
  { name: "jalr", bits: "------------ ----- 000 ----- 1100111", syntax: "xd,imm12(xs1)" },
  { name: "beq", bits: "------- ----- ----- 000 ----- 1100011", syntax: "xs1,xs2,boff" },
  { name: "bne", bits: "------- ----- ----- 001 ----- 1100011", syntax: "xs1,xs2,boff" },
  { name: "blt", bits: "------- ----- ----- 100 ----- 1100011", syntax: "xs1,xs2,boff" },
  { name: "bge", bits: "------- ----- ----- 101 ----- 1100011", syntax: "xs1,xs2,boff" },
  { name: "bltu", bits: "------- ----- ----- 110 ----- 1100011", syntax: "xs1,xs2,boff" },
  { name: "bgeu", bits: "------- ----- ----- 111 ----- 1100011", syntax: "xs1,xs2,boff" },
  { name: "lb", bits: "------------ ----- 000 ----- 0000011", syntax: "xd,imm12(xs1)" },
  { name: "lh", bits: "------------ ----- 001 ----- 0000011", syntax: "xd,imm12(xs1)" },
  { name: "lw", bits: "------------ ----- 010 ----- 0000011", syntax: "xd,imm12(xs1)" },
  { name: "ld", bits: "------------ ----- 011 ----- 0000011", syntax: "xd,imm12(xs1)" },
  { name: "lbu", bits: "------------ ----- 100 ----- 0000011", syntax: "xd,imm12(xs1)" },
  { name: "lhu", bits: "------------ ----- 101 ----- 0000011", syntax: "xd,imm12(xs1)" },
  { name: "lwu", bits: "------------ ----- 110 ----- 0000011", syntax: "xd,imm12(xs1)" },
  { name: "sb", bits: "------- ----- ----- 000 ----- 0100011", syntax: "xs2,simm12(xs1)" },
  { name: "sh", bits: "------- ----- ----- 001 ----- 0100011", syntax: "xs2,simm12(xs1)" },
  { name: "sw", bits: "------- ----- ----- 010 ----- 0100011", syntax: "xs2,simm12(xs1)" },
  { name: "sd", bits: "------- ----- ----- 011 ----- 0100011", syntax: "xs2,simm12(xs1)" },
  { name: "addi", bits: "------------ ----- 000 ----- 0010011", syntax: "xd,xs1,imm12" },
  { name: "slti", bits: "------------ ----- 010 ----- 0010011", syntax: "xd,xs1,imm12" },
  { name: "sltiu", bits: "------------ ----- 011 ----- 0010011", syntax: "xd,xs1,imm12" },
  { name: "xori", bits: "------------ ----- 100 ----- 0010011", syntax: "xd,xs1,imm12" },
  { name: "ori", bits: "------------ ----- 110 ----- 0010011", syntax: "xd,xs1,imm12" },
  { name: "andi", bits: "------------ ----- 111 ----- 0010011", syntax: "xd,xs1,imm12" },
  { name: "slli", bits: "000000 ------ ----- 001 ----- 0010011", syntax: "xd,xs1,shamt6" },
  { name: "srli", bits: "000000 ------ ----- 101 ----- 0010011", syntax: "xd,xs1,shamt6" },
  { name: "srai", bits: "010000 ------ ----- 101 ----- 0010011", syntax: "xd,xs1,shamt6" },
  { name: "add", bits: "0000000 ----- ----- 000 ----- 0110011", syntax: "xd,xs1,xs2" },
  { name: "sub", bits: "0100000 ----- ----- 000 ----- 0110011", syntax: "xd,xs1,xs2" },
  { name: "sll", bits: "0000000 ----- ----- 001 ----- 0110011", syntax: "xd,xs1,xs2" },
  { name: "slt", bits: "0000000 ----- ----- 010 ----- 0110011", syntax: "xd,xs1,xs2" },
  { name: "sltu", bits: "0000000 ----- ----- 011 ----- 0110011", syntax: "xd,xs1,xs2" },
  { name: "xor", bits: "0000000 ----- ----- 100 ----- 0110011", syntax: "xd,xs1,xs2" },
  { name: "srl", bits: "0000000 ----- ----- 101 ----- 0110011", syntax: "xd,xs1,xs2" },
  { name: "sra", bits: "0100000 ----- ----- 101 ----- 0110011", syntax: "xd,xs1,xs2" },
  { name: "or", bits: "0000000 ----- ----- 110 ----- 0110011", syntax: "xd,xs1,xs2" },
  { name: "and", bits: "0000000 ----- ----- 111 ----- 0110011", syntax: "xd,xs1,xs2" },
  { name: "addiw", bits: "------------ ----- 000 ----- 0011011", syntax: "xd,xs1,imm12" },
  { name: "slliw", bits: "0000000 ----- ----- 001 ----- 0011011", syntax: "xd,xs1,shamt5" },
  { name: "srliw", bits: "0000000 ----- ----- 101 ----- 0011011", syntax: "xd,xs1,shamt5" },
  { name: "sraiw", bits: "0100000 ----- ----- 101 ----- 0011011", syntax: "xd,xs1,shamt5" },
  { name: "addw", bits: "0000000 ----- ----- 000 ----- 0111011", syntax: "xd,xs1,xs2" },
  { name: "subw", bits: "0100000 ----- ----- 000 ----- 0111011", syntax: "xd,xs1,xs2" },
  { name: "sllw", bits: "0000000 ----- ----- 001 ----- 0111011", syntax: "xd,xs1,xs2" },
  { name: "srlw", bits: "0000000 ----- ----- 101 ----- 0111011", syntax: "xd,xs1,xs2" },
  { name: "sraw", bits: "0100000 ----- ----- 101 ----- 0111011", syntax: "xd,xs1,xs2" },
  // fence.tso is fm=1000 pred=rw succ=rw; listed first so the more specific pattern wins.
  { name: "fence.tso", bits: "1000 0011 0011 00000 000 00000 0001111", syntax: "" },
  { name: "fence", bits: "---- ---- ---- ----- 000 ----- 0001111", syntax: "pred,succ" },
  { name: "ecall", bits: "000000000000 00000 000 00000 1110011", syntax: "" },
  { name: "ebreak", bits: "000000000001 00000 000 00000 1110011", syntax: "" },
];

/** Zifencei: instruction-fetch fence. */
export const ZIFENCEI: readonly Def32[] = [
  { name: "fence.i", bits: "------------ ----- 001 ----- 0001111", syntax: "" },
];

/** Zicsr: control and status register instructions. */
export const ZICSR: readonly Def32[] = [
  { name: "csrrw", bits: "------------ ----- 001 ----- 1110011", syntax: "xd,csr,xs1" },
  { name: "csrrs", bits: "------------ ----- 010 ----- 1110011", syntax: "xd,csr,xs1" },
  { name: "csrrc", bits: "------------ ----- 011 ----- 1110011", syntax: "xd,csr,xs1" },
  { name: "csrrwi", bits: "------------ ----- 101 ----- 1110011", syntax: "xd,csr,uimm5" },
  { name: "csrrsi", bits: "------------ ----- 110 ----- 1110011", syntax: "xd,csr,uimm5" },
  { name: "csrrci", bits: "------------ ----- 111 ----- 1110011", syntax: "xd,csr,uimm5" },
];

/** M: integer multiplication and division. */
export const RV64M: readonly Def32[] = [
  { name: "mul", bits: "0000001 ----- ----- 000 ----- 0110011", syntax: "xd,xs1,xs2" },
  { name: "mulh", bits: "0000001 ----- ----- 001 ----- 0110011", syntax: "xd,xs1,xs2" },
  { name: "mulhsu", bits: "0000001 ----- ----- 010 ----- 0110011", syntax: "xd,xs1,xs2" },
  { name: "mulhu", bits: "0000001 ----- ----- 011 ----- 0110011", syntax: "xd,xs1,xs2" },
  { name: "div", bits: "0000001 ----- ----- 100 ----- 0110011", syntax: "xd,xs1,xs2" },
  { name: "divu", bits: "0000001 ----- ----- 101 ----- 0110011", syntax: "xd,xs1,xs2" },
  { name: "rem", bits: "0000001 ----- ----- 110 ----- 0110011", syntax: "xd,xs1,xs2" },
  { name: "remu", bits: "0000001 ----- ----- 111 ----- 0110011", syntax: "xd,xs1,xs2" },
  { name: "mulw", bits: "0000001 ----- ----- 000 ----- 0111011", syntax: "xd,xs1,xs2" },
  { name: "divw", bits: "0000001 ----- ----- 100 ----- 0111011", syntax: "xd,xs1,xs2" },
  { name: "divuw", bits: "0000001 ----- ----- 101 ----- 0111011", syntax: "xd,xs1,xs2" },
  { name: "remw", bits: "0000001 ----- ----- 110 ----- 0111011", syntax: "xd,xs1,xs2" },
  { name: "remuw", bits: "0000001 ----- ----- 111 ----- 0111011", syntax: "xd,xs1,xs2" },
];
