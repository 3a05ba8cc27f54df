/**
 * Priming the interpreter's type feedback: once per process, before the
 * first real hart runs, a throwaway hart executes every instruction of the
 * ISA table once, under a few register patterns.
 *
 * Why: V8 optimizes the interpreter's one big function with the type
 * feedback it has collected so far, and a path that had not run by then
 * (an operation first met later in the guest's life: division, a high
 * product, an atomic, a trap) becomes a "soft" deoptimization. Each one
 * threw the optimized interpreter away and ran it unoptimized until V8 had
 * recompiled it (tens of milliseconds, at a fraction of the speed): Debian's
 * boot deoptimized the interpreter ~25 times, most of them in its first
 * ~200 M instructions, and V8 spent ~1.2 s of CPU recompiling it. With every
 * operation seen once first, the first optimized version covers them: 3
 * deoptimizations are left. Measured on the boot (`pnpm bench:boot-cpu`, 2
 * cores, load 1.2-1.9, three alternating pairs): the interpreter 12.23-12.78
 * s to BOOT-OK and 12.8-13.4 s of CPU on all threads with priming, against
 * 12.80-14.29 s and 14.2-15.6 s without; binary translation 6.84-6.99 s
 * against 7.22-7.70 s. Priming costs ~50 ms, once per process (~90 ms with
 * the translated phase below).
 *
 * Then the same hart runs a small program under the translated engine
 * (see TRANSLATED), for the paths of the interpreter and the dispatcher that
 * only translation takes: hot pages, profiles, hand-overs at translated
 * code, entries from it. Without it Debian's boot under binary translation
 * still deoptimized the interpreter on those paths.
 *
 * The throwaway hart has its own memory: nothing is shared with the harts
 * that follow but V8's feedback, so guests run exactly as without priming.
 */
import {
  assemble,
  encodeInstruction,
  type Field,
  fitsField,
  INSTRUCTIONS,
  type Instruction,
} from "@hvkit/isa";
import { MSTATUS, PRV_M } from "./constants.js";
import { allocateGuestMemory, EmptyBus, type HartMemory } from "./memory.js";
import { S } from "./state.js";

/** What priming needs of a hart (the Hart class passes a factory, so this module does not import it). */
export interface PrimedHart {
  priv: number;
  readonly x: Int32Array;
  readonly csr: Int32Array;
  run(budget: number): number;
  setPc(pc: bigint): void;
  reset(pc: bigint): void;
  ramChanged(pa: number, length: number): void;
  setEngine(
    engine: "interpreter" | "translator",
    options?: { threshold?: number; profileSteps?: number },
  ): unknown;
}

const RAM_BASE = 0x8000_0000;
const RAM_BYTES = 64 * 1024;
/** Where the instructions go, and the address the base registers hold (room on both sides for offsets). */
const CODE = 0x1000;
const DATA = 0x8000;
/**
 * The translated phase's program, at TRANSLATED_AT: a store while a
 * reservation is held (the interpreter's store fast path drops it), then a
 * loop on one page calling a function on the next, whose loop gets hot and
 * translated; a branch taken every other call enters the function's other
 * path, which runs interpreted until it is profiled again and translated in
 * turn.
 */
const TRANSLATED_AT = 0xa000;
const TRANSLATED = `
  li s1, ${RAM_BASE + DATA}
  sd zero, 0(s1)
  lr.d a4, (s1)
  sd zero, 8(s1)
  sc.d a4, zero, (s1)
  li s0, 800
1:
  andi a0, s0, 1
  call f
  addi s0, s0, -1
  bnez s0, 1b
2:
  j 2b
.balign 4096
f:
  li t1, 4
3:
  addi t1, t1, -1
  add a1, a1, t1
  bnez t1, 3b
  bnez a0, 4f
  ret
4:
  xori a2, a2, 3
  slli a3, a2, 2
  ret
`;
/** Steps of the translated phase, and of each run of it. */
const TRANSLATED_STEPS = 16_000;
const TRANSLATED_RUN = 1_000;
/**
 * Register patterns, each [x_r low word, high word, fresh TLBs for each
 * instruction, x_r step per register, passes over the instructions]: a RAM
 * address (each instruction on fresh TLBs, then on warm ones, so loads and
 * stores take both their slow and fast paths), misaligned addresses, zero,
 * all ones, the most negative value, a mixed value, and registers that
 * differ (x_r = 0x100 + r, so conditional branches go both ways: Debian's
 * boot deoptimized the interpreter at its first taken bltu). The warm
 * pattern runs the instructions twice: its TLBs are warm only from its first
 * store on, and the table's first store (sb) had then never taken the
 * interpreter's store fast path (the boot deoptimized it there too).
 */
const PATTERNS: readonly (readonly [number, number, boolean, number?, number?])[] = [
  [RAM_BASE + DATA, 0, true],
  [RAM_BASE + DATA, 0, false, 0, 2],
  [RAM_BASE + DATA + 1, 0, false],
  [RAM_BASE + DATA + 2, 0, false],
  [0, 0, false],
  [-1, -1, false],
  [0, -0x8000_0000, false],
  [0x1234_5678, 0x0000_0001, false],
  [0x100, 0, false, 1],
];
/**
 * Runs of the priming hart for `encodings` instructions: one per
 * instruction, register pattern and pass, one of a store to the code's own
 * page and one of a 32-bit instruction whose upper half lies outside RAM,
 * then the translated phase's.
 */
export function primeRuns(encodings: number): number {
  const passes = PATTERNS.reduce((sum, p) => sum + (p[4] ?? 1), 0);
  return encodings * passes + 2 + TRANSLATED_STEPS / TRANSLATED_RUN;
}

let primed = false;

/** A value for field `f` that fits it: registers from x8 up (compressed forms reach x8-x15), small immediates. */
function operand(f: Field, i: number): number {
  const candidates =
    f.kind === "xreg" || f.kind === "freg"
      ? [8 + i, 9 + i, 8, 9, 10, 2, 1]
      : f.kind === "csr"
        ? [0x340] // mscratch
        : f.kind === "rm"
          ? [7, 0]
          : f.kind === "fence"
            ? [15]
            : [8, 16, 4, 32, 64, 2, 1, 0, -8, 4096];
  for (const v of candidates) if (fitsField(f, v)) return v;
  return f.offset;
}

/** Encodings of every instruction in the table (compressed ones as 16 bits), skipping any the encoder refuses. */
export function primeEncodings(): { insn: Instruction; bits: number }[] {
  const out: { insn: Instruction; bits: number }[] = [];
  for (const insn of INSTRUCTIONS) {
    try {
      out.push({ insn, bits: encodeInstruction(insn, insn.fields.map(operand)) });
    } catch {
      // Operand constraints this simple choice misses: that instruction is not primed.
    }
  }
  return out;
}

/**
 * Prime once per process (see the module's comment); `make` builds a hart on
 * the given memory. Later calls return at once.
 */
export function primeInterpreter(make: (memory: HartMemory) => PrimedHart): void {
  if (primed) return;
  primed = true;
  try {
    runPriming(make);
  } catch {
    // Priming only tunes V8; a runtime where it cannot run (no room for its memory) goes without.
  }
}

/** The priming run itself, on a hart `make` builds (tests call it directly: no instruction may make the hart throw). */
export function runPriming(make: (memory: HartMemory) => PrimedHart): void {
  const { ram, arena } = allocateGuestMemory(RAM_BYTES);
  const hart = make({ ram, ramBase: RAM_BASE, bus: new EmptyBus(), ...(arena ? { arena } : {}) });
  const code = primeEncodings();
  const view = new DataView(ram.buffer, ram.byteOffset, ram.length);
  let at = CODE;
  const placed: number[] = [];
  for (const { insn, bits } of code) {
    if (at + 4 > DATA - 256) break;
    if (insn.length === 2) view.setUint16(at, bits, true);
    else view.setUint32(at, bits >>> 0, true);
    placed.push(at);
    at += 4;
  }
  hart.ramChanged(RAM_BASE, RAM_BYTES);
  const x = hart.x;
  const pc0 = BigInt(RAM_BASE + CODE);
  for (const [lo, hi, fresh, step = 0, passes = 1] of PATTERNS) {
    hart.reset(pc0);
    for (let i = 0; i < passes * placed.length; i++) {
      const off = placed[i % placed.length]!;
      if (fresh || hart.priv !== PRV_M) hart.reset(pc0);
      // Floating point on (mstatus.FS dirty), so its instructions run rather than trap.
      hart.csr[S.MSTATUS]! |= MSTATUS.FS;
      for (let r = 1; r < 32; r++) {
        x[2 * r] = lo + r * step;
        x[2 * r + 1] = hi;
      }
      hart.setPc(BigInt(RAM_BASE + off));
      hart.run(1);
    }
  }
  // A store to the page the code runs from (the interpreter resyncs after it), then a fetch
  // that faults in the middle of an instruction: a 32-bit one at RAM's last halfword.
  const last = RAM_BASE + RAM_BYTES;
  ram.set(assemble("sd zero, 0(s0)", { base: BigInt(last - 8) }).bytes, RAM_BYTES - 8);
  view.setUint16(RAM_BYTES - 2, 0x0013, true); // the lower half of addi x0, x0, 0
  hart.ramChanged(last - 8, 8);
  for (const pc of [last - 8, last - 2]) {
    hart.reset(pc0);
    x[16] = last - 16; // s0
    x[17] = 0;
    hart.setPc(BigInt(pc));
    hart.run(1);
  }
  // The translated phase (see TRANSLATED): pages hot at once, short profiles.
  const { bytes } = assemble(TRANSLATED, { base: BigInt(RAM_BASE + TRANSLATED_AT) });
  ram.set(bytes, TRANSLATED_AT);
  hart.ramChanged(RAM_BASE, RAM_BYTES);
  hart.reset(BigInt(RAM_BASE + TRANSLATED_AT));
  hart.setEngine("translator", { threshold: 0, profileSteps: 256 });
  for (let n = 0; n < TRANSLATED_STEPS; n += TRANSLATED_RUN) hart.run(TRANSLATED_RUN);
}
