// One hand-written case (or table) per F/D spec rule, driving the FPU as a guest would:
// write registers, execute, read registers and fflags. Section names refer to the
// RISC-V unprivileged spec, chapters "F" and "D".
import { beforeEach, describe, expect, it } from "vitest";
import { DZ, Fpu, NV, NX, OF, UF } from "../src/fpu.js";

const RNE = 0;
const RTZ = 1;
const RDN = 2;
const RUP = 3;
const RMM = 4;
const DYN = 7;

let fpu: Fpu;
beforeEach(() => {
  fpu = new Fpu(new Int32Array(64));
});

const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, "0");
/** Write binary64 bits given as 16 hex digits. */
const setDBits = (i: number, hex: string): void =>
  fpu.writeDoubleBits(i, Number.parseInt(hex.slice(8), 16), Number.parseInt(hex.slice(0, 8), 16));
const dBits = (i: number): string => hex8(fpu.u32[2 * i + 1]!) + hex8(fpu.u32[2 * i]!);
/** f[i] as binary32 bits; fails unless NaN-boxed. */
const sBits = (i: number): string => {
  expect(hex8(fpu.u32[2 * i + 1]!)).toBe("ffffffff");
  return hex8(fpu.u32[2 * i]!);
};
const setS = (i: number, v: number): void => {
  const f = new Float32Array([v]);
  fpu.writeSingleBits(i, new Uint32Array(f.buffer)[0]!);
};
const getS = (i: number): number => {
  sBits(i);
  return new Float32Array(new Uint32Array([fpu.u32[2 * i]!]).buffer)[0]!;
};
const xHex = (i: number): string => hex8(fpu.x[2 * i + 1]!) + hex8(fpu.x[2 * i]!);
const setX64 = (i: number, v: bigint): void => {
  fpu.x[2 * i] = Number(BigInt.asIntN(32, v));
  fpu.x[2 * i + 1] = Number(BigInt.asIntN(32, v >> 32n));
};

const QNAN_D = "7ff8000000000000";
const QNAN_S = "7fc00000";
const SNAN_D = "7ff0000000000001";
const SNAN_S = 0x7f800001;
const MIN_D = 2 ** -1022;
const MAX_D = Number.MAX_VALUE;

describe("rounding-mode field (F: 'Floating-Point Control and Status Register')", () => {
  it("rm 5 and 6 are reserved: the method returns false and changes nothing", () => {
    fpu.f64[1] = 1;
    fpu.f64[2] = 2 ** -60;
    for (const rm of [5, 6]) {
      expect(fpu.faddD(3, 1, 2, rm)).toBe(false);
      expect(fpu.fcvtDW(3, 1, rm)).toBe(false); // exact conversions still decode rm
      expect(fpu.fcvtDS(3, 1, rm)).toBe(false);
      expect(fpu.fmaddS(3, 1, 2, 1, rm)).toBe(false);
    }
    expect(fpu.f64[3]).toBe(0);
    expect(fpu.fflags).toBe(0);
  });

  it("rm 7 uses frm; an invalid frm (5, 6, 7) makes the instruction illegal", () => {
    fpu.f64[1] = 1;
    fpu.f64[2] = 2 ** -60;
    fpu.frm = RUP;
    expect(fpu.faddD(3, 1, 2, DYN)).toBe(true);
    expect(fpu.f64[3]).toBe(1 + 2 ** -52);
    fpu.frm = RDN;
    expect(fpu.faddD(3, 1, 2, DYN)).toBe(true);
    expect(fpu.f64[3]).toBe(1);
    for (const frm of [5, 6, 7]) {
      fpu.frm = frm;
      expect(fpu.faddD(4, 1, 2, DYN)).toBe(false);
      expect(fpu.fcvtLuD(4, 1, DYN)).toBe(false);
    }
  });
});

describe("NaN boxing (F: 'NaN Boxing of Narrower Values')", () => {
  it("single results are NaN-boxed; writeSingleBits boxes", () => {
    setS(1, 1.5);
    setS(2, 2);
    fpu.faddS(3, 1, 2, RNE);
    expect(sBits(3)).toBe("40600000");
    fpu.writeSingleBits(4, 0x3f800000);
    expect(fpu.u32[9]).toBe(0xffffffff);
  });

  it("an operand that is not NaN-boxed reads as the canonical NaN (quiet: no NV)", () => {
    fpu.f64[1] = 1; // a double: high word is not all ones
    setS(2, 2);
    fpu.faddS(3, 1, 2, RNE);
    expect(sBits(3)).toBe(QNAN_S);
    expect(fpu.fflags).toBe(0);
    fpu.writeDoubleBits(4, SNAN_S, 0xfffffffe); // an sNaN pattern, but not boxed
    fpu.fmulS(3, 4, 2, RNE);
    expect(sBits(3)).toBe(QNAN_S);
    expect(fpu.fflags).toBe(0);
  });

  it("fclass.s, feq.s, flt.s and fsgnj.s see an unboxed operand as the canonical NaN", () => {
    fpu.f64[1] = -1;
    setS(2, -2);
    fpu.fclassS(5, 1);
    expect(fpu.x[10]).toBe(1 << 9);
    fpu.feqS(5, 1, 1);
    expect(fpu.x[10]).toBe(0);
    expect(fpu.fflags).toBe(0);
    fpu.fltS(5, 2, 1);
    expect(fpu.fflags).toBe(NV);
    fpu.fsgnjS(3, 1, 2); // canonical NaN with rs2's sign
    expect(sBits(3)).toBe("ffc00000");
    fpu.fsgnjS(3, 2, 1); // an unboxed rs2 is the canonical NaN: sign bit 0
    expect(sBits(3)).toBe("40000000");
  });

  it("fmv.x.w moves the low 32 bits as they are, sign-extended; fmv.w.x boxes", () => {
    fpu.writeDoubleBits(1, 0x80000001, 0x12345678); // not boxed
    fpu.fmvXW(5, 1);
    expect(xHex(5)).toBe("ffffffff80000001");
    fpu.writeSingleBits(1, 0x7fffffff);
    fpu.fmvXW(5, 1);
    expect(xHex(5)).toBe("000000007fffffff");
    setX64(6, 0x12345678_ff800001n);
    fpu.fmvWX(2, 6);
    expect(dBits(2)).toBe("ffffffffff800001");
    expect(fpu.readSingleBits(2)).toBe(0xff800001);
  });

  it("fcvt.d.s of an unboxed value gives the canonical NaN without NV", () => {
    fpu.f64[1] = 3;
    fpu.fcvtDS(2, 1, RNE);
    expect(dBits(2)).toBe(QNAN_D);
    expect(fpu.fflags).toBe(0);
  });
});

describe("canonical NaN and signaling NaNs (F: 'NaN Generation and Propagation')", () => {
  it("every NaN result is the canonical NaN, whatever the input payload or sign", () => {
    setDBits(1, "fff800000000dead");
    fpu.f64[2] = 1;
    fpu.faddD(3, 1, 2, RNE);
    expect(dBits(3)).toBe(QNAN_D);
    fpu.fsqrtD(3, 1, RNE);
    expect(dBits(3)).toBe(QNAN_D);
    fpu.fcvtSD(4, 1, RNE);
    expect(sBits(4)).toBe(QNAN_S);
    fpu.writeSingleBits(5, 0xffc0beef);
    fpu.fcvtDS(6, 5, RNE);
    expect(dBits(6)).toBe(QNAN_D);
    fpu.fmaddS(6, 5, 5, 5, RNE);
    expect(sBits(6)).toBe(QNAN_S);
    expect(fpu.fflags).toBe(0); // quiet NaNs raise nothing
  });

  it("signaling NaN inputs raise NV (detected from the bits)", () => {
    setDBits(1, SNAN_D);
    fpu.f64[2] = 1;
    const ops: [string, () => void][] = [
      ["fadd.d", () => fpu.faddD(3, 2, 1, RNE)],
      ["fsub.d", () => fpu.fsubD(3, 1, 2, RNE)],
      ["fmul.d", () => fpu.fmulD(3, 1, 2, RNE)],
      ["fdiv.d", () => fpu.fdivD(3, 2, 1, RNE)],
      ["fsqrt.d", () => fpu.fsqrtD(3, 1, RNE)],
      ["fmadd.d", () => fpu.fmaddD(3, 2, 2, 1, RNE)],
      ["fcvt.s.d", () => fpu.fcvtSD(3, 1, RNE)],
      ["fmin.d", () => fpu.fminD(3, 1, 2)],
      ["feq.d", () => fpu.feqD(5, 1, 2)],
      ["fcvt.w.d", () => fpu.fcvtWD(5, 1, RNE)],
    ];
    for (const [name, run] of ops) {
      fpu.fflags = 0;
      run();
      expect(fpu.fflags, name).toBe(NV);
    }
    fpu.writeSingleBits(4, SNAN_S);
    setS(6, 1);
    for (const run of [
      () => fpu.faddS(3, 6, 4, RNE),
      () => fpu.fcvtDS(3, 4, RNE),
      () => fpu.fmaxS(3, 4, 6),
      () => fpu.fnmsubS(3, 6, 6, 4, RNE),
    ]) {
      fpu.fflags = 0;
      run();
      expect(fpu.fflags).toBe(NV);
    }
  });

  it("fsgnj*, fmv and moves keep NaN payloads (no canonicalization, no flags)", () => {
    setDBits(1, SNAN_D);
    fpu.f64[2] = -1;
    fpu.fsgnjD(3, 1, 2);
    expect(dBits(3)).toBe("fff0000000000001");
    fpu.fsgnjnD(3, 1, 2);
    expect(dBits(3)).toBe(SNAN_D);
    fpu.fsgnjxD(3, 3, 2);
    expect(dBits(3)).toBe("fff0000000000001");
    fpu.fmvXD(5, 1);
    expect(xHex(5)).toBe(SNAN_D);
    fpu.fmvDX(4, 5);
    expect(dBits(4)).toBe(SNAN_D);
    fpu.writeSingleBits(6, SNAN_S);
    setS(7, -0);
    fpu.fsgnjxS(8, 6, 7);
    expect(sBits(8)).toBe("ff800001");
    expect(fpu.fflags).toBe(0);
  });
});

describe("sign injection", () => {
  it("fsgnj, fsgnjn, fsgnjx combine rs1's magnitude with a sign from rs2", () => {
    const cases: [number, number, number, number, number][] = [
      // a, b, sgnj, sgnjn, sgnjx
      [1, 2, 1, -1, 1],
      [1, -2, -1, 1, -1],
      [-1, 2, 1, -1, -1],
      [-1, -2, -1, 1, 1],
      [0, -0, -0, 0, -0],
    ];
    for (const [a, b, j, n, x] of cases) {
      fpu.f64[1] = a;
      fpu.f64[2] = b;
      fpu.fsgnjD(3, 1, 2);
      expect(Object.is(fpu.f64[3], j)).toBe(true);
      fpu.fsgnjnD(3, 1, 2);
      expect(Object.is(fpu.f64[3], n)).toBe(true);
      fpu.fsgnjxD(3, 1, 2);
      expect(Object.is(fpu.f64[3], x)).toBe(true);
      setS(1, a);
      setS(2, b);
      fpu.fsgnjS(3, 1, 2);
      expect(Object.is(getS(3), j)).toBe(true);
      fpu.fsgnjnS(3, 1, 2);
      expect(Object.is(getS(3), n)).toBe(true);
      fpu.fsgnjxS(3, 1, 2);
      expect(Object.is(getS(3), x)).toBe(true);
    }
  });
});

describe("fmin/fmax (F 2.2: IEEE 754-2019 minimumNumber/maximumNumber)", () => {
  const run = (single: boolean, max: boolean, a: number | "snan" | "qnan", b: number | "snan" | "qnan") => {
    const put = (i: number, v: number | "snan" | "qnan") => {
      if (single) {
        if (v === "snan") fpu.writeSingleBits(i, SNAN_S);
        else if (v === "qnan") fpu.writeSingleBits(i, 0x7fc00001);
        else setS(i, v);
      } else if (v === "snan") setDBits(i, SNAN_D);
      else if (v === "qnan") setDBits(i, "7ff8000000000001");
      else fpu.f64[i] = v;
    };
    put(1, a);
    put(2, b);
    fpu.fflags = 0;
    if (single && max) fpu.fmaxS(3, 1, 2);
    else if (single) fpu.fminS(3, 1, 2);
    else if (max) fpu.fmaxD(3, 1, 2);
    else fpu.fminD(3, 1, 2);
    return single ? sBits(3) : dBits(3);
  };

  it("orders -0 below +0 in both operand orders", () => {
    for (const single of [false, true]) {
      const neg0 = single ? "80000000" : "8000000000000000";
      const pos0 = single ? "00000000" : "0000000000000000";
      expect(run(single, false, 0, -0)).toBe(neg0);
      expect(run(single, false, -0, 0)).toBe(neg0);
      expect(run(single, true, 0, -0)).toBe(pos0);
      expect(run(single, true, -0, 0)).toBe(pos0);
    }
  });

  it("returns the number when one operand is NaN; canonical NaN when both are; NV for sNaN", () => {
    for (const single of [false, true]) {
      const three = single ? "40400000" : "4008000000000000";
      expect(run(single, false, "qnan", 3)).toBe(three);
      expect(fpu.fflags).toBe(0);
      expect(run(single, true, 3, "qnan")).toBe(three);
      expect(run(single, false, "snan", 3)).toBe(three);
      expect(fpu.fflags).toBe(NV);
      expect(run(single, true, "qnan", "qnan")).toBe(single ? QNAN_S : QNAN_D);
      expect(fpu.fflags).toBe(0);
      expect(run(single, false, "snan", "qnan")).toBe(single ? QNAN_S : QNAN_D);
      expect(fpu.fflags).toBe(NV);
      expect(run(single, false, -1, 2)).toBe(single ? "bf800000" : "bff0000000000000");
      expect(run(single, true, Number.NEGATIVE_INFINITY, -MAX_D)).toBe(
        single ? "ff800000" : "ffefffffffffffff",
      );
    }
  });
});

describe("comparisons", () => {
  it("feq is quiet (NV only for sNaN); flt and fle signal on any NaN", () => {
    fpu.f64[1] = 0;
    fpu.f64[2] = -0;
    fpu.feqD(5, 1, 2);
    expect(xHex(5)).toBe("0000000000000001");
    fpu.fleD(5, 2, 1);
    expect(fpu.x[10]).toBe(1);
    fpu.fltD(5, 2, 1);
    expect(fpu.x[10]).toBe(0);
    expect(fpu.fflags).toBe(0);
    setDBits(3, QNAN_D);
    fpu.feqD(5, 3, 3);
    expect(fpu.x[10]).toBe(0);
    expect(fpu.fflags).toBe(0);
    fpu.fltD(5, 3, 1);
    expect(fpu.fflags).toBe(NV);
    fpu.fflags = 0;
    fpu.fleD(5, 1, 3);
    expect(fpu.fflags).toBe(NV);
    fpu.fflags = 0;
    setDBits(4, SNAN_D);
    fpu.feqD(5, 4, 1);
    expect(fpu.fflags).toBe(NV);
    fpu.fflags = 0;
    setS(6, 1);
    setS(7, 2);
    fpu.fltS(5, 6, 7);
    expect(xHex(5)).toBe("0000000000000001");
  });

  it("never writes x0", () => {
    fpu.f64[1] = 1;
    fpu.feqD(0, 1, 1);
    fpu.fclassD(0, 1);
    fpu.fmvXD(0, 1);
    fpu.f64[2] = Number.NaN;
    fpu.fcvtWD(0, 2, RNE);
    expect(fpu.x[0]).toBe(0);
    expect(fpu.x[1]).toBe(0);
    expect(fpu.fflags).toBe(NV); // the exception is still raised
  });
});

describe("fclass: one bit per class", () => {
  it("binary64 and binary32", () => {
    const d: [string, number][] = [
      ["fff0000000000000", 0],
      ["bff0000000000000", 1],
      ["800fffffffffffff", 2],
      ["8000000000000000", 3],
      ["0000000000000000", 4],
      ["0000000000000001", 5],
      ["7fefffffffffffff", 6],
      ["7ff0000000000000", 7],
      ["7ff4000000000000", 8],
      ["fff8000000000000", 9],
    ];
    for (const [bits, k] of d) {
      setDBits(1, bits);
      fpu.fclassD(5, 1);
      expect(xHex(5), bits).toBe(hex8(0) + hex8(1 << k));
    }
    const s: [number, number][] = [
      [0xff800000, 0],
      [0xbf800000, 1],
      [0x807fffff, 2],
      [0x80000000, 3],
      [0x00000000, 4],
      [0x00000001, 5],
      [0x7f7fffff, 6],
      [0x7f800000, 7],
      [0x7fa00000, 8],
      [0xffc00000, 9],
    ];
    for (const [bits, k] of s) {
      fpu.writeSingleBits(1, bits);
      fpu.fclassS(5, 1);
      expect(xHex(5), hex8(bits)).toBe(hex8(0) + hex8(1 << k));
    }
  });
});

describe("conversions to integers (F: 'Single-Precision Floating-Point Conversion and Move')", () => {
  const cvt = (op: "w" | "wu" | "l" | "lu", v: number, rm = RNE): [string, number] => {
    fpu.f64[1] = v;
    fpu.fflags = 0;
    if (op === "w") fpu.fcvtWD(5, 1, rm);
    else if (op === "wu") fpu.fcvtWuD(5, 1, rm);
    else if (op === "l") fpu.fcvtLD(5, 1, rm);
    else fpu.fcvtLuD(5, 1, rm);
    const d = [xHex(5), fpu.fflags] as [string, number];
    // The binary32 versions agree wherever the value is a binary32.
    if (Math.fround(v) === v || Number.isNaN(v)) {
      setS(1, v);
      fpu.fflags = 0;
      if (op === "w") fpu.fcvtWS(5, 1, rm);
      else if (op === "wu") fpu.fcvtWuS(5, 1, rm);
      else if (op === "l") fpu.fcvtLS(5, 1, rm);
      else fpu.fcvtLuS(5, 1, rm);
      expect([xHex(5), fpu.fflags]).toEqual(d);
    }
    return d;
  };

  it("saturate on overflow, infinity and NaN with NV only (the spec's table)", () => {
    const inf = Number.POSITIVE_INFINITY;
    const table: [string, "w" | "wu" | "l" | "lu", number, string][] = [
      ["NaN", "w", Number.NaN, "000000007fffffff"],
      ["+inf", "w", inf, "000000007fffffff"],
      ["-inf", "w", -inf, "ffffffff80000000"],
      ["> max", "w", 2 ** 31, "000000007fffffff"],
      ["< min", "w", -(2 ** 31) - 1, "ffffffff80000000"],
      ["NaN", "wu", Number.NaN, "ffffffffffffffff"],
      ["+inf", "wu", inf, "ffffffffffffffff"],
      ["-inf", "wu", -inf, "0000000000000000"],
      ["> max", "wu", 2 ** 32, "ffffffffffffffff"],
      ["< 0", "wu", -1, "0000000000000000"],
      ["NaN", "l", Number.NaN, "7fffffffffffffff"],
      ["+inf", "l", inf, "7fffffffffffffff"],
      ["-inf", "l", -inf, "8000000000000000"],
      ["> max", "l", 2 ** 63, "7fffffffffffffff"],
      ["< min", "l", -(2 ** 63) - 2048, "8000000000000000"],
      ["NaN", "lu", Number.NaN, "ffffffffffffffff"],
      ["+inf", "lu", inf, "ffffffffffffffff"],
      ["-inf", "lu", -inf, "0000000000000000"],
      ["> max", "lu", 2 ** 64, "ffffffffffffffff"],
      ["< 0", "lu", -1, "0000000000000000"],
    ];
    for (const [what, op, v, want] of table) expect(cvt(op, v), `${op} ${what}`).toEqual([want, NV]);
  });

  it("judge the range after rounding; NX only when in range and inexact", () => {
    expect(cvt("w", 2 ** 31 - 0.5)).toEqual(["000000007fffffff", NV]); // rounds to 2^31
    expect(cvt("w", 2 ** 31 - 0.5, RTZ)).toEqual(["000000007fffffff", NX]);
    expect(cvt("w", -(2 ** 31) - 0.5)).toEqual(["ffffffff80000000", NX]); // ties to even: -2^31
    expect(cvt("w", -(2 ** 31) - 0.5, RMM)).toEqual(["ffffffff80000000", NV]);
    expect(cvt("wu", -0.4)).toEqual(["0000000000000000", NX]); // rounds to -0: in range
    expect(cvt("wu", -0.6)).toEqual(["0000000000000000", NV]);
    expect(cvt("wu", -0.6, RTZ)).toEqual(["0000000000000000", NX]);
    expect(cvt("lu", -0.9, RUP)).toEqual(["0000000000000000", NX]);
    expect(cvt("lu", 2 ** 64 - 2048)).toEqual(["fffffffffffff800", 0]);
    expect(cvt("l", -(2 ** 63))).toEqual(["8000000000000000", 0]);
    expect(cvt("l", -0)).toEqual(["0000000000000000", 0]);
  });

  it("32-bit results are sign-extended, fcvt.wu included", () => {
    expect(cvt("w", -1)).toEqual(["ffffffffffffffff", 0]);
    expect(cvt("wu", 3e9)).toEqual(["ffffffffb2d05e00", 0]);
    expect(cvt("wu", 2 ** 31 - 1)).toEqual(["000000007fffffff", 0]);
  });

  it("round in every mode, ties included", () => {
    const modes = [RNE, RTZ, RDN, RUP, RMM];
    const table: [number, number[]][] = [
      [2.5, [2, 2, 2, 3, 3]],
      [-2.5, [-2, -2, -3, -2, -3]],
      [3.5, [4, 3, 3, 4, 4]],
      [0.5, [0, 0, 0, 1, 1]],
      [-0.5, [0, 0, -1, 0, -1]],
      [-0.49999999999999994, [0, 0, -1, 0, 0]],
      [1.25, [1, 1, 1, 2, 1]],
      [-1.75, [-2, -1, -2, -1, -2]],
    ];
    for (const [v, want] of table) {
      modes.forEach((rm, k) => {
        const [x, flags] = cvt("l", v, rm);
        expect(BigInt.asIntN(64, BigInt(`0x${x}`)), `${v} rm ${rm}`).toBe(BigInt(want[k]!));
        expect(flags).toBe(NX);
      });
    }
  });
});

describe("conversions from integers", () => {
  const fromL = (v: bigint, rm: number, unsigned = false, single = false): number => {
    setX64(6, v);
    fpu.fflags = 0;
    if (single) {
      if (unsigned) fpu.fcvtSLu(1, 6, rm);
      else fpu.fcvtSL(1, 6, rm);
      return getS(1);
    }
    if (unsigned) fpu.fcvtDLu(1, 6, rm);
    else fpu.fcvtDL(1, 6, rm);
    return fpu.f64[1]!;
  };

  it("round 64-bit integers per rm from both 32-bit halves", () => {
    const t = 2n ** 53n;
    const two53 = 2 ** 53;
    // 2^53 + 1 is a tie between 2^53 and 2^53 + 2.
    expect([RNE, RTZ, RDN, RUP, RMM].map((rm) => fromL(t + 1n, rm))).toEqual([
      two53,
      two53,
      two53,
      two53 + 2,
      two53 + 2,
    ]);
    expect(fpu.fflags).toBe(NX);
    expect([RNE, RTZ, RDN, RUP, RMM].map((rm) => fromL(-(t + 1n), rm))).toEqual([
      -two53,
      -two53,
      -two53 - 2,
      -two53,
      -two53 - 2,
    ]);
    expect(fromL(t + 3n, RNE)).toBe(two53 + 4); // tie to even upwards
    expect(fromL(-1n, RNE, true)).toBe(2 ** 64);
    expect(fromL(-1n, RTZ, true)).toBe(2 ** 64 - 2048);
    expect(fromL(-1n, RNE)).toBe(-1);
    expect(fpu.fflags).toBe(0);
    expect(fromL(-(2n ** 63n), RUP)).toBe(-(2 ** 63));
    expect(fpu.fflags).toBe(0);
    // binary32: 2^24 + 1 ties; a sticky bit far below decides directed modes.
    expect(fromL(2n ** 24n + 1n, RNE, false, true)).toBe(2 ** 24);
    expect(fromL(2n ** 24n + 1n, RMM, false, true)).toBe(2 ** 24 + 2);
    expect(fromL((2n ** 24n + 1n) * 2n ** 38n + 1n, RNE, false, true)).toBe((2 ** 24 + 2) * 2 ** 38);
    expect(fromL(-1n, RDN, true, true)).toBe(2 ** 64 - 2 ** 40);
  });

  it("fcvt.d.w/wu are exact and read only the low 32 bits", () => {
    setX64(6, 0x12345678_80000000n);
    fpu.fcvtDW(1, 6, RNE);
    expect(fpu.f64[1]).toBe(-(2 ** 31));
    fpu.fcvtDWu(1, 6, RNE);
    expect(fpu.f64[1]).toBe(2 ** 31);
    fpu.fcvtSWu(2, 6, RNE);
    expect(getS(2)).toBe(2 ** 31);
    setX64(6, 0xffffffffn);
    fpu.fcvtSWu(2, 6, RTZ);
    expect(getS(2)).toBe(2 ** 32 - 256);
    expect(fpu.fflags).toBe(NX);
  });
});

describe("fcvt.s.d and fcvt.d.s", () => {
  it("narrowing rounds per rm and overflows/underflows with flags; widening is exact", () => {
    fpu.f64[1] = 1 + 2 ** -24; // a binary32 tie
    fpu.fcvtSD(2, 1, RNE);
    expect(getS(2)).toBe(1);
    fpu.fcvtSD(2, 1, RMM);
    expect(getS(2)).toBe(1 + 2 ** -23);
    fpu.f64[1] = 2 ** 128;
    fpu.fflags = 0;
    fpu.fcvtSD(2, 1, RTZ);
    expect(sBits(2)).toBe("7f7fffff");
    expect(fpu.fflags).toBe(OF | NX);
    fpu.f64[1] = -(2 ** -150);
    fpu.fflags = 0;
    fpu.fcvtSD(2, 1, RNE);
    expect(sBits(2)).toBe("80000000");
    expect(fpu.fflags).toBe(UF | NX);
    fpu.fcvtSD(2, 1, RDN);
    expect(sBits(2)).toBe("80000001");
    setS(3, 2 ** -149);
    fpu.fflags = 0;
    fpu.fcvtDS(4, 3, RNE);
    expect(fpu.f64[4]).toBe(2 ** -149);
    expect(fpu.fflags).toBe(0);
  });
});

describe("arithmetic flags and special values", () => {
  it("division by zero raises DZ only for a finite non-zero dividend", () => {
    fpu.f64[1] = -3;
    fpu.f64[2] = 0;
    fpu.fdivD(3, 1, 2, RNE);
    expect(fpu.f64[3]).toBe(Number.NEGATIVE_INFINITY);
    expect(fpu.fflags).toBe(DZ);
    fpu.fflags = 0;
    fpu.fdivD(3, 2, 2, RNE);
    expect(dBits(3)).toBe(QNAN_D);
    expect(fpu.fflags).toBe(NV);
    fpu.fflags = 0;
    fpu.f64[1] = Number.POSITIVE_INFINITY;
    fpu.fdivD(3, 1, 2, RNE);
    expect(fpu.f64[3]).toBe(Number.POSITIVE_INFINITY);
    expect(fpu.fflags).toBe(0);
    setS(4, 1);
    setS(5, -0);
    fpu.fdivS(6, 4, 5, RNE);
    expect(sBits(6)).toBe("ff800000");
    expect(fpu.fflags).toBe(DZ);
  });

  it("sqrt of -0 is -0; of a negative number, NV and the canonical NaN", () => {
    fpu.f64[1] = -0;
    fpu.fsqrtD(2, 1, RNE);
    expect(dBits(2)).toBe("8000000000000000");
    fpu.f64[1] = -(2 ** -1074);
    fpu.fsqrtD(2, 1, RNE);
    expect(dBits(2)).toBe(QNAN_D);
    expect(fpu.fflags).toBe(NV);
  });

  it("overflow gives infinity or the largest finite value by mode and sign", () => {
    const inf = Number.POSITIVE_INFINITY;
    // By rm: [positive, negative] results.
    const want = [
      [inf, -inf],
      [MAX_D, -MAX_D],
      [MAX_D, -inf],
      [inf, -MAX_D],
      [inf, -inf],
    ];
    for (const rm of [RNE, RTZ, RDN, RUP, RMM]) {
      for (const [k, sign] of [1, -1].entries()) {
        fpu.f64[1] = MAX_D * sign;
        fpu.f64[2] = 2;
        fpu.fflags = 0;
        fpu.fmulD(3, 1, 2, rm);
        expect(fpu.f64[3]).toBe(want[rm]![k]);
        expect(fpu.fflags).toBe(OF | NX);
        fpu.fflags = 0;
        fpu.faddD(3, 1, 1, rm);
        expect(fpu.f64[3]).toBe(want[rm]![k]);
        expect(fpu.fflags).toBe(OF | NX);
      }
    }
  });

  it("detects tininess after rounding (RISC-V, like x86)", () => {
    // MIN_D * (1 - 2^-53) = MIN_D - 2^-1075: tiny even with an unbounded exponent, and
    // rounds (ties to even) up to MIN_D: the result is normal, yet UF is raised.
    fpu.f64[1] = MIN_D;
    fpu.f64[2] = 1 - 2 ** -53;
    fpu.fmulD(3, 1, 2, RNE);
    expect(fpu.f64[3]).toBe(MIN_D);
    expect(fpu.fflags).toBe(UF | NX);
    // 2^-1023 * (1 - 2^-53) + 2^-1023 = MIN_D - 2^-1076: below MIN_D, but rounding to 53 bits
    // with an unbounded exponent gives MIN_D (tie to even), so it is not tiny: no UF.
    fpu.f64[1] = 1 - 2 ** -53;
    fpu.f64[2] = 2 ** -1023;
    for (const [rm, want, flags] of [
      [RNE, MIN_D, NX],
      [RMM, MIN_D, NX],
      [RUP, MIN_D, NX],
      [RTZ, MIN_D - 2 ** -1074, UF | NX],
      [RDN, MIN_D - 2 ** -1074, UF | NX],
    ]) {
      fpu.fflags = 0;
      fpu.fmaddD(3, 1, 2, 2, rm!);
      expect(fpu.f64[3], `rm ${rm}`).toBe(want);
      expect(fpu.fflags, `rm ${rm}`).toBe(flags);
    }
    // An exact subnormal result raises nothing.
    fpu.fflags = 0;
    fpu.f64[1] = MIN_D;
    fpu.f64[2] = 0.5;
    fpu.fmulD(3, 1, 2, RNE);
    expect(fpu.f64[3]).toBe(MIN_D / 2);
    expect(fpu.fflags).toBe(0);
  });

  it("an exact zero sum is +0, or -0 in RDN; x - x likewise", () => {
    for (const rm of [RNE, RTZ, RDN, RUP, RMM]) {
      fpu.f64[1] = 1.5;
      fpu.fsubD(3, 1, 1, rm);
      expect(Object.is(fpu.f64[3], rm === RDN ? -0 : 0)).toBe(true);
      fpu.f64[1] = -0;
      fpu.f64[2] = -0;
      fpu.faddD(3, 1, 2, rm);
      expect(Object.is(fpu.f64[3], -0)).toBe(true);
      setS(4, 2);
      setS(5, -2);
      fpu.faddS(6, 4, 5, rm);
      expect(sBits(6)).toBe(rm === RDN ? "80000000" : "00000000");
    }
    expect(fpu.fflags).toBe(0);
  });
});

describe("fused multiply-add (F: FMADD/FMSUB/FNMSUB/FNMADD, rounded once)", () => {
  it("inf * 0 + c is invalid even when c is a quiet NaN", () => {
    fpu.f64[1] = Number.POSITIVE_INFINITY;
    fpu.f64[2] = 0;
    setDBits(3, QNAN_D);
    fpu.fmaddD(4, 1, 2, 3, RNE);
    expect(dBits(4)).toBe(QNAN_D);
    expect(fpu.fflags).toBe(NV);
    fpu.fflags = 0;
    fpu.fmaddD(4, 2, 1, 2, RNE);
    expect(fpu.fflags).toBe(NV);
    fpu.fflags = 0;
    fpu.writeSingleBits(5, 0xff800000);
    setS(6, -0);
    fpu.writeSingleBits(7, 0x7fc00000);
    fpu.fnmaddS(8, 6, 5, 7, RNE);
    expect(sBits(8)).toBe(QNAN_S);
    expect(fpu.fflags).toBe(NV);
  });

  it("inf - inf in the addition is invalid; a finite product never meets c's NaN rule", () => {
    fpu.f64[1] = Number.POSITIVE_INFINITY;
    fpu.f64[2] = 1;
    fpu.f64[3] = Number.NEGATIVE_INFINITY;
    fpu.fmaddD(4, 1, 2, 3, RNE);
    expect(fpu.fflags).toBe(NV);
    fpu.fflags = 0;
    fpu.fmsubD(4, 1, 2, 3, RNE); // inf - (-inf)
    expect(fpu.f64[4]).toBe(Number.POSITIVE_INFINITY);
    // MAX * 2 overflows in JavaScript, but the exact product is finite: the result is c.
    fpu.f64[1] = MAX_D;
    fpu.f64[2] = 2;
    fpu.fmaddD(4, 1, 2, 3, RNE);
    expect(fpu.f64[4]).toBe(Number.NEGATIVE_INFINITY);
    expect(fpu.fflags).toBe(0);
  });

  it("rounds once: fma(1 + 2^-52, 1 - 2^-52, -1) = -2^-104 exactly", () => {
    fpu.f64[1] = 1 + 2 ** -52;
    fpu.f64[2] = 1 - 2 ** -52;
    fpu.f64[3] = -1;
    fpu.fmaddD(4, 1, 2, 3, RNE);
    expect(fpu.f64[4]).toBe(-(2 ** -104));
    expect(fpu.fflags).toBe(0);
    setS(1, 1 + 2 ** -23);
    setS(2, 1 - 2 ** -23);
    setS(3, -1);
    fpu.fmaddS(4, 1, 2, 3, RNE);
    expect(getS(4)).toBe(-(2 ** -46));
    expect(fpu.fflags).toBe(0);
  });

  it("an exact zero result is +0 except -0 in RDN; zero addends keep the product's sign rules", () => {
    for (const rm of [RNE, RTZ, RDN, RUP, RMM]) {
      fpu.f64[1] = 3;
      fpu.f64[2] = 0.5;
      fpu.f64[3] = -1.5;
      fpu.fmaddD(4, 1, 2, 3, rm);
      expect(Object.is(fpu.f64[4], rm === RDN ? -0 : 0), `rm ${rm}`).toBe(true);
      fpu.fnmsubD(4, 1, 2, 3, rm); // -(1.5) + -1.5
      expect(fpu.f64[4]).toBe(-3);
      fpu.f64[1] = -0;
      fpu.f64[3] = -0;
      fpu.fmaddD(4, 1, 2, 3, rm); // -0 + -0
      expect(Object.is(fpu.f64[4], -0)).toBe(true);
      fpu.fmsubD(4, 1, 2, 3, rm); // -0 - (-0) = -0 + +0
      expect(Object.is(fpu.f64[4], rm === RDN ? -0 : 0)).toBe(true);
      fpu.fnmaddD(4, 1, 2, 3, rm); // +0 - (-0) = +0
      expect(Object.is(fpu.f64[4], 0)).toBe(true);
      setS(5, 2);
      setS(6, 3);
      setS(7, -6);
      fpu.fmaddS(8, 5, 6, 7, rm);
      expect(sBits(8)).toBe(rm === RDN ? "80000000" : "00000000");
    }
    expect(fpu.fflags).toBe(0);
  });

  it("tiny results: underflow to zero or to the smallest subnormal by mode", () => {
    const tiny = 2 ** -600;
    const cases: [number, number, number][] = [
      // rm, expected result, flags
      [RNE, 0, UF | NX],
      [RTZ, 0, UF | NX],
      [RDN, 0, UF | NX],
      [RUP, 2 ** -1074, UF | NX],
      [RMM, 0, UF | NX],
    ];
    for (const [rm, want, flags] of cases) {
      fpu.f64[1] = tiny;
      fpu.f64[2] = tiny;
      fpu.f64[3] = 0;
      fpu.fflags = 0;
      fpu.fmaddD(4, 1, 2, 3, rm);
      expect(fpu.f64[4]).toBe(want);
      expect(fpu.fflags).toBe(flags);
    }
    // A product far below half an ulp of c only decides the direction.
    fpu.f64[3] = 1;
    fpu.fflags = 0;
    fpu.fmaddD(4, 1, 2, 3, RUP);
    expect(fpu.f64[4]).toBe(1 + 2 ** -52);
    fpu.fnmaddD(4, 1, 2, 3, RTZ); // -(tiny) - 1
    expect(fpu.f64[4]).toBe(-1);
    fpu.fnmaddD(4, 1, 2, 3, RDN);
    expect(fpu.f64[4]).toBe(-1 - 2 ** -52);
    expect(fpu.fflags).toBe(NX);
  });
});

describe("RMM, hand-derived (ties away from zero)", () => {
  it("add, mul, fma, sqrt and division at and beside ties", () => {
    fpu.f64[1] = 1;
    fpu.f64[2] = 2 ** -53; // 1 + 2^-53 is the midpoint of 1 and 1 + 2^-52
    fpu.faddD(3, 1, 2, RMM);
    expect(fpu.f64[3]).toBe(1 + 2 ** -52);
    fpu.faddD(3, 1, 2, RNE);
    expect(fpu.f64[3]).toBe(1);
    fpu.f64[4] = -1;
    fpu.fsubD(3, 4, 2, RMM);
    expect(fpu.f64[3]).toBe(-1 - 2 ** -52);
    fpu.f64[5] = 2 ** -54; // not a tie: below the midpoint
    fpu.faddD(3, 1, 5, RMM);
    expect(fpu.f64[3]).toBe(1);
    fpu.fmaddD(3, 1, 1, 2, RMM); // 1*1 + 2^-53
    expect(fpu.f64[3]).toBe(1 + 2 ** -52);
    fpu.f64[6] = 1 + 2 ** -52;
    fpu.f64[7] = 1.5; // (1 + 2^-52) * 1.5 = 1.5 + 1.5 * 2^-52: a tie between 1.5 + 2^-52 and 1.5 + 2^-51
    fpu.fmulD(3, 6, 7, RMM);
    expect(fpu.f64[3]).toBe(1.5 + 2 ** -51);
    fpu.fmulD(3, 6, 7, RNE);
    expect(fpu.f64[3]).toBe(1.5 + 2 ** -51); // the even one happens to be the same
    fpu.f64[8] = 1 + 3 * 2 ** -52;
    fpu.fmulD(3, 8, 7, RNE); // 1.5 + 4.5 * 2^-52: a tie between 4 (even) and 5 ulps above 1.5
    expect(fpu.f64[3]).toBe(1.5 + 4 * 2 ** -52);
    fpu.fmulD(3, 8, 7, RMM);
    expect(fpu.f64[3]).toBe(1.5 + 5 * 2 ** -52);
    // A subnormal quotient can be a tie: 2^-1074 / 2 = 2^-1075, midway between 0 and 2^-1074.
    fpu.f64[9] = 2 ** -1074;
    fpu.f64[10] = 2;
    fpu.fflags = 0;
    fpu.fdivD(3, 9, 10, RMM);
    expect(fpu.f64[3]).toBe(2 ** -1074);
    expect(fpu.fflags).toBe(UF | NX);
    fpu.fdivD(3, 9, 10, RNE);
    expect(fpu.f64[3]).toBe(0);
  });

  it("binary32: add and fma ties", () => {
    setS(1, 1);
    setS(2, 2 ** -24);
    fpu.faddS(3, 1, 2, RMM);
    expect(getS(3)).toBe(1 + 2 ** -23);
    fpu.faddS(3, 1, 2, RNE);
    expect(getS(3)).toBe(1);
    setS(4, -(2 ** -24));
    setS(5, -1);
    fpu.fmaddS(3, 1, 5, 4, RMM); // -1 - 2^-24
    expect(getS(3)).toBe(-1 - 2 ** -23);
    setS(6, 2 ** -149);
    setS(7, 0.5);
    fpu.fmulS(3, 6, 7, RMM); // 2^-150: tie between 0 and the smallest subnormal
    expect(getS(3)).toBe(2 ** -149);
  });
});

describe("min/max/compare over every pair of special values (written from the spec's definitions)", () => {
  // binary64 bit patterns: zeros, subnormals, normals, infinities, quiet and signaling NaNs.
  const VALUES = [
    "0000000000000000",
    "8000000000000000",
    "0000000000000001",
    "800fffffffffffff",
    "3ff0000000000000",
    "bff0000000000000",
    "7fefffffffffffff",
    "ffefffffffffffff",
    "7ff0000000000000",
    "fff0000000000000",
    "7ff8000000000000",
    "fff8000000000123",
    "7ff0000000000001",
    "fff4000000000000",
  ];
  const value = (hex: string): number => {
    const u = new Uint32Array([Number.parseInt(hex.slice(8), 16), Number.parseInt(hex.slice(0, 8), 16)]);
    return new Float64Array(u.buffer)[0]!;
  };
  const isNaNBits = (hex: string): boolean => Number.isNaN(value(hex));
  const isSNaN = (hex: string): boolean =>
    isNaNBits(hex) && (Number.parseInt(hex.slice(0, 8), 16) & 0x80000) === 0;
  const negative = (hex: string): boolean => Number.parseInt(hex[0]!, 16) >= 8;

  it("fmin.d, fmax.d, feq.d, flt.d, fle.d", () => {
    for (const ha of VALUES) {
      for (const hb of VALUES) {
        const a = value(ha);
        const b = value(hb);
        const anyNaN = isNaNBits(ha) || isNaNBits(hb);
        const anySNaN = isSNaN(ha) || isSNaN(hb);
        setDBits(1, ha);
        setDBits(2, hb);
        const at = `${ha} ${hb}`;

        // minimumNumber / maximumNumber
        let min: string;
        let max: string;
        if (isNaNBits(ha) && isNaNBits(hb)) min = max = QNAN_D;
        else if (isNaNBits(ha)) min = max = hb;
        else if (isNaNBits(hb)) min = max = ha;
        else if (a === b) {
          min = negative(ha) ? ha : hb;
          max = negative(ha) ? hb : ha;
        } else {
          min = a < b ? ha : hb;
          max = a < b ? hb : ha;
        }
        fpu.fflags = 0;
        fpu.fminD(3, 1, 2);
        expect(dBits(3), `fmin ${at}`).toBe(min);
        expect(fpu.fflags, `fmin ${at}`).toBe(anySNaN ? NV : 0);
        fpu.fflags = 0;
        fpu.fmaxD(3, 1, 2);
        expect(dBits(3), `fmax ${at}`).toBe(max);
        expect(fpu.fflags, `fmax ${at}`).toBe(anySNaN ? NV : 0);

        const cmp: [string, (rd: number) => void, boolean, number][] = [
          ["feq", (rd) => fpu.feqD(rd, 1, 2), !anyNaN && a === b, anySNaN ? NV : 0],
          ["flt", (rd) => fpu.fltD(rd, 1, 2), !anyNaN && a < b, anyNaN ? NV : 0],
          ["fle", (rd) => fpu.fleD(rd, 1, 2), !anyNaN && a <= b, anyNaN ? NV : 0],
        ];
        for (const [name, run, want, flags] of cmp) {
          fpu.fflags = 0;
          fpu.x[10] = 7;
          fpu.x[11] = 7;
          run(5);
          expect(xHex(5), `${name} ${at}`).toBe(want ? "0000000000000001" : "0000000000000000");
          expect(fpu.fflags, `${name} ${at}`).toBe(flags);
        }
      }
    }
  });
});
