import type { Def32 } from "./spec.js";

type Fmt = "s" | "d";
const FMT: Record<Fmt, string> = { s: "00", d: "01" };
const WIDTH: Record<Fmt, string> = { s: "010", d: "011" };

/** The F or D instructions, which differ only in the fmt field and the load/store width. */
function floatingPoint(t: Fmt): Def32[] {
  const f = FMT[t];
  const r = (name: string, funct5: string, rs2: string, syntax: string, rm = "---"): Def32 => ({
    name: `${name}.${t}`,
    bits: `${funct5} ${f} ${rs2} ----- ${rm} ----- 1010011`,
    syntax,
  });
  const fma = (name: string, opcode: string): Def32 => ({
    name: `${name}.${t}`,
    bits: `----- ${f} ----- ----- --- ----- ${opcode}`,
    syntax: "fd,fs1,fs2,fs3,rm",
  });
  const cvt = (name: string, funct5: string, rs2: string, syntax: string): Def32 => ({
    name,
    bits: `${funct5} ${f} ${rs2} ----- --- ----- 1010011`,
    syntax,
  });
  const suffix = t;
  return [
    {
      name: `fl${t === "s" ? "w" : "d"}`,
      bits: `------------ ----- ${WIDTH[t]} ----- 0000111`,
      syntax: "fd,imm12(xs1)",
    },
    {
      name: `fs${t === "s" ? "w" : "d"}`,
      bits: `------- ----- ----- ${WIDTH[t]} ----- 0100111`,
      syntax: "fs2,simm12(xs1)",
    },
    fma("fmadd", "1000011"),
    fma("fmsub", "1000111"),
    fma("fnmsub", "1001011"),
    fma("fnmadd", "1001111"),
    r("fadd", "00000", "-----", "fd,fs1,fs2,rm"),
    r("fsub", "00001", "-----", "fd,fs1,fs2,rm"),
    r("fmul", "00010", "-----", "fd,fs1,fs2,rm"),
    r("fdiv", "00011", "-----", "fd,fs1,fs2,rm"),
    r("fsqrt", "01011", "00000", "fd,fs1,rm"),
    r("fsgnj", "00100", "-----", "fd,fs1,fs2", "000"),
    r("fsgnjn", "00100", "-----", "fd,fs1,fs2", "001"),
    r("fsgnjx", "00100", "-----", "fd,fs1,fs2", "010"),
    r("fmin", "00101", "-----", "fd,fs1,fs2", "000"),
    r("fmax", "00101", "-----", "fd,fs1,fs2", "001"),
    cvt(`fcvt.w.${suffix}`, "11000", "00000", "xd,fs1,rm"),
    cvt(`fcvt.wu.${suffix}`, "11000", "00001", "xd,fs1,rm"),
    cvt(`fcvt.l.${suffix}`, "11000", "00010", "xd,fs1,rm"),
    cvt(`fcvt.lu.${suffix}`, "11000", "00011", "xd,fs1,rm"),
    // int32 -> double is exact, so the rounding mode is not an operand (LLVM prints none).
    cvt(`fcvt.${suffix}.w`, "11010", "00000", t === "d" ? "fd,xs1" : "fd,xs1,rm"),
    cvt(`fcvt.${suffix}.wu`, "11010", "00001", t === "d" ? "fd,xs1" : "fd,xs1,rm"),
    cvt(`fcvt.${suffix}.l`, "11010", "00010", "fd,xs1,rm"),
    cvt(`fcvt.${suffix}.lu`, "11010", "00011", "fd,xs1,rm"),
    r("feq", "10100", "-----", "xd,fs1,fs2", "010"),
    r("flt", "10100", "-----", "xd,fs1,fs2", "001"),
    r("fle", "10100", "-----", "xd,fs1,fs2", "000"),
    r("fclass", "11100", "00000", "xd,fs1", "001"),
    t === "s"
      ? { name: "fmv.x.w", bits: `11100 ${f} 00000 ----- 000 ----- 1010011`, syntax: "xd,fs1" }
      : { name: "fmv.x.d", bits: `11100 ${f} 00000 ----- 000 ----- 1010011`, syntax: "xd,fs1" },
    t === "s"
      ? { name: "fmv.w.x", bits: `11110 ${f} 00000 ----- 000 ----- 1010011`, syntax: "fd,xs1" }
      : { name: "fmv.d.x", bits: `11110 ${f} 00000 ----- 000 ----- 1010011`, syntax: "fd,xs1" },
  ];
}

/** F: single-precision floating point. */
export const RV64F: readonly Def32[] = floatingPoint("s");

/** D: double-precision floating point, plus the conversions between formats. */
export const RV64D: readonly Def32[] = [
  ...floatingPoint("d"),
  { name: "fcvt.s.d", bits: "01000 00 00001 ----- --- ----- 1010011", syntax: "fd,fs1,rm" },
  // single -> double is exact: no rounding-mode operand.
  { name: "fcvt.d.s", bits: "01000 01 00000 ----- --- ----- 1010011", syntax: "fd,fs1" },
];
