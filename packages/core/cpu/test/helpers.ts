import { assemble, type IsaProfile } from "@hvkit/isa";
import { BARE_RAM_BASE, BareMachine, type BareResult } from "../src/index.js";

/** Common epilogue: pass/fail labels reporting through HTIF, and the tohost/fromhost words. */
export const EPILOGUE = `
pass:
  li t6, 1
  la t5, tohost
  sd t6, 0(t5)
1: j 1b
fail:
  # exit code = (test number in gp) * 2 + 1 ... report gp as the failing case
  slli t6, gp, 1
  ori t6, t6, 1
  la t5, tohost
  sd t6, 0(t5)
1: j 1b
.align 3
tohost: .dword 0
fromhost: .dword 0
`;

/** Options of {@link runGuest}. */
export interface GuestOptions {
  /** Step budget (default 10 million). */
  maxSteps?: number;
  /** PMP entries of the hart (default 0). */
  pmpEntries?: 0 | 16;
  /** RAM size (default 4 MiB). */
  ramSize?: number;
  /** Called after loading and reset, before running (to set exit controls, for example). */
  setup?: (machine: BareMachine) => void;
  /** Do not run: only load (the caller drives `machine.hart.run`). */
  noRun?: boolean;
  /** The hart's ISA profile. */
  isaProfile?: IsaProfile;
}

/** A finished (or loaded) guest and accessors for what it left in memory and registers. */
export interface Guest extends BareResult {
  machine: BareMachine;
  output: string;
  /** Address of a symbol. */
  sym(name: string): number;
  /** `count` 64-bit words at symbol `name` (signed). */
  dwords(name: string, count: number): bigint[];
  /** One 64-bit word at symbol `name` plus `offset` bytes (signed). */
  dword(name: string, offset?: number): bigint;
  /** Integer register `i` (signed). */
  x(i: number): bigint;
}

/** Assemble `source` (plus the pass/fail epilogue) at 0x8000_0000 and run it on a bare machine. */
export function runGuest(source: string, options: GuestOptions = {}): Guest {
  const { bytes, symbols, entry } = assemble(source + EPILOGUE, { base: BigInt(BARE_RAM_BASE) });
  let output = "";
  const machine = new BareMachine({
    ramSize: options.ramSize ?? 4 * 1024 * 1024,
    onOutput: (b) => (output += String.fromCharCode(b)),
    pmpEntries: options.pmpEntries ?? 0,
    ...(options.isaProfile ? { isaProfile: options.isaProfile } : {}),
  });
  machine.ram.set(bytes, 0);
  machine.hart.ramChanged(BARE_RAM_BASE, bytes.length);
  machine.setTohost(Number(symbols.get("tohost")!), Number(symbols.get("fromhost")!));
  machine.hart.reset(entry);
  options.setup?.(machine);
  const r: BareResult = options.noRun
    ? { exitCode: undefined, reason: "budget", steps: 0, instret: 0 }
    : machine.run(options.maxSteps ?? 10_000_000);
  const view = new DataView(machine.ram.buffer, machine.ram.byteOffset, machine.ram.byteLength);
  const sym = (name: string): number => {
    const v = symbols.get(name);
    if (v === undefined) throw new Error(`no symbol ${name}`);
    return Number(v);
  };
  const dword = (name: string, offset = 0): bigint =>
    view.getBigInt64(sym(name) - BARE_RAM_BASE + offset, true);
  return {
    ...r,
    machine,
    get output() {
      return output;
    },
    sym,
    dword,
    dwords: (name, count) => Array.from({ length: count }, (_, i) => dword(name, 8 * i)),
    x: (i) => machine.hart.getX(i),
  };
}

/** Assemble `source` at 0x8000_0000, run it on a bare machine and return the result and console output. */
export function runProgram(
  source: string,
  maxSteps = 10_000_000,
): BareResult & { output: string; machine: BareMachine } {
  return runGuest(source, { maxSteps });
}

/** Expect-friendly summary of a run: "pass", "fail #n" or why it did not finish. */
export function outcome(r: BareResult): string {
  if (r.reason !== "exit") return r.reason;
  return r.exitCode === 0 ? "pass" : `fail #${r.exitCode}`;
}

/** Two's-complement 64-bit helpers for reference models. */
export const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
/** Unsigned view of a 64-bit value. */
export const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
/** Sign-extend the low 32 bits. */
export const sx32 = (v: bigint): bigint => BigInt.asIntN(32, v);

/** Interesting 64-bit operands: zero, ones, signs, carries across bit 31/32, extremes. */
export const EDGE64: readonly bigint[] = [
  0n,
  1n,
  -1n,
  2n,
  0x7fffffffn,
  0x80000000n,
  -0x80000000n,
  0xffffffffn,
  0x100000000n,
  0x7fffffffffffffffn,
  -0x8000000000000000n,
  0x123456789abcdef0n,
  -0x123456789abcdef1n,
  0x00000000fffffffen,
  -2n,
  3n,
];

/** Deterministic pseudo-random 64-bit values (xorshift64*), for differential checks. */
export function randomDwords(n: number, seed = 0x9e3779b97f4a7c15n): bigint[] {
  let s = seed;
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    s ^= s >> 12n;
    s ^= u64(s << 25n);
    s ^= s >> 27n;
    const v = u64(s * 0x2545f4914f6cdd1dn);
    // Mix in small magnitudes and sign-extended 32-bit values, where corner cases live.
    const kind = i % 4;
    out.push(kind === 0 ? s64(v) : kind === 1 ? sx32(v) : kind === 2 ? s64(v) >> 40n : s64(v));
  }
  return out;
}
