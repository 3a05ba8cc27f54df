/**
 * The reference answer for one vector row in any of the five rounding modes, from the
 * BigInt reference in reference.ts; undefined where the row has an infinite or NaN
 * operand (those cases are covered by the hardware vectors and the rule tests).
 */
import {
  add,
  BINARY32,
  BINARY64,
  decode,
  div,
  type Exact,
  type Format,
  mul,
  neg,
  roundExactValue,
  roundToInteger,
  sqrt,
} from "./reference.js";

export interface Expected {
  hex: string;
  flags: number;
}

const fmtOf = (file: string): Format => (file.startsWith("s_") ? BINARY32 : BINARY64);
const digits = (f: Format): number => (f === BINARY32 ? 8 : 16);
const toHex = (bits: bigint, f: Format): string => bits.toString(16).padStart(digits(f), "0");
const isZero = (x: Exact): boolean => x.num === 0n;

/** The exact sum x + y with IEEE 754's sign for an exact zero (section 6.3). */
function sum(x: Exact, y: Exact, rm: number): Exact {
  const s = add(x, y);
  if (s.num !== 0n) return s;
  const bothZero = isZero(x) && isZero(y);
  if (bothZero && !!x.negZero === !!y.negZero) return { num: 0n, den: 1n, negZero: !!x.negZero };
  return { num: 0n, den: 1n, negZero: rm === 2 };
}

/** Expected result and flags of row `fields` of vector file `file` under rm. */
export function expected(file: string, fields: string[], rm: number): Expected | undefined {
  const f = fmtOf(file);
  const op = file.slice(2);
  const val = (i: number, fmt = f): Exact | undefined => decode(BigInt(`0x${fields[i]}`), fmt);
  const round = (x: Exact): Expected => {
    const r = roundExactValue(x, f, rm);
    return { hex: toHex(r.bits, f), flags: r.flags };
  };
  switch (op) {
    case "add":
    case "sub": {
      const a = val(0);
      let b = val(1);
      if (!a || !b) return undefined;
      if (op === "sub") b = neg(b);
      return round(sum(a, b, rm));
    }
    case "mul": {
      const a = val(0);
      const b = val(1);
      if (!a || !b) return undefined;
      return round(mul(a, b));
    }
    case "div": {
      const a = val(0);
      const b = val(1);
      if (!a || !b || isZero(b)) return undefined;
      if (isZero(a)) return round({ num: 0n, den: 1n, negZero: !!a.negZero !== b.num < 0n });
      return round(div(a, b));
    }
    case "sqrt": {
      const a = val(0);
      if (!a || a.num < 0n) return undefined;
      if (isZero(a)) return round(a);
      return round(sqrt(a, f));
    }
    case "fmadd":
    case "fmsub":
    case "fnmsub":
    case "fnmadd": {
      let a = val(0);
      const b = val(1);
      let c = val(2);
      if (!a || !b || !c) return undefined;
      if (op === "fnmsub" || op === "fnmadd") a = neg(a);
      if (op === "fmsub" || op === "fnmadd") c = neg(c);
      return round(sum(mul(a, b), c, rm));
    }
    case "cvt_from_d": {
      const a = val(0, BINARY64);
      if (!a) return undefined;
      return round(a);
    }
    case "cvt_from_w":
    case "cvt_from_wu":
    case "cvt_from_l":
    case "cvt_from_lu": {
      let v = BigInt(`0x${fields[0]}`);
      if (op === "cvt_from_w") v = BigInt.asIntN(32, v);
      else if (op === "cvt_from_wu") v = BigInt.asUintN(32, v);
      else if (op === "cvt_from_l") v = BigInt.asIntN(64, v);
      return round({ num: v, den: 1n });
    }
    case "cvt_w":
    case "cvt_wu":
    case "cvt_l":
    case "cvt_lu": {
      const a = val(0);
      if (!a) return undefined;
      const [n, inexact] = roundToInteger(a, rm);
      const lo = op === "cvt_w" ? -(1n << 31n) : op === "cvt_l" ? -(1n << 63n) : 0n;
      const hi =
        op === "cvt_w"
          ? (1n << 31n) - 1n
          : op === "cvt_wu"
            ? (1n << 32n) - 1n
            : op === "cvt_l"
              ? (1n << 63n) - 1n
              : (1n << 64n) - 1n;
      let r: bigint;
      let flags = 0;
      if (n < lo || n > hi) {
        flags = 16;
        r = n < lo ? lo : hi;
      } else {
        r = n;
        if (inexact) flags = 1;
      }
      // 32-bit results are sign-extended into the 64-bit register, wu included.
      if (op === "cvt_w" || op === "cvt_wu") r = BigInt.asIntN(32, r);
      return { hex: BigInt.asUintN(64, r).toString(16).padStart(16, "0"), flags };
    }
    default:
      return undefined;
  }
}
