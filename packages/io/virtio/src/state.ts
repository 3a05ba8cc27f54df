/** Checks for snapshot states handed to `setState` (host input: typed errors, never a crash later). */
import { VirtioError } from "./errors.js";

function bad(who: string, what: string): VirtioError {
  return new VirtioError(
    "VIRTIO_BAD_STATE",
    `${who}: invalid snapshot state (${what}); pass an object returned by this device's getState()`,
  );
}

/** The state as a record. */
export function record(who: string, s: unknown): Record<string, unknown> {
  if (typeof s !== "object" || s === null || Array.isArray(s)) throw bad(who, "not an object");
  return s as Record<string, unknown>;
}

/** A whole number in [min, max]. */
export function int(who: string, s: Record<string, unknown>, key: string, min: number, max: number): number {
  const v = s[key];
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw bad(who, `${key} must be a whole number in ${min}..${max}`);
  }
  return v;
}

/** A boolean. */
export function bool(who: string, s: Record<string, unknown>, key: string): boolean {
  const v = s[key];
  if (typeof v !== "boolean") throw bad(who, `${key} must be a boolean`);
  return v;
}

/** A string. */
export function str(who: string, s: Record<string, unknown>, key: string): string {
  const v = s[key];
  if (typeof v !== "string") throw bad(who, `${key} must be a string`);
  return v;
}

/** An array (of `length` items unless -1). */
export function arrayOf(who: string, s: Record<string, unknown>, key: string, length: number): unknown[] {
  const v = s[key];
  if (!Array.isArray(v) || (length >= 0 && v.length !== length)) {
    throw bad(who, `${key} must be an array${length >= 0 ? ` of ${length}` : ""}`);
  }
  return v;
}

/** An array of whole numbers in [min, max] (any length). */
export function ints(
  who: string,
  s: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
): number[] {
  const v = arrayOf(who, s, key, -1);
  for (const x of v) {
    if (typeof x !== "number" || !Number.isInteger(x) || x < min || x > max) {
      throw bad(who, `${key} holds ${String(x)}, not a whole number in ${min}..${max}`);
    }
  }
  return v as number[];
}
