/**
 * Compression: find a 16-bit instruction whose expansion (from the table's
 * `expand`) is exactly the 32-bit instruction being assembled.
 *
 * A candidate is tried by mapping the 32-bit operands back through the
 * expansion's argument list, encoding, and checking that the halfword
 * decodes to that candidate and expands back to the same word — which also
 * rules out encodings the table marks reserved or that a more specific
 * compressed instruction claims (c.lui with rd=sp is c.addi16sp).
 */
import { decode16, expandCompressed } from "../decoder.js";
import { encodeInstruction, type Ordering } from "../encoder.js";
import type { Field } from "../fields.js";
import { INSTRUCTIONS, type Instruction, instructionByName } from "../table/index.js";

/** Compressed instructions by the id of the 32-bit instruction they expand to, in table order. */
const BY_TARGET = new Map<number, Instruction[]>();
for (const c of INSTRUCTIONS) {
  if (!c.expand) continue;
  const l = BY_TARGET.get(c.expand.target.id) ?? [];
  l.push(c);
  BY_TARGET.set(c.expand.target.id, l);
}

/**
 * Encodings that are HINTs in the RVC space (unprivileged spec, "RVC HINT
 * instructions" table): the named fields being zero makes the encoding a
 * HINT. Assemblers do not compress into them, since future extensions may
 * give them meaning.
 */
const HINT_WHEN_ZERO: Readonly<Record<string, readonly string[]>> = {
  "c.addi": ["crd", "cimm6"],
  "c.li": ["crd"],
  "c.lui": ["crd"],
  "c.mv": ["crd"],
  "c.add": ["crd"],
  "c.slli": ["crd", "cshamt"],
  "c.srli": ["cshamt"],
  "c.srai": ["cshamt"],
};

/**
 * Other spellings of the same operation that have a compressed form: `addi
 * rd, rs, 0` is `add rd, x0, rs` (c.mv), and commutative operations may
 * swap their sources (c.add, c.and, c.beqz with the zero first...).
 */
const swap = (a: number, b: number) => (v: readonly number[]) => {
  const w = [...v];
  [w[a], w[b]] = [w[b]!, w[a]!];
  return w;
};
const REWRITES: readonly {
  readonly from: string;
  readonly to: string;
  readonly map: (v: readonly number[]) => number[] | undefined;
}[] = [
  { from: "addi", to: "add", map: (v) => (v[2] === 0 && v[1] !== 0 ? [v[0]!, 0, v[1]!] : undefined) },
  { from: "add", to: "add", map: (v) => (v[2] === 0 ? [v[0]!, 0, v[1]!] : undefined) },
  ...["add", "addw", "and", "or", "xor"].map((n) => ({ from: n, to: n, map: swap(1, 2) })),
  ...["beq", "bne"].map((n) => ({ from: n, to: n, map: swap(0, 1) })),
];

function isHint(c: Instruction, values: readonly number[]): boolean {
  const names = HINT_WHEN_ZERO[c.name];
  return names !== undefined && c.fields.some((f, i) => names.includes(f.name) && values[i] === 0);
}

function tryCandidate(c: Instruction, word: number, values: readonly number[]): number | undefined {
  const { args } = c.expand!;
  const got = new Map<Field, number>();
  for (let j = 0; j < args.length; j++) {
    const a = args[j]!;
    const v = values[j]!;
    if (typeof a === "number") {
      if (a !== v) return undefined;
    } else if (got.has(a) && got.get(a) !== v) {
      return undefined;
    } else {
      got.set(a, v);
    }
  }
  const cValues = c.fields.map((f) => got.get(f));
  if (cValues.some((v) => v === undefined)) return undefined;
  let half: number;
  try {
    half = encodeInstruction(c, cValues as number[]);
  } catch {
    return undefined;
  }
  if (decode16(half) !== c.id || expandCompressed(half) >>> 0 !== word >>> 0) return undefined;
  return isHint(c, cValues as number[]) ? undefined : half;
}

/**
 * The 16-bit encoding of `insn` with `values`, or undefined when it has
 * none. Candidates are tried in table order, so `addi sp, sp, 16` becomes
 * c.addi like llvm-mc does, and c.addi16sp only when c.addi cannot reach.
 */
export function compress(
  insn: Instruction,
  values: readonly number[],
  ordering: Ordering,
): number | undefined {
  if (insn.length !== 4 || ordering.aq || ordering.rl) return undefined;
  const spellings: [Instruction, readonly number[]][] = [[insn, values]];
  for (const r of REWRITES) {
    if (r.from !== insn.name) continue;
    const v = r.map(values);
    if (v) spellings.push([instructionByName(r.to)!, v]);
  }
  for (const [i, v] of spellings) {
    const candidates = BY_TARGET.get(i.id);
    if (!candidates) continue;
    let word: number;
    try {
      word = encodeInstruction(i, v);
    } catch {
      continue;
    }
    for (const c of candidates) {
      const half = tryCandidate(c, word, v);
      if (half !== undefined) return half;
    }
  }
  return undefined;
}

/** Whether any compressed instruction expands to `insn` (directly or through a rewrite). */
export function mayCompress(insn: Instruction): boolean {
  return BY_TARGET.has(insn.id) || REWRITES.some((r) => r.from === insn.name);
}
