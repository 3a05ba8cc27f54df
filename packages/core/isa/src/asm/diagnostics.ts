/**
 * Assembler diagnostics: every problem is collected with its position and a
 * message of the form `file:line:col: what is wrong; what to do`, and the
 * assembler throws one {@link AsmError} carrying all of them.
 */
import { IsaError, type IsaErrorCode } from "../errors.js";
import type { Pos } from "./lexer.js";

/** One problem found in the source. */
export interface AsmDiagnostic {
  /** Stable error code. */
  readonly code: IsaErrorCode;
  /** The file name given to the assembler. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
  /** The full message, `file:line:col: ...`. */
  readonly message: string;
}

/** Thrown by the assembler: the first problem as code and message, all of them in `errors`. */
export class AsmError extends IsaError {
  /** Every problem found, in source order. */
  readonly errors: readonly AsmDiagnostic[];

  constructor(errors: readonly AsmDiagnostic[]) {
    const first = errors[0]!;
    super(first.code, first.message);
    this.errors = errors;
  }
}

/** Stop collecting after this many problems: later ones are usually consequences of earlier ones. */
const MAX_DIAGNOSTICS = 100;

/** A collector of diagnostics for one source file. */
export class Diagnostics {
  private readonly list: AsmDiagnostic[] = [];
  private readonly seen = new Set<string>();

  constructor(readonly file: string) {}

  /** Record a problem at `pos`. Duplicates (same place, same text) are dropped. */
  report(code: IsaErrorCode, pos: Pos, what: string): void {
    const message = `${this.file}:${pos.line}:${pos.col}: ${what}`;
    if (this.seen.has(message) || this.list.length >= MAX_DIAGNOSTICS) return;
    this.seen.add(message);
    this.list.push({ code, file: this.file, line: pos.line, column: pos.col, message });
  }

  /** Record a syntax error. */
  syntax(pos: Pos, what: string): void {
    this.report("ISA_ASM_SYNTAX", pos, what);
  }

  /** Number of problems so far. */
  get count(): number {
    return this.list.length;
  }

  /** Throw an {@link AsmError} if anything was reported. */
  throwIfAny(): void {
    if (this.list.length === 0) return;
    const sorted = [...this.list].sort((a, b) => a.line - b.line || a.column - b.column);
    throw new AsmError(sorted);
  }
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min(sub, prev[j]! + 1, cur[j - 1]! + 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The candidate closest to `word` by edit distance, if it is close enough to be a plausible typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** `; did you mean "x"?` when a close candidate exists, else the fallback advice. */
export function suggestion(word: string, candidates: Iterable<string>, fallback: string): string {
  const c = closest(word, candidates);
  return c === undefined ? fallback : `did you mean "${c}"?`;
}
