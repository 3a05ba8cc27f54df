/** Medians and spreads over repetitions. */
import type { Spread } from "./schema.js";

/** Median, min and max of a non-empty list of numbers. */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new RangeError("spread() of no values");
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, samples: s.length };
}

/** Half the range of a spread relative to its median (0 for one sample): how noisy it is. */
export function relativeHalfRange(s: Spread): number {
  return s.median === 0 ? 0 : (s.max - s.min) / 2 / Math.abs(s.median);
}
