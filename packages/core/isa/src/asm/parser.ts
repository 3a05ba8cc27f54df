/**
 * The statement parser: tokens to labels, directives and instruction forms.
 *
 * A statement is `label: label: mnemonic op, op, ...` or `label: .directive
 * args` or `name = expr`; statements end at a newline or `;`. Everything
 * that can be decided without knowing addresses (registers, names,
 * expression syntax, which instruction a mnemonic means) is decided here.
 */
import { type Diagnostics, suggestion } from "./diagnostics.js";
import { type Expr, parseExpression } from "./expr.js";
import { resolveInstruction } from "./instructions.js";
import type { Pos, Token } from "./lexer.js";
import { type Form, type Operand, operandText, type ParseContext } from "./operands.js";

/** Section permissions, as in the ELF program header. */
export type SectionFlags = "rx" | "rw" | "r";

/** A section as declared. */
export interface SectionDecl {
  readonly name: string;
  readonly flags: SectionFlags;
  /** Zero-initialised, no contents (`.bss`). */
  readonly nobits: boolean;
}

/** A value with the position it was written at. */
export interface Located<T> {
  readonly value: T;
  readonly pos: Pos;
}

/** One statement, in source order. */
export type Statement =
  | { readonly kind: "label"; readonly name: string; readonly pos: Pos }
  | { readonly kind: "set"; readonly name: string; readonly expr: Expr; readonly pos: Pos }
  | { readonly kind: "section"; readonly name: string; readonly pos: Pos }
  | {
      readonly kind: "data";
      readonly width: 1 | 2 | 4 | 8;
      readonly values: readonly Located<Expr>[];
      readonly pos: Pos;
    }
  | { readonly kind: "bytes"; readonly bytes: Uint8Array; readonly pos: Pos }
  | { readonly kind: "space"; readonly size: Expr; readonly fill: Expr | undefined; readonly pos: Pos }
  | {
      readonly kind: "align";
      readonly amount: Expr;
      /** `.align`/`.p2align` take log2 of the alignment (RISC-V convention); `.balign` takes bytes. */
      readonly log2: boolean;
      readonly fill: Expr | undefined;
      readonly max: Expr | undefined;
      readonly pos: Pos;
    }
  | { readonly kind: "option"; readonly option: "rvc" | "norvc" | "push" | "pop"; readonly pos: Pos }
  | { readonly kind: "instruction"; readonly form: Form; readonly pos: Pos };

/** ELF symbol types settable with `.type`. */
export type SymbolType = "func" | "object" | "notype";

/** A parsed source file. */
export interface Program {
  readonly statements: readonly Statement[];
  /** Sections in order of first mention; `.text` is always first. */
  readonly sections: ReadonlyMap<string, SectionDecl>;
  /** Symbols declared `.globl`/`.global`/`.weak`. */
  readonly globals: ReadonlySet<string>;
  /** Symbol types from `.type`. */
  readonly types: ReadonlyMap<string, SymbolType>;
  /** Where each label and `.set` symbol is first defined. */
  readonly definitions: ReadonlyMap<string, Pos>;
}

/** Marks the internal names of numeric local labels; no user symbol can contain it. */
export const LOCAL_MARK = "\u0002";

/** Default flags of well-known section names (ELF gABI "Special Sections"). */
function defaultSection(name: string): SectionDecl {
  const is = (prefix: string): boolean => name === prefix || name.startsWith(`${prefix}.`);
  if (is(".text")) return { name, flags: "rx", nobits: false };
  if (is(".rodata") || is(".srodata")) return { name, flags: "r", nobits: false };
  if (is(".bss") || is(".sbss") || is(".tbss")) return { name, flags: "rw", nobits: true };
  return { name, flags: "rw", nobits: false };
}

const DATA_WIDTHS: Readonly<Record<string, 1 | 2 | 4 | 8>> = {
  ".byte": 1,
  ".half": 2,
  ".short": 2,
  ".2byte": 2,
  ".word": 4,
  ".long": 4,
  ".4byte": 4,
  ".dword": 8,
  ".quad": 8,
  ".8byte": 8,
};

/** Directives accepted and ignored: they only matter to a linker or debugger. */
const IGNORED = new Set([
  ".file",
  ".ident",
  ".size",
  ".attribute",
  ".local",
  ".hidden",
  ".protected",
  ".addrsig",
  ".addrsig_sym",
  ".loc",
  ".cfi_startproc",
  ".cfi_endproc",
  ".cfi_def_cfa_offset",
  ".cfi_offset",
  ".cfi_restore",
]);

/** `.option` arguments accepted without effect here (no relaxation, no PIC, no arch switching). */
const IGNORED_OPTIONS = new Set(["relax", "norelax", "pic", "nopic", "arch"]);

const KNOWN_DIRECTIVES = [
  ".text",
  ".data",
  ".rodata",
  ".bss",
  ".section",
  ".globl",
  ".global",
  ".weak",
  ".type",
  ".equ",
  ".set",
  ".zero",
  ".space",
  ".skip",
  ".ascii",
  ".asciz",
  ".string",
  ".align",
  ".p2align",
  ".balign",
  ".option",
  ...Object.keys(DATA_WIDTHS),
  ...IGNORED,
];

/** Split a statement's operand tokens at top-level commas. */
function splitOperands(tokens: readonly Token[], diag: Diagnostics, what: string): Operand[] | undefined {
  if (tokens.length === 0) return [];
  const out: Operand[] = [];
  let cur: Token[] = [];
  let depth = 0;
  let ok = true;
  const close = (at: Token): void => {
    if (cur.length === 0) {
      diag.syntax(at.pos, `empty operand in ${what}; remove the extra comma`);
      ok = false;
    } else {
      out.push({ tokens: cur, pos: cur[0]!.pos });
    }
    cur = [];
  };
  for (const t of tokens) {
    if (t.kind === "punct" && t.text === "(") depth++;
    if (t.kind === "punct" && t.text === ")") depth--;
    if (t.kind === "punct" && t.text === "," && depth === 0) close(t);
    else cur.push(t);
  }
  close(tokens[tokens.length - 1]!);
  return ok ? out : undefined;
}

/** Parse a token list into a program. Problems go to `diag`; bad statements are dropped. */
export function parse(tokens: readonly Token[], diag: Diagnostics): Program {
  const statements: Statement[] = [];
  const sections = new Map<string, SectionDecl>([[".text", defaultSection(".text")]]);
  const globals = new Set<string>();
  const types = new Map<string, SymbolType>();
  const definitions = new Map<string, Pos>();
  const setSymbols = new Set<string>();
  const localCount = new Map<string, number>();

  const localName = (digits: string, n: number): string => `${digits}${LOCAL_MARK}${n}`;
  const pc: ParseContext = {
    diag,
    resolveLocal(t) {
      const digits = t.text.slice(0, -1).replace(/^0+(?=.)/, "");
      const n = localCount.get(digits) ?? 0;
      return localName(digits, t.text.endsWith("b") ? n : n + 1);
    },
  };
  const expr = (op: Operand): Expr | undefined => parseExpression(op.tokens, diag, pc.resolveLocal);

  const define = (name: string, pos: Pos, isSet: boolean): boolean => {
    const prior = definitions.get(name);
    if (prior && !(isSet && setSymbols.has(name))) {
      diag.report(
        "ISA_ASM_DUPLICATE_SYMBOL",
        pos,
        `symbol "${name}" is already defined at line ${prior.line}; rename one of them (numeric labels like 1: may be reused)`,
      );
      return false;
    }
    if (!prior) definitions.set(name, pos);
    if (isSet) setSymbols.add(name);
    return true;
  };

  const useSection = (decl: SectionDecl, pos: Pos): void => {
    if (!sections.has(decl.name)) sections.set(decl.name, decl);
    statements.push({ kind: "section", name: decl.name, pos });
  };

  const symbolName = (op: Operand, what: string): string | undefined => {
    const t = op.tokens[0]!;
    if (op.tokens.length !== 1 || t.kind !== "ident") {
      diag.syntax(op.pos, `${what} needs a symbol name, got "${operandText(op)}"`);
      return undefined;
    }
    return t.text;
  };

  const argCount = (name: string, args: readonly Operand[], min: number, max: number, pos: Pos): boolean => {
    if (args.length >= min && args.length <= max) return true;
    const want = min === max ? `${min}` : `${min} to ${max}`;
    diag.syntax(pos, `${name} takes ${want} argument(s), got ${args.length}`);
    return false;
  };

  function directive(name: string, args: readonly Operand[], pos: Pos): void {
    const width = DATA_WIDTHS[name];
    if (width !== undefined) {
      const values: Located<Expr>[] = [];
      for (const a of args) {
        const e = expr(a);
        if (e) values.push({ value: e, pos: a.pos });
      }
      statements.push({ kind: "data", width, values, pos });
      return;
    }
    if (IGNORED.has(name) || name.startsWith(".cfi_")) return;
    switch (name) {
      case ".text":
      case ".data":
      case ".rodata":
      case ".bss":
        if (argCount(name, args, 0, 0, pos)) useSection(sections.get(name) ?? defaultSection(name), pos);
        return;
      case ".section": {
        if (!argCount(name, args, 1, 3, pos)) return;
        const first = args[0]!;
        const t = first.tokens[0]!;
        const secName =
          first.tokens.length === 1 && (t.kind === "ident" || t.kind === "string") ? t.text : undefined;
        if (!secName) {
          diag.syntax(first.pos, `.section needs a name such as .text.init, got "${operandText(first)}"`);
          return;
        }
        let decl = sections.get(secName) ?? defaultSection(secName);
        const flagsTok = args[1]?.tokens[0];
        if (flagsTok) {
          if (flagsTok.kind !== "string" || !/^[awx]*$/.test(flagsTok.text)) {
            diag.syntax(
              flagsTok.pos,
              `section flags must be a string of a, w, x such as "ax", got "${flagsTok.text}"`,
            );
            return;
          }
          const f = flagsTok.text;
          decl = { ...decl, flags: f.includes("x") ? "rx" : f.includes("w") ? "rw" : "r" };
        }
        const typeText = args[2] ? operandText(args[2]).replace(/^[@%]/, "") : undefined;
        if (typeText === "nobits") decl = { ...decl, nobits: true };
        else if (typeText !== undefined && typeText !== "progbits") {
          diag.syntax(
            args[2]!.pos,
            `section type must be @progbits or @nobits, got "${operandText(args[2]!)}"`,
          );
          return;
        }
        useSection(decl, pos);
        return;
      }
      case ".globl":
      case ".global":
      case ".weak":
        for (const a of args) {
          const s = symbolName(a, name);
          if (s) globals.add(s);
        }
        return;
      case ".type": {
        if (!argCount(name, args, 2, 2, pos)) return;
        const s = symbolName(args[0]!, name);
        const kind = operandText(args[1]!).replace(/^[@%]/, "").toLowerCase();
        const type = {
          function: "func",
          stt_func: "func",
          object: "object",
          stt_object: "object",
          notype: "notype",
        }[kind] as SymbolType | undefined;
        if (!type)
          diag.syntax(
            args[1]!.pos,
            `unknown symbol type "${operandText(args[1]!)}"; use @function or @object`,
          );
        else if (s) types.set(s, type);
        return;
      }
      case ".equ":
      case ".set": {
        if (!argCount(name, args, 2, 2, pos)) return;
        const s = symbolName(args[0]!, name);
        const e = expr(args[1]!);
        if (s && e && define(s, pos, true)) statements.push({ kind: "set", name: s, expr: e, pos });
        return;
      }
      case ".zero":
      case ".space":
      case ".skip": {
        if (!argCount(name, args, 1, 2, pos)) return;
        const size = expr(args[0]!);
        const fill = args[1] ? expr(args[1]) : undefined;
        if (size) statements.push({ kind: "space", size, fill, pos });
        return;
      }
      case ".ascii":
      case ".asciz":
      case ".string":
        for (const a of args) {
          const t = a.tokens[0]!;
          if (a.tokens.length !== 1 || t.kind !== "string") {
            diag.syntax(a.pos, `${name} takes double-quoted strings, got "${operandText(a)}"`);
            continue;
          }
          const b = t.bytes!;
          const bytes = name === ".ascii" ? b : Uint8Array.from([...b, 0]);
          statements.push({ kind: "bytes", bytes, pos: a.pos });
        }
        return;
      case ".align":
      case ".p2align":
      case ".balign": {
        if (!argCount(name, args, 1, 3, pos)) return;
        const amount = expr(args[0]!);
        const fill = args[1] && args[1].tokens.length > 0 ? expr(args[1]) : undefined;
        const max = args[2] ? expr(args[2]) : undefined;
        if (amount) statements.push({ kind: "align", amount, log2: name !== ".balign", fill, max, pos });
        return;
      }
      case ".option": {
        if (!argCount(name, args, 1, 2, pos)) return;
        const o = operandText(args[0]!).toLowerCase();
        if (o === "rvc" || o === "norvc" || o === "push" || o === "pop") {
          statements.push({ kind: "option", option: o, pos });
        } else if (!IGNORED_OPTIONS.has(o)) {
          diag.syntax(args[0]!.pos, `unknown .option "${o}"; use rvc, norvc, push or pop`);
        }
        return;
      }
    }
    diag.syntax(
      pos,
      `unknown directive "${name}"; ${suggestion(name, KNOWN_DIRECTIVES, "see the assembler's list of directives")}`,
    );
  }

  let start = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]!.kind !== "end") continue;
    let stmt = tokens.slice(start, i);
    start = i + 1;
    // Labels: `name:` or `1:`, any number of them.
    while (stmt.length >= 2 && stmt[1]!.kind === "punct" && stmt[1]!.text === ":") {
      const t = stmt[0]!;
      if (t.kind === "ident") {
        if (define(t.text, t.pos, false)) statements.push({ kind: "label", name: t.text, pos: t.pos });
      } else if (t.kind === "number" && /^[0-9]+$/.test(t.text)) {
        const digits = t.text.replace(/^0+(?=.)/, "");
        const n = (localCount.get(digits) ?? 0) + 1;
        localCount.set(digits, n);
        statements.push({ kind: "label", name: localName(digits, n), pos: t.pos });
      } else {
        diag.syntax(t.pos, `"${t.text}" cannot be a label; use a name or a decimal number`);
      }
      stmt = stmt.slice(2);
    }
    if (stmt.length === 0) continue;
    const head = stmt[0]!;
    if (head.kind !== "ident") {
      diag.syntax(head.pos, `expected an instruction or directive, got "${head.text}"`);
      continue;
    }
    // `name = expr`
    if (stmt[1]?.kind === "punct" && stmt[1].text === "=") {
      const e = parseExpression(stmt.slice(2), diag, pc.resolveLocal);
      if (e && define(head.text, head.pos, true)) {
        statements.push({ kind: "set", name: head.text, expr: e, pos: head.pos });
      }
      continue;
    }
    const ops = splitOperands(stmt.slice(1), diag, head.text);
    if (!ops) continue;
    if (head.text.startsWith(".")) {
      directive(head.text.toLowerCase(), ops, head.pos);
      continue;
    }
    const form = resolveInstruction(head.text, ops, head.pos, pc);
    if (form) statements.push({ kind: "instruction", form, pos: head.pos });
  }
  return { statements, sections, globals, types, definitions };
}
