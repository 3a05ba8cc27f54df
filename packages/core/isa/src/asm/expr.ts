/**
 * Assembler expressions: a small AST, a recursive-descent parser and an
 * evaluator over 64-bit two's-complement integers.
 *
 * Operator precedence follows the GNU assembler (and llvm-mc in GNU mode),
 * not C: `* / % << >>` bind tightest, then `| & ^`, then `+ -`; so
 * `1 + 2 << 3` is 17. Parenthesize when in doubt.
 */
import type { IsaErrorCode } from "../errors.js";
import type { Diagnostics } from "./diagnostics.js";
import type { Pos, Token } from "./lexer.js";

/** The operators that select part of an address (RISC-V assembly manual, "Assembler Relocation Functions"). */
export type Modifier = "hi" | "lo" | "pcrel_hi" | "pcrel_lo";
const MODIFIERS: readonly Modifier[] = ["hi", "lo", "pcrel_hi", "pcrel_lo"];

type BinaryOp = "+" | "-" | "*" | "/" | "%" | "<<" | ">>" | "&" | "|" | "^";

/** An expression tree. */
export type Expr =
  | { readonly k: "num"; readonly value: bigint; readonly pos: Pos }
  | { readonly k: "sym"; readonly name: string; readonly display: string; readonly pos: Pos }
  | { readonly k: "unary"; readonly op: "-" | "~" | "+"; readonly arg: Expr; readonly pos: Pos }
  | {
      readonly k: "binary";
      readonly op: BinaryOp;
      readonly left: Expr;
      readonly right: Expr;
      readonly pos: Pos;
    }
  | { readonly k: "mod"; readonly name: Modifier; readonly arg: Expr; readonly pos: Pos };

/** Binary operators by precedence level, loosest first (GNU as). */
const LEVELS: readonly (readonly BinaryOp[])[] = [
  ["+", "-"],
  ["|", "&", "^"],
  ["*", "/", "%", "<<", ">>"],
];

/** Turns a numeric local label reference (`1b`, `1f`) into the internal symbol name it denotes. */
export type LocalResolver = (token: Token) => string;

/**
 * Parse all of `tokens` as one expression. Reports problems to `diag` and
 * returns undefined when the tokens are not a well-formed expression.
 */
export function parseExpression(
  tokens: readonly Token[],
  diag: Diagnostics,
  resolveLocal: LocalResolver,
): Expr | undefined {
  let i = 0;
  let failed = false;
  const endPos = (): Pos => tokens[tokens.length - 1]?.pos ?? { line: 0, col: 0 };
  const fail = (pos: Pos, what: string): Expr => {
    if (!failed) diag.syntax(pos, what);
    failed = true;
    return { k: "num", value: 0n, pos };
  };
  const peekPunct = (text: string): boolean => {
    const t = tokens[i];
    return t !== undefined && t.kind === "punct" && t.text === text;
  };

  const primary = (): Expr => {
    const t = tokens[i];
    if (t === undefined) return fail(endPos(), "expected an expression; write a number, a symbol or (...)");
    i++;
    switch (t.kind) {
      case "number":
        return { k: "num", value: t.value!, pos: t.pos };
      case "ident":
        return { k: "sym", name: t.text, display: t.text, pos: t.pos };
      case "local":
        return { k: "sym", name: resolveLocal(t), display: t.text, pos: t.pos };
      case "modifier": {
        const name = t.text as Modifier;
        if (!MODIFIERS.includes(name)) {
          return fail(t.pos, `unknown operator %${t.text}; use ${MODIFIERS.map((m) => `%${m}`).join(", ")}`);
        }
        if (!peekPunct("("))
          return fail(t.pos, `%${name} needs a parenthesized argument, like %${name}(sym)`);
        i++;
        const arg = expression();
        if (!peekPunct(")")) return fail(tokens[i]?.pos ?? endPos(), `missing ")" after %${name}(...`);
        i++;
        return { k: "mod", name, arg, pos: t.pos };
      }
      case "punct":
        if (t.text === "(") {
          const e = expression();
          if (!peekPunct(")")) return fail(tokens[i]?.pos ?? t.pos, 'missing ")"; close the parenthesis');
          i++;
          return e;
        }
        if (t.text === "-" || t.text === "~" || t.text === "+") {
          return { k: "unary", op: t.text, arg: primary(), pos: t.pos };
        }
        return fail(t.pos, `unexpected "${t.text}" in expression`);
      default:
        return fail(t.pos, `unexpected ${t.kind} "${t.text}" in expression`);
    }
  };

  const level = (n: number): Expr => {
    if (n === LEVELS.length) return primary();
    let left = level(n + 1);
    for (;;) {
      const t = tokens[i];
      if (t?.kind !== "punct" || !(LEVELS[n] as readonly string[]).includes(t.text)) return left;
      i++;
      const right = level(n + 1);
      left = { k: "binary", op: t.text as BinaryOp, left, right, pos: t.pos };
    }
  };
  const expression = (): Expr => level(0);

  if (tokens.length === 0) {
    diag.syntax(endPos(), "expected an expression");
    return undefined;
  }
  const e = expression();
  if (!failed && i < tokens.length) {
    const t = tokens[i]!;
    fail(t.pos, `unexpected "${t.text}" after the expression; separate operands with commas`);
  }
  return failed ? undefined : e;
}

/** What the evaluator needs from the assembler. */
export interface EvalEnv {
  /** Address of the instruction or data being assembled (the value of `.`). */
  readonly pc: bigint;
  /** A symbol's value, or undefined when unknown (and then reported, if this is the final pass). */
  symbol(name: string, display: string, pos: Pos): bigint | undefined;
  /** The pc-relative offset `%pcrel_hi` computed at the auipc at `address`, if there is one. */
  pcrelHi(address: bigint): bigint | undefined;
  /** Called with the offset whenever `%pcrel_hi` is evaluated, so a later `%pcrel_lo` can find it. */
  notePcrelHi(offset: bigint): void;
  /** Report a problem (ignored during layout passes). */
  error(code: IsaErrorCode, pos: Pos, what: string): void;
}

const wrap = (v: bigint): bigint => BigInt.asIntN(64, v);
/** The low 12 bits, sign-extended: what `addi` adds after `lui`/`auipc` of the rounded high part. */
export const lo12 = (v: bigint): bigint => BigInt.asIntN(12, v);
/** The high 20 bits, rounded so that `(hi20 << 12) + lo12 == v` (as `lui`/`auipc` operand, 0..0xfffff). */
export const hi20 = (v: bigint): bigint => BigInt.asUintN(20, (v + 0x800n) >> 12n);

/**
 * Whether a high/low pair can reach `v`: lui and auipc sign-extend their
 * 32-bit result on RV64, so `(hi20 << 12) + lo12` covers only
 * [-2^31 - 2^11, 2^31 - 2^11).
 */
const reachable = (v: bigint): boolean => v >= -(1n << 31n) - 0x800n && v < (1n << 31n) - 0x800n;

/** Evaluate to a signed 64-bit value, or undefined when some symbol is not (yet) known. */
export function evaluate(e: Expr, env: EvalEnv): bigint | undefined {
  switch (e.k) {
    case "num":
      return wrap(e.value);
    case "sym":
      return e.name === "." ? env.pc : env.symbol(e.name, e.display, e.pos);
    case "unary": {
      const a = evaluate(e.arg, env);
      if (a === undefined) return undefined;
      return e.op === "-" ? wrap(-a) : e.op === "~" ? wrap(~a) : a;
    }
    case "binary": {
      const a = evaluate(e.left, env);
      const b = evaluate(e.right, env);
      if (a === undefined || b === undefined) return undefined;
      switch (e.op) {
        case "+":
          return wrap(a + b);
        case "-":
          return wrap(a - b);
        case "*":
          return wrap(a * b);
        case "/":
        case "%":
          if (b === 0n) {
            env.error("ISA_ASM_SYNTAX", e.pos, "division by zero in expression");
            return undefined;
          }
          return wrap(e.op === "/" ? a / b : a % b);
        case "<<":
          return b < 0n || b > 63n ? 0n : wrap(a << b);
        case ">>":
          return b < 0n ? 0n : a >> (b > 63n ? 63n : b);
        case "&":
          return a & b;
        case "|":
          return a | b;
        case "^":
          return a ^ b;
      }
      return undefined;
    }
    case "mod": {
      if (e.name === "pcrel_lo") return pcrelLo(e, env);
      const a = evaluate(e.arg, env);
      if (a === undefined) return undefined;
      if (e.name === "lo") return lo12(a);
      const v = e.name === "hi" ? a : wrap(a - env.pc);
      if (!reachable(v)) {
        const what = e.name === "hi" ? `address 0x${BigInt.asUintN(64, a).toString(16)}` : `offset ${v}`;
        const fix = e.name === "hi" ? "use la, or %pcrel_hi/%pcrel_lo" : "load the address with li";
        env.error(
          "ISA_OPERAND_RANGE",
          e.pos,
          `%${e.name}: ${what} is out of reach of a sign-extended 32-bit lui/auipc pair on RV64 (±2 GiB); ${fix}`,
        );
        return undefined;
      }
      if (e.name === "pcrel_hi") env.notePcrelHi(v);
      return hi20(v);
    }
  }
}

function pcrelLo(e: Expr & { k: "mod" }, env: EvalEnv): bigint | undefined {
  const at = evaluate(e.arg, env);
  if (at === undefined) return undefined;
  const offset = env.pcrelHi(at);
  if (offset === undefined) {
    env.error(
      "ISA_ASM_SYNTAX",
      e.pos,
      "%pcrel_lo needs the label of an auipc that uses %pcrel_hi; put a label on that auipc and name it here",
    );
    return undefined;
  }
  return lo12(offset);
}
