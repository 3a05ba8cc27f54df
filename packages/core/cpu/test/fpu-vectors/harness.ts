/**
 * Runs the FPU against the reference vectors that gen.c computed on x86-64 hardware:
 * registers are written and instructions executed as a guest would, and the result
 * register and fflags are compared bit for bit in RNE, RTZ, RDN and RUP.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Fpu } from "../../src/fpu.js";

const DATA = fileURLToPath(new URL("./data/", import.meta.url));

/** The vector file `name` (without .txt) as lines of space-separated hex fields. */
export function loadVectors(name: string): string[][] {
  const text = readFileSync(`${DATA}${name}.txt`, "utf8");
  const rows: string[][] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const fields = line.split(" ");
    // "=" repeats the RNE result, which is the first result column.
    const first = fields.length - 8;
    for (let i = first + 2; i < fields.length; i += 2) if (fields[i] === "=") fields[i] = fields[first]!;
    rows.push(fields);
  }
  return rows;
}

/** Rounding-mode names in the vectors' column order. */
export const MODE_NAMES = ["rne", "rtz", "rdn", "rup"];

type Fmt = "s" | "d";

/** Write a hex operand into f[i]: 8 digits NaN-boxed binary32, 16 digits binary64. */
export function setF(fpu: Fpu, i: number, hex: string): void {
  if (hex.length === 8) fpu.writeSingleBits(i, Number.parseInt(hex, 16));
  else fpu.writeDoubleBits(i, Number.parseInt(hex.slice(8), 16), Number.parseInt(hex.slice(0, 8), 16));
}

/** Write a 16-digit hex value into x[i]. */
export function setX(fpu: Fpu, i: number, hex: string): void {
  fpu.x[2 * i] = Number.parseInt(hex.slice(8), 16) | 0;
  fpu.x[2 * i + 1] = Number.parseInt(hex.slice(0, 8), 16) | 0;
}

const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, "0");

/** f[i] as hex: 8 digits if NaN-boxed binary32 expected, else 16. */
export function getF(fpu: Fpu, i: number, fmt: Fmt): string {
  if (fmt === "s") {
    const boxed = fpu.u32[2 * i + 1] === 0xffffffff;
    return boxed ? hex8(fpu.u32[2 * i]!) : `unboxed:${hex8(fpu.u32[2 * i + 1]!)}${hex8(fpu.u32[2 * i]!)}`;
  }
  return hex8(fpu.u32[2 * i + 1]!) + hex8(fpu.u32[2 * i]!);
}

/** x[i] as 16 hex digits. */
export function getX(fpu: Fpu, i: number): string {
  return hex8(fpu.x[2 * i + 1]!) + hex8(fpu.x[2 * i]!);
}

/** How one vector file maps onto an instruction: operand kinds and the call. */
export interface VectorSpec {
  file: string;
  /** Operand kinds: "f" (float register) or "x" (integer register). */
  operands: ("f" | "x")[];
  /** Result kind and format. */
  result: "fs" | "fd" | "x";
  /** Execute with operands in f1/f2/f3 or x1, the result to f4 / x4, under rm. */
  run: (fpu: Fpu, rm: number) => boolean;
}

/**
 * Run every row of a vector file in the four modes (and once more via frm for the
 * dynamic mode); returns the mismatches as readable strings (at most `limit`).
 */
export function runVectors(spec: VectorSpec, limit = 20): { rows: number; failures: string[] } {
  const fpu = new Fpu(new Int32Array(64));
  const rows = loadVectors(spec.file);
  const failures: string[] = [];
  const n = spec.operands.length;
  let row = 0;
  for (const fields of rows) {
    for (let m = 0; m < 4; m++) {
      for (let k = 0; k < n; k++) {
        if (spec.operands[k] === "f") setF(fpu, k + 1, fields[k]!);
        else setX(fpu, k + 1, fields[k]!);
      }
      // Poison the destination so a missing write shows.
      fpu.writeDoubleBits(4, 0xdeadbeef, 0xdeadbeef);
      fpu.x[8] = 0x5a5a5a5a;
      fpu.x[9] = 0x5a5a5a5a;
      fpu.fflags = 0;
      // Alternate static rm and dynamic (rm = 7 with frm) to cover both.
      let ok: boolean;
      if ((row + m) % 4 === 3) {
        fpu.frm = m;
        ok = spec.run(fpu, 7);
      } else {
        fpu.frm = 5; // would make a stray dynamic read fail
        ok = spec.run(fpu, m);
      }
      const want = fields[n + 2 * m]!;
      const wantFlags = Number.parseInt(fields[n + 2 * m + 1]!, 16);
      const got = spec.result === "x" ? getX(fpu, 4) : getF(fpu, 4, spec.result === "fs" ? "s" : "d");
      if (!ok || got !== want || fpu.fflags !== wantFlags) {
        if (failures.length < limit) {
          failures.push(
            `${spec.file} ${fields.slice(0, n).join(" ")} ${MODE_NAMES[m]}: want ${want} flags ${wantFlags.toString(16)}, got ${ok ? got : "illegal"} flags ${fpu.fflags.toString(16)}`,
          );
        } else if (failures.length === limit) failures.push("...");
      }
    }
    row++;
  }
  return { rows: rows.length, failures };
}

/** The specs for every vector file gen.c writes. */
export const SPECS: VectorSpec[] = [
  ...(["add", "sub", "mul", "div"] as const).flatMap((op): VectorSpec[] => [
    {
      file: `d_${op}`,
      operands: ["f", "f"],
      result: "fd",
      run: (f, rm) =>
        op === "add"
          ? f.faddD(4, 1, 2, rm)
          : op === "sub"
            ? f.fsubD(4, 1, 2, rm)
            : op === "mul"
              ? f.fmulD(4, 1, 2, rm)
              : f.fdivD(4, 1, 2, rm),
    },
    {
      file: `s_${op}`,
      operands: ["f", "f"],
      result: "fs",
      run: (f, rm) =>
        op === "add"
          ? f.faddS(4, 1, 2, rm)
          : op === "sub"
            ? f.fsubS(4, 1, 2, rm)
            : op === "mul"
              ? f.fmulS(4, 1, 2, rm)
              : f.fdivS(4, 1, 2, rm),
    },
  ]),
  { file: "d_sqrt", operands: ["f"], result: "fd", run: (f, rm) => f.fsqrtD(4, 1, rm) },
  { file: "s_sqrt", operands: ["f"], result: "fs", run: (f, rm) => f.fsqrtS(4, 1, rm) },
  { file: "d_fmadd", operands: ["f", "f", "f"], result: "fd", run: (f, rm) => f.fmaddD(4, 1, 2, 3, rm) },
  { file: "d_fmsub", operands: ["f", "f", "f"], result: "fd", run: (f, rm) => f.fmsubD(4, 1, 2, 3, rm) },
  { file: "d_fnmsub", operands: ["f", "f", "f"], result: "fd", run: (f, rm) => f.fnmsubD(4, 1, 2, 3, rm) },
  { file: "d_fnmadd", operands: ["f", "f", "f"], result: "fd", run: (f, rm) => f.fnmaddD(4, 1, 2, 3, rm) },
  { file: "s_fmadd", operands: ["f", "f", "f"], result: "fs", run: (f, rm) => f.fmaddS(4, 1, 2, 3, rm) },
  { file: "s_fmsub", operands: ["f", "f", "f"], result: "fs", run: (f, rm) => f.fmsubS(4, 1, 2, 3, rm) },
  { file: "s_fnmsub", operands: ["f", "f", "f"], result: "fs", run: (f, rm) => f.fnmsubS(4, 1, 2, 3, rm) },
  { file: "s_fnmadd", operands: ["f", "f", "f"], result: "fs", run: (f, rm) => f.fnmaddS(4, 1, 2, 3, rm) },
  { file: "d_cvt_w", operands: ["f"], result: "x", run: (f, rm) => f.fcvtWD(4, 1, rm) },
  { file: "d_cvt_wu", operands: ["f"], result: "x", run: (f, rm) => f.fcvtWuD(4, 1, rm) },
  { file: "d_cvt_l", operands: ["f"], result: "x", run: (f, rm) => f.fcvtLD(4, 1, rm) },
  { file: "d_cvt_lu", operands: ["f"], result: "x", run: (f, rm) => f.fcvtLuD(4, 1, rm) },
  { file: "s_cvt_w", operands: ["f"], result: "x", run: (f, rm) => f.fcvtWS(4, 1, rm) },
  { file: "s_cvt_wu", operands: ["f"], result: "x", run: (f, rm) => f.fcvtWuS(4, 1, rm) },
  { file: "s_cvt_l", operands: ["f"], result: "x", run: (f, rm) => f.fcvtLS(4, 1, rm) },
  { file: "s_cvt_lu", operands: ["f"], result: "x", run: (f, rm) => f.fcvtLuS(4, 1, rm) },
  { file: "d_cvt_from_w", operands: ["x"], result: "fd", run: (f, rm) => f.fcvtDW(4, 1, rm) },
  { file: "d_cvt_from_wu", operands: ["x"], result: "fd", run: (f, rm) => f.fcvtDWu(4, 1, rm) },
  { file: "d_cvt_from_l", operands: ["x"], result: "fd", run: (f, rm) => f.fcvtDL(4, 1, rm) },
  { file: "d_cvt_from_lu", operands: ["x"], result: "fd", run: (f, rm) => f.fcvtDLu(4, 1, rm) },
  { file: "s_cvt_from_w", operands: ["x"], result: "fs", run: (f, rm) => f.fcvtSW(4, 1, rm) },
  { file: "s_cvt_from_wu", operands: ["x"], result: "fs", run: (f, rm) => f.fcvtSWu(4, 1, rm) },
  { file: "s_cvt_from_l", operands: ["x"], result: "fs", run: (f, rm) => f.fcvtSL(4, 1, rm) },
  { file: "s_cvt_from_lu", operands: ["x"], result: "fs", run: (f, rm) => f.fcvtSLu(4, 1, rm) },
  { file: "s_cvt_from_d", operands: ["f"], result: "fs", run: (f, rm) => f.fcvtSD(4, 1, rm) },
];
