/** Helpers to check snapshot states handed to `setState` (host input: typed errors, never a crash later). */
import { MachineError } from "../errors.js";

function bad(device: string, what: string): MachineError {
  return new MachineError(
    "MACHINE_BAD_STATE",
    `${device}: invalid snapshot state (${what}); pass an object returned by this device's getState()`,
  );
}

/** The state as a record, or a typed error. */
export function record(device: string, s: unknown): Record<string, unknown> {
  if (typeof s !== "object" || s === null || Array.isArray(s)) throw bad(device, "not an object");
  return s as Record<string, unknown>;
}

/** A whole number in [min, max]. */
export function int(
  device: string,
  s: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
): number {
  const v = s[key];
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw bad(device, `${key} must be a whole number in ${min}..${max}`);
  }
  return v;
}

/** A boolean. */
export function bool(device: string, s: Record<string, unknown>, key: string): boolean {
  const v = s[key];
  if (typeof v !== "boolean") throw bad(device, `${key} must be a boolean`);
  return v;
}

/** An array of `length` whole numbers in [min, max] (any length when `length` is -1). */
export function ints(
  device: string,
  s: Record<string, unknown>,
  key: string,
  length: number,
  min: number,
  max: number,
): number[] {
  const v = s[key];
  if (!Array.isArray(v) || (length >= 0 && v.length !== length)) {
    throw bad(device, `${key} must be an array${length >= 0 ? ` of ${length} numbers` : ""}`);
  }
  for (const x of v) {
    if (typeof x !== "number" || !Number.isInteger(x) || x < min || x > max) {
      throw bad(device, `${key} holds ${String(x)}, not a whole number in ${min}..${max}`);
    }
  }
  return v as number[];
}
