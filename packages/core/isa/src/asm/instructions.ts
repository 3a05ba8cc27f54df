/**
 * Instruction statements: find what a mnemonic and its written operands
 * mean, using only the table — every instruction (with an optional
 * `.aq`/`.rl`/`.aqrl` suffix on atomics), every alias (matched against the
 * alias's own syntax, its constant and equal fields filled in), then the
 * multi-instruction pseudos of `pseudo.ts`.
 */
import { csrNumber } from "../csr.js";
import type { Ordering } from "../encoder.js";
import type { Field } from "../fields.js";
import { ROUNDING_MODES } from "../registers.js";
import { ALIAS_TABLE, INSTRUCTIONS, type Instruction } from "../table/index.js";
import { suggestion } from "./diagnostics.js";
import type { Expr } from "./expr.js";
import type { Pos } from "./lexer.js";
import {
  checkNonzero,
  type Form,
  fieldValue,
  type Operand,
  operandText,
  type ParseContext,
  parseRegister,
  parseValue,
  type Role,
} from "./operands.js";
import { hasSymbolForm, PSEUDOS, symbolAccess, symbolFormUsage } from "./pseudo.js";
import { fitsShape, registerOf, type Shape, shapesOf, soleIdent, splitMemory, usage } from "./shapes.js";

/** One way to read a mnemonic: an instruction or an alias of one. */
interface Candidate {
  readonly insn: Instruction;
  readonly shapes: readonly Shape[];
  readonly constants: readonly (readonly [Field, number])[];
  readonly equal: readonly (readonly [Field, Field])[];
}

const CANDIDATES = new Map<string, Candidate[]>();
function addCandidate(name: string, c: Candidate): void {
  const l = CANDIDATES.get(name) ?? [];
  l.push(c);
  CANDIDATES.set(name, l);
}
for (const insn of INSTRUCTIONS) {
  addCandidate(insn.name, { insn, shapes: shapesOf(insn.syntax, insn.name), constants: [], equal: [] });
}
for (const a of ALIAS_TABLE) {
  addCandidate(a.name, {
    insn: a.of,
    shapes: shapesOf(a.syntax, `alias ${a.name}`),
    constants: a.constants,
    equal: a.equal,
  });
}

/** Every mnemonic the assembler accepts (without aq/rl suffixes), for suggestions. */
export const MNEMONICS: readonly string[] = [...CANDIDATES.keys(), ...PSEUDOS.keys()];

/** Whether `n` written operands suit the shapes (a trailing rounding mode may be left out). */
function countFits(shapes: readonly Shape[], n: number): boolean {
  if (n === shapes.length) return true;
  const last = shapes[shapes.length - 1];
  return n === shapes.length - 1 && last?.kind === "value" && last.field.kind === "rm";
}

/** How a field's value is obtained when the statement is generated. */
type Source =
  | { readonly constant: number }
  | { readonly expr: Expr; readonly pos: Pos; readonly role: Role; readonly csr: boolean };

const DYNAMIC_RM = 7;
const FENCE_BITS: Readonly<Record<string, number>> = { i: 8, o: 4, r: 2, w: 1 };

/** Parse a fence set such as `rw` or `iorw`; undefined when the text is not one. */
function fenceSet(text: string): number | undefined {
  let v = 0;
  for (const c of text.toLowerCase()) {
    const b = FENCE_BITS[c];
    if (b === undefined || v & b) return undefined;
    v |= b;
  }
  return text === "" ? undefined : v;
}

/** A `value` operand: names for CSRs, rounding modes and fence sets, else an expression. */
function valueSource(field: Field, op: Operand, pc: ParseContext): Source | undefined {
  const ident = soleIdent(op.tokens);
  if (ident) {
    const name = ident.text.toLowerCase();
    if (field.kind === "csr" && csrNumber(name) >= 0) return { constant: csrNumber(name) };
    if (field.kind === "rm" && name !== "" && ROUNDING_MODES.includes(name)) {
      return { constant: ROUNDING_MODES.indexOf(name) };
    }
    if (field.kind === "fence") {
      const set = fenceSet(name);
      if (set !== undefined) return { constant: set };
    }
    if (field.kind === "rm") {
      pc.diag.syntax(
        op.pos,
        `unknown rounding mode "${ident.text}"; use one of ${ROUNDING_MODES.filter((m) => m).join(", ")}`,
      );
      return undefined;
    }
  }
  const expr = parseValue(op, pc);
  return expr && { expr, pos: op.pos, role: "value", csr: field.kind === "csr" };
}

/** Build the form of a candidate whose shapes the operands fit. Reports problems and returns undefined on error. */
function buildCandidate(
  c: Candidate,
  mnemonic: string,
  ops: readonly Operand[],
  pos: Pos,
  ordering: Ordering,
  pc: ParseContext,
): Form | undefined {
  const sources = new Map<Field, Source>();
  const mustBeZero: { expr: Expr; pos: Pos }[] = [];
  let ok = true;
  c.shapes.forEach((shape, k) => {
    const op = ops[k];
    if (!op) {
      // Only a trailing rounding mode may be missing (countFits): it defaults to dynamic.
      if (shape.kind === "value") sources.set(shape.field, { constant: DYNAMIC_RM });
      return;
    }
    switch (shape.kind) {
      case "reg": {
        const r = parseRegister(op, shape.field, mnemonic, pc);
        if (r === undefined) ok = false;
        else sources.set(shape.field, { constant: r });
        return;
      }
      case "fixed":
        if (!fitsShape(shape, op.tokens)) {
          pc.diag.syntax(op.pos, `${mnemonic} takes ${shape.name} here, got "${operandText(op)}"`);
          ok = false;
        }
        return;
      case "value": {
        const ident = soleIdent(op.tokens);
        if (ident && registerOf(ident.text)) {
          pc.diag.syntax(
            op.pos,
            `${mnemonic} takes ${usage([shape])} here, not the register ${ident.text}; usage: ${mnemonic} ${usage(c.shapes)}`,
          );
          ok = false;
          return;
        }
        const s = valueSource(shape.field, op, pc);
        if (s) sources.set(shape.field, s);
        else ok = false;
        return;
      }
      case "mem": {
        const m = splitMemory(op.tokens);
        if (!m) {
          pc.diag.syntax(
            op.pos,
            `expected a memory operand ${usage([shape])} for ${mnemonic}, got "${operandText(op)}"`,
          );
          ok = false;
          return;
        }
        const baseOp: Operand = { tokens: [m.base], pos: m.base.pos };
        if (typeof shape.base === "number") {
          if (registerOf(m.base.text)?.num !== shape.base) {
            pc.diag.syntax(m.base.pos, `${mnemonic} addresses through ${usage([shape])}, not ${m.base.text}`);
            ok = false;
          }
        } else {
          const r = parseRegister(baseOp, shape.base, mnemonic, pc);
          if (r === undefined) ok = false;
          else sources.set(shape.base, { constant: r });
        }
        const offOp: Operand = { tokens: m.offset, pos: op.pos };
        const expr = m.offset.length > 0 ? parseValue(offOp, pc) : undefined;
        if (m.offset.length > 0 && !expr) ok = false;
        if (shape.offset) {
          sources.set(
            shape.offset,
            expr ? { expr, pos: op.pos, role: "offset", csr: false } : { constant: 0 },
          );
        } else if (expr) {
          mustBeZero.push({ expr, pos: op.pos });
        }
        return;
      }
    }
  });
  for (const [f, v] of c.constants) sources.set(f, { constant: v });
  if (!ok) return undefined;
  for (const [f, g] of c.equal) {
    const s = sources.get(g);
    if (s) sources.set(f, s);
  }
  const { insn } = c;
  const missing = insn.fields.find((f) => !sources.has(f));
  if (missing) throw new Error(`${mnemonic}: the table leaves ${insn.name}'s ${missing.name} unspecified`);
  const plan = insn.fields.map((f) => [f, sources.get(f)!] as const);

  return {
    generate(ctx) {
      let known = true;
      const values = plan.map(([f, s]) => {
        if ("constant" in s) return s.constant;
        let v = ctx.value(s.expr, s.csr);
        if (v === undefined) {
          known = false;
          return 0;
        }
        if (f.kind === "target") v = BigInt.asIntN(64, v - ctx.pc);
        const n = fieldValue(ctx, insn, f, v, s.pos, s.role);
        if (n === undefined) known = false;
        return n ?? 0;
      });
      for (const z of mustBeZero) {
        const v = ctx.value(z.expr);
        if (v !== undefined && v !== 0n) {
          ctx.error(
            "ISA_OPERAND_RANGE",
            z.pos,
            `${mnemonic} takes no offset (got ${v}); write (reg) or 0(reg)`,
          );
        }
      }
      if (known && !checkNonzero(ctx, insn, values, pos)) known = false;
      return [{ insn, values: known ? values : undefined, ordering, exact: insn.length === 2 }];
    },
  };
}

/** Candidates for a mnemonic, with the aq/rl suffix of atomics split off. */
function lookup(mnemonic: string): { candidates: Candidate[]; ordering: Ordering } | undefined {
  const direct = CANDIDATES.get(mnemonic);
  if (direct) return { candidates: direct, ordering: {} };
  const m = /^(.*)\.(aqrl|aq|rl)$/.exec(mnemonic);
  if (!m) return undefined;
  const base = CANDIDATES.get(m[1]!)?.filter((c) => c.insn.aqrl);
  if (!base || base.length === 0) return undefined;
  return { candidates: base, ordering: { aq: m[2] !== "rl", rl: m[2] !== "aq" } };
}

/**
 * Resolve an instruction statement. Reports problems to the parse context
 * and returns undefined when the statement cannot be assembled.
 */
export function resolveInstruction(
  written: string,
  ops: readonly Operand[],
  pos: Pos,
  pc: ParseContext,
): Form | undefined {
  const mnemonic = written.toLowerCase();
  const pseudo = PSEUDOS.get(mnemonic);
  if (pseudo) {
    if (pseudo.counts.includes(ops.length)) return pseudo.build(ops, pos, pc);
    pc.diag.report(
      "ISA_OPERAND_COUNT",
      pos,
      `${mnemonic} takes ${pseudo.counts.join(" or ")} operand(s), got ${ops.length}; usage: ${mnemonic} ${pseudo.usage}`,
    );
    return undefined;
  }
  const found = lookup(mnemonic);
  if (!found) {
    pc.diag.report(
      "ISA_UNKNOWN_INSTRUCTION",
      pos,
      `unknown instruction "${written}"; ${suggestion(mnemonic, MNEMONICS, "see the RV64GC instruction listings for valid mnemonics")}`,
    );
    return undefined;
  }
  const { candidates, ordering } = found;
  const byCount = candidates.filter((c) => countFits(c.shapes, ops.length));
  const exact = byCount.find((c) => c.shapes.every((s, k) => !ops[k] || fitsShape(s, ops[k].tokens)));
  if (exact) return buildCandidate(exact, mnemonic, ops, pos, ordering, pc);

  // `lw rd, sym`, `flw fd, sym, rt`, `sw rs, sym, rt`.
  const base = candidates[0]!;
  if (
    base.constants.length === 0 &&
    hasSymbolForm(base.insn, base.shapes) &&
    (ops.length === 2 || ops.length === 3) &&
    !splitMemory(ops[1]!.tokens)
  ) {
    return symbolAccess(base.insn, ops, pos, pc);
  }

  if (byCount.length > 0) {
    // The operand count fits but some operand has the wrong form: let the first reading explain which.
    const form = buildCandidate(byCount[0]!, mnemonic, ops, pos, ordering, pc);
    if (!form) return undefined;
  }
  const usages = candidates.map((c) => `${mnemonic} ${usage(c.shapes)}`.trim());
  if (hasSymbolForm(base.insn, base.shapes)) usages.push(`${mnemonic} ${symbolFormUsage(base.insn)}`);
  pc.diag.report(
    "ISA_OPERAND_COUNT",
    pos,
    `wrong operands for ${mnemonic} (${ops.length} given); usage: ${[...new Set(usages)].join(" or ")}`,
  );
  return undefined;
}
