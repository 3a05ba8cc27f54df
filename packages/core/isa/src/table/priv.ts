import type { Def32 } from "./spec.js";

/** Privileged instructions (privileged spec, chapters 3, 4 and 10). */
export const PRIV: readonly Def32[] = [
  { name: "sret", bits: "0001000 00010 00000 000 00000 1110011", syntax: "" },
  { name: "mret", bits: "0011000 00010 00000 000 00000 1110011", syntax: "" },
  { name: "wfi", bits: "0001000 00101 00000 000 00000 1110011", syntax: "" },
  { name: "sfence.vma", bits: "0001001 ----- ----- 000 00000 1110011", syntax: "xs1,xs2" },
];

/** The hypervisor extension's instructions (privileged spec, chapter 8/9 "H"). */
export const HYPERVISOR: readonly Def32[] = [
  { name: "hfence.vvma", bits: "0010001 ----- ----- 000 00000 1110011", syntax: "xs1,xs2" },
  { name: "hfence.gvma", bits: "0110001 ----- ----- 000 00000 1110011", syntax: "xs1,xs2" },
  { name: "hlv.b", bits: "0110000 00000 ----- 100 ----- 1110011", syntax: "xd,(xs1)" },
  { name: "hlv.bu", bits: "0110000 00001 ----- 100 ----- 1110011", syntax: "xd,(xs1)" },
  { name: "hlv.h", bits: "0110010 00000 ----- 100 ----- 1110011", syntax: "xd,(xs1)" },
  { name: "hlv.hu", bits: "0110010 00001 ----- 100 ----- 1110011", syntax: "xd,(xs1)" },
  { name: "hlvx.hu", bits: "0110010 00011 ----- 100 ----- 1110011", syntax: "xd,(xs1)" },
  { name: "hlv.w", bits: "0110100 00000 ----- 100 ----- 1110011", syntax: "xd,(xs1)" },
  { name: "hlv.wu", bits: "0110100 00001 ----- 100 ----- 1110011", syntax: "xd,(xs1)" },
  { name: "hlvx.wu", bits: "0110100 00011 ----- 100 ----- 1110011", syntax: "xd,(xs1)" },
  { name: "hlv.d", bits: "0110110 00000 ----- 100 ----- 1110011", syntax: "xd,(xs1)" },
  { name: "hsv.b", bits: "0110001 ----- ----- 100 00000 1110011", syntax: "xs2,(xs1)" },
  { name: "hsv.h", bits: "0110011 ----- ----- 100 00000 1110011", syntax: "xs2,(xs1)" },
  { name: "hsv.w", bits: "0110101 ----- ----- 100 00000 1110011", syntax: "xs2,(xs1)" },
  { name: "hsv.d", bits: "0110111 ----- ----- 100 00000 1110011", syntax: "xs2,(xs1)" },
];
