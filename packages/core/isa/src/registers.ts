/** ABI names of the integer registers x0..x31, as assemblers and disassemblers print them. */
// biome-ignore format: one row per eight registers
export const XREG_NAMES: readonly string[] = [
  "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2",
  "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
  "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7",
  "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
];

/** ABI names of the floating-point registers f0..f31. */
// biome-ignore format: one row per eight registers
export const FREG_NAMES: readonly string[] = [
  "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7",
  "fs0", "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5",
  "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7",
  "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
];

const XREG_BY_NAME = new Map<string, number>();
const FREG_BY_NAME = new Map<string, number>();
for (let i = 0; i < 32; i++) {
  XREG_BY_NAME.set(XREG_NAMES[i]!, i);
  XREG_BY_NAME.set(`x${i}`, i);
  FREG_BY_NAME.set(FREG_NAMES[i]!, i);
  FREG_BY_NAME.set(`f${i}`, i);
}
XREG_BY_NAME.set("fp", 8);

/** Look up an integer register by ABI or numeric name (`a0`, `x10`, `fp`); -1 if unknown. */
export function xregNumber(name: string): number {
  return XREG_BY_NAME.get(name) ?? -1;
}

/** Look up a floating-point register by ABI or numeric name (`fa0`, `f10`); -1 if unknown. */
export function fregNumber(name: string): number {
  return FREG_BY_NAME.get(name) ?? -1;
}

/** Rounding-mode names by rm field value (7 is "dyn": use frm). */
export const ROUNDING_MODES: readonly string[] = ["rne", "rtz", "rdn", "rup", "rmm", "", "", "dyn"];
