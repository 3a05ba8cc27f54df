import { FIELDS16, FIELDS32, type Field } from "../fields.js";
import { ALIASES } from "./aliases.js";
import { HYPERVISOR, PRIV } from "./priv.js";
import { RV64A } from "./rv64a.js";
import { RV64I, RV64M, ZICSR, ZIFENCEI } from "./rv64i.js";
import { RV64C } from "./rvc.js";
import { RV64D, RV64F } from "./rvfd.js";
import { type AliasDef, type Def16, type Def32, type Extension, parsePattern } from "./spec.js";

export type { AliasDef, Def16, Def32, Extension } from "./spec.js";

/** One piece of an operand syntax: a field, or literal text such as `,`, `(` or `sp`. */
export type SyntaxToken = { readonly field: Field } | { readonly text: string };

/** An instruction of the table, with everything derived from its definition. */
export interface Instruction {
  /** Dense index into {@link INSTRUCTIONS}; what the decoder returns. */
  readonly id: number;
  /** Mnemonic. */
  readonly name: string;
  /** The extension or group that defines it. */
  readonly ext: Extension;
  /** Encoding length in bytes: 2 (compressed) or 4. */
  readonly length: 2 | 4;
  /** Fixed bits. */
  readonly match: number;
  /** Which bits are fixed. */
  readonly mask: number;
  /** Operand syntax, tokenised. */
  readonly syntax: readonly SyntaxToken[];
  /** The operand fields, in syntax order. */
  readonly fields: readonly Field[];
  /** Whether aq/rl bits are printed and parsed as a mnemonic suffix. */
  readonly aqrl: boolean;
  /** For compressed instructions: the 32-bit instruction it expands to and the argument mapping. */
  readonly expand?: { readonly target: Instruction; readonly args: readonly (Field | number)[] };
  /** Fields that must be non-zero (otherwise the encoding is reserved). */
  readonly nonzero: readonly Field[];
}

/** A printable/parsable alias resolved against its base instruction. */
export interface Alias {
  /** Alias mnemonic. */
  readonly name: string;
  /** Base instruction. */
  readonly of: Instruction;
  /** Constant field constraints. */
  readonly constants: readonly (readonly [Field, number])[];
  /** Equality constraints: the first field must equal the second. */
  readonly equal: readonly (readonly [Field, Field])[];
  /** Operand syntax of the alias. */
  readonly syntax: readonly SyntaxToken[];
  /** Whether the disassembler prints it. */
  readonly print: boolean;
  /** Printed only for expanded compressed instructions. */
  readonly compressedOnly: boolean;
}

const GROUPS32: readonly [Extension, readonly Def32[]][] = [
  ["I", RV64I],
  ["M", RV64M],
  ["A", RV64A],
  ["F", RV64F],
  ["D", RV64D],
  ["Zicsr", ZICSR],
  ["Zifencei", ZIFENCEI],
  ["Priv", PRIV],
  ["H", HYPERVISOR],
];

function tokenize(syntax: string, fields: Readonly<Record<string, Field>>, where: string): SyntaxToken[] {
  const out: SyntaxToken[] = [];
  for (const m of syntax.matchAll(/[A-Za-z_][A-Za-z0-9_]*|[^A-Za-z_\s]/g)) {
    const t = m[0];
    const f = fields[t];
    if (f) out.push({ field: f });
    else if (/^[a-z]+$/.test(t) || /^[,()]$/.test(t)) out.push({ text: t });
    else throw new Error(`${where}: unknown operand "${t}"`);
  }
  return out;
}

const fieldsOf = (tokens: readonly SyntaxToken[]): Field[] =>
  tokens.flatMap((t) => ("field" in t ? [t.field] : []));

function build(): { instructions: Instruction[]; aliases: Alias[] } {
  const instructions: Instruction[] = [];
  const byName = new Map<string, Instruction>();
  for (const [ext, defs] of GROUPS32) {
    for (const d of defs) {
      const { match, mask } = parsePattern(d.bits, 32);
      const syntax = tokenize(d.syntax, FIELDS32, d.name);
      const fields = fieldsOf(syntax);
      if (byName.has(d.name)) throw new Error(`duplicate instruction ${d.name}`);
      const insn: Instruction = {
        id: instructions.length,
        name: d.name,
        ext,
        length: 4,
        match,
        mask,
        syntax,
        fields,
        aqrl: d.aqrl ?? false,
        nonzero: [],
      };
      instructions.push(insn);
      byName.set(d.name, insn);
    }
  }
  for (const d of RV64C as readonly Def16[]) {
    const { match, mask } = parsePattern(d.bits, 16);
    const syntax = tokenize(d.syntax, FIELDS16, d.name);
    const [targetName, ...rawArgs] = d.expand;
    const target = byName.get(targetName);
    if (!target) throw new Error(`${d.name}: unknown expansion target ${targetName}`);
    if (rawArgs.length !== target.fields.length) throw new Error(`${d.name}: wrong expansion arity`);
    const args = rawArgs.map((a) => {
      if (typeof a === "number") return a;
      const f = FIELDS16[a];
      if (!f) throw new Error(`${d.name}: unknown field ${a}`);
      return f;
    });
    const insn: Instruction = {
      id: instructions.length,
      name: d.name,
      ext: "C",
      length: 2,
      match,
      mask,
      syntax,
      fields: fieldsOf(syntax),
      aqrl: false,
      expand: { target, args },
      nonzero: (d.nonzero ?? []).map((n) => FIELDS16[n]!),
    };
    instructions.push(insn);
    byName.set(d.name, insn);
  }

  const aliases = (ALIASES as readonly AliasDef[]).map((a): Alias => {
    const of = byName.get(a.of);
    if (!of) throw new Error(`alias ${a.name}: unknown base ${a.of}`);
    const constants: [Field, number][] = [];
    const equal: [Field, Field][] = [];
    for (const [k, v] of Object.entries(a.when)) {
      const f = FIELDS32[k];
      if (!f) throw new Error(`alias ${a.name}: unknown field ${k}`);
      if (typeof v === "number") constants.push([f, v]);
      else equal.push([f, FIELDS32[v.slice(1)]!]);
    }
    return {
      name: a.name,
      of,
      constants,
      equal,
      syntax: tokenize(a.syntax, FIELDS32, a.name),
      print: a.print ?? true,
      compressedOnly: a.compressedOnly ?? false,
    };
  });
  return { instructions, aliases };
}

const built = build();

/** Every instruction of RV64GC plus the privileged and H-extension instructions, indexed by id. */
export const INSTRUCTIONS: readonly Instruction[] = built.instructions;

/** Single-instruction pseudo-instructions, in disassembler priority order. */
export const ALIAS_TABLE: readonly Alias[] = built.aliases;

const BY_NAME = new Map(INSTRUCTIONS.map((i) => [i.name, i]));

/** Look up an instruction by mnemonic (without aq/rl suffix). */
export function instructionByName(name: string): Instruction | undefined {
  return BY_NAME.get(name);
}

/** Instruction ids by mnemonic, for code that dispatches on the decoder's result. */
export const Op: Readonly<Record<string, number>> = Object.fromEntries(
  INSTRUCTIONS.map((i) => [i.name, i.id]),
);
