/**
 * Decoding, derived from the instruction table.
 *
 * 32-bit words are bucketed by major opcode and funct3 (1024 buckets); each
 * bucket lists its candidates most-specific first, so a decode is one table
 * lookup and, for most buckets, a single mask compare. Compressed halfwords
 * are bucketed by quadrant and funct3. Everything lives in typed arrays and
 * the decode functions allocate nothing.
 */
import { getField, setField } from "./fields.js";
import { INSTRUCTIONS, type Instruction } from "./table/index.js";

/** Returned by the decode functions for an illegal or reserved encoding. */
export const ILLEGAL = -1;

interface Buckets {
  start: Int32Array; // bucket -> first candidate index; start[b+1] ends it
  mask: Int32Array;
  match: Int32Array;
  id: Int32Array;
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v >>>= 1) n += v & 1;
  return n;
}

function buildBuckets(count: number, candidates: (i: Instruction) => number[], list: Instruction[]): Buckets {
  const lists: Instruction[][] = Array.from({ length: count }, () => []);
  for (const insn of list) for (const b of candidates(insn)) lists[b]!.push(insn);
  for (const l of lists) l.sort((a, b) => popcount(b.mask) - popcount(a.mask));
  const total = lists.reduce((n, l) => n + l.length, 0);
  const out: Buckets = {
    start: new Int32Array(count + 1),
    mask: new Int32Array(total),
    match: new Int32Array(total),
    id: new Int32Array(total),
  };
  let k = 0;
  lists.forEach((l, b) => {
    out.start[b] = k;
    for (const insn of l) {
      out.mask[k] = insn.mask;
      out.match[k] = insn.match;
      out.id[k] = insn.id;
      k++;
    }
  });
  out.start[count] = k;
  return out;
}

/** The bucket indices an instruction belongs to, given which of `bits` are fixed. */
function bucketsFor(insn: Instruction, key: (w: number) => number, keyMask: number): number[] {
  // Enumerate every assignment of the key bits that are don't-care in this instruction.
  const free: number[] = [];
  for (let i = 0; i < 32; i++) if ((keyMask >>> i) & 1 && !((insn.mask >>> i) & 1)) free.push(i);
  const out = new Set<number>();
  for (let n = 0; n < 1 << free.length; n++) {
    let w = insn.match;
    free.forEach((bit, j) => {
      if ((n >>> j) & 1) w |= 1 << bit;
    });
    out.add(key(w >>> 0));
  }
  return [...out];
}

const key32 = (w: number): number => ((w & 0x7f) << 3) | ((w >>> 12) & 7);
const key16 = (h: number): number => ((h >>> 13) << 2) | (h & 3);

const B32 = buildBuckets(
  1024,
  (i) => bucketsFor(i, key32, 0x707f),
  INSTRUCTIONS.filter((i) => i.length === 4),
);
const B16 = buildBuckets(
  32,
  (i) => bucketsFor(i, key16, 0xe003),
  INSTRUCTIONS.filter((i) => i.length === 2),
);

// Non-zero constraints of compressed instructions, as a mask of instruction bits per id.
const NONZERO = new Int32Array(INSTRUCTIONS.length);
for (const insn of INSTRUCTIONS) {
  // One mask per field; compressed instructions have at most one constrained field.
  for (const f of insn.nonzero)
    for (const [hi, lo] of f.segments) NONZERO[insn.id]! |= ((1 << (hi - lo + 1)) - 1) << lo;
}

/** Decode a 32-bit instruction word to its instruction id, or {@link ILLEGAL}. */
export function decode32(word: number): number {
  const b = ((word & 0x7f) << 3) | ((word >>> 12) & 7);
  const end = B32.start[b + 1]!;
  for (let k = B32.start[b]!; k < end; k++) {
    if ((word & B32.mask[k]!) === B32.match[k]) return B32.id[k]!;
  }
  return ILLEGAL;
}

/** Decode a 16-bit compressed instruction to its instruction id, or {@link ILLEGAL}. */
export function decode16(half: number): number {
  const b = ((half >>> 13) << 2) | (half & 3);
  const end = B16.start[b + 1]!;
  for (let k = B16.start[b]!; k < end; k++) {
    if ((half & B16.mask[k]!) === B16.match[k]) {
      const id = B16.id[k]!;
      const nz = NONZERO[id]!;
      return nz === 0 || (half & nz) !== 0 ? id : ILLEGAL;
    }
  }
  return ILLEGAL;
}

/** Length in bytes of the instruction whose first halfword is `half` (2 or 4; RV64GC has no longer ones). */
export const instructionLength = (half: number): 2 | 4 => ((half & 3) === 3 ? 4 : 2);

/**
 * Decode an instruction from its first 32 bits (the upper halfword is ignored
 * for compressed instructions): the instruction id, or {@link ILLEGAL}.
 */
export function decode(bits: number): number {
  return (bits & 3) === 3 ? decode32(bits) : decode16(bits & 0xffff);
}

/**
 * Expand a compressed instruction to the 32-bit instruction it stands for
 * (0 for an illegal or reserved encoding; 0 is not a valid instruction).
 */
export function expandCompressed(half: number): number {
  const id = decode16(half & 0xffff);
  if (id === ILLEGAL) return 0;
  const { target, args } = INSTRUCTIONS[id]!.expand!;
  let w = target.match;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = typeof a === "number" ? a : getField(a, half);
    w = setField(target.fields[i]!, w, v);
  }
  return w | 0;
}

let expansionTable: Int32Array | undefined;

/**
 * A table mapping every 16-bit halfword to its expansion (0 when illegal),
 * built once on first use: 256 KiB that turns the interpreter's compressed
 * decode into one indexed load.
 */
export function compressedExpansionTable(): Int32Array {
  if (!expansionTable) {
    const t = new Int32Array(65536);
    for (let h = 0; h < 65536; h++) if ((h & 3) !== 3) t[h] = expandCompressed(h);
    expansionTable = t;
  }
  return expansionTable;
}
