import type { Def32 } from "./spec.js";

const amo = (name: string, funct5: string, width: "010" | "011"): Def32 => ({
  name,
  bits: `${funct5} -- ----- ----- ${width} ----- 0101111`,
  syntax: "xd,xs2,(xs1)",
  aqrl: true,
});

/** A: atomic instructions (load-reserved/store-conditional and AMOs), word and doubleword. */
export const RV64A: readonly Def32[] = [
  { name: "lr.w", bits: "00010 -- 00000 ----- 010 ----- 0101111", syntax: "xd,(xs1)", aqrl: true },
  { name: "sc.w", bits: "00011 -- ----- ----- 010 ----- 0101111", syntax: "xd,xs2,(xs1)", aqrl: true },
  amo("amoswap.w", "00001", "010"),
  amo("amoadd.w", "00000", "010"),
  amo("amoxor.w", "00100", "010"),
  amo("amoand.w", "01100", "010"),
  amo("amoor.w", "01000", "010"),
  amo("amomin.w", "10000", "010"),
  amo("amomax.w", "10100", "010"),
  amo("amominu.w", "11000", "010"),
  amo("amomaxu.w", "11100", "010"),
  { name: "lr.d", bits: "00010 -- 00000 ----- 011 ----- 0101111", syntax: "xd,(xs1)", aqrl: true },
  { name: "sc.d", bits: "00011 -- ----- ----- 011 ----- 0101111", syntax: "xd,xs2,(xs1)", aqrl: true },
  amo("amoswap.d", "00001", "011"),
  amo("amoadd.d", "00000", "011"),
  amo("amoxor.d", "00100", "011"),
  amo("amoand.d", "01100", "011"),
  amo("amoor.d", "01000", "011"),
  amo("amomin.d", "10000", "011"),
  amo("amomax.d", "10100", "011"),
  amo("amominu.d", "11000", "011"),
  amo("amomaxu.d", "11100", "011"),
];
