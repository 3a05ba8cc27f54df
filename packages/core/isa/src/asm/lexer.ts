/**
 * The assembler's tokenizer: source text to a flat token list in which `end`
 * tokens separate statements (a newline, a `;`, or the end of input).
 * Comments (`#`, `//`, `/* *\/`) are dropped here.
 */
import type { Diagnostics } from "./diagnostics.js";

/** A source position, 1-based. */
export interface Pos {
  readonly line: number;
  readonly col: number;
}

/** What a token is. */
export type TokenKind =
  | "ident" // a name: mnemonic, register, symbol, directive (`.text`), or `.` (the location counter)
  | "number" // an integer literal or a character literal
  | "local" // a numeric local label reference: `1b` or `1f`
  | "modifier" // a relocation-style operator: `%hi`, `%lo`, `%pcrel_hi`, `%pcrel_lo`
  | "string" // a double-quoted string
  | "punct" // an operator or punctuation: , ( ) : + - * / % << >> & | ^ ~ = @
  | "end"; // end of statement

/** One token. */
export interface Token {
  readonly kind: TokenKind;
  /** The text as written (for `modifier`, the name without `%`; for `string`, the decoded text). */
  readonly text: string;
  readonly pos: Pos;
  /** The value of a `number` token. */
  readonly value?: bigint;
  /** The bytes of a `string` token (escapes decoded, UTF-8). */
  readonly bytes?: Uint8Array;
}

const isIdentStart = (c: string): boolean => /[A-Za-z_.$]/.test(c);
const isIdentPart = (c: string): boolean => /[A-Za-z0-9_.$]/.test(c);
const isDigit = (c: string): boolean => c >= "0" && c <= "9";

const TWO_CHAR_PUNCT = new Set(["<<", ">>"]);
const ONE_CHAR_PUNCT = new Set([",", "(", ")", ":", "+", "-", "*", "/", "%", "&", "|", "^", "~", "=", "@"]);

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  n: 10,
  t: 9,
  r: 13,
  "\\": 92,
  '"': 34,
  "'": 39,
  a: 7,
  b: 8,
  f: 12,
  v: 11,
};

const utf8 = new TextEncoder();

/** Tokenize `source`, reporting malformed input to `diag` (the bad text is skipped). */
export function tokenize(source: string, diag: Diagnostics): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const pos = (at: number): Pos => ({ line, col: at - lineStart + 1 });
  const n = source.length;

  /** Read one possibly escaped character of a string or character literal at i; returns its bytes. */
  const readChar = (): number[] => {
    const c = source[i]!;
    if (c !== "\\") {
      const cp = source.codePointAt(i)!;
      const s = String.fromCodePoint(cp);
      i += s.length;
      return [...utf8.encode(s)];
    }
    const e = source[i + 1] ?? "";
    if (e === "x" || e === "X") {
      const m = /^[0-9A-Fa-f]{1,2}/.exec(source.slice(i + 2));
      if (m) {
        i += 2 + m[0].length;
        return [Number.parseInt(m[0], 16)];
      }
    }
    const oct = /^[0-7]{1,3}/.exec(source.slice(i + 1));
    if (oct) {
      i += 1 + oct[0].length;
      return [Number.parseInt(oct[0], 8) & 0xff];
    }
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      i += 2;
      return [simple];
    }
    diag.syntax(
      pos(i),
      `unknown escape sequence "\\${e}"; use \\n, \\t, \\\\, \\", \\xNN or an octal escape`,
    );
    i += 2;
    return [];
  };

  while (i < n) {
    const c = source[i]!;
    if (c === "\n") {
      out.push({ kind: "end", text: "\n", pos: pos(i) });
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r" || c === "\f" || c === "\v") {
      i++;
      continue;
    }
    if (c === "#" || (c === "/" && source[i + 1] === "/")) {
      while (i < n && source[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && source[i + 1] === "*") {
      const start = pos(i);
      i += 2;
      while (i < n && !(source[i] === "*" && source[i + 1] === "/")) {
        if (source[i] === "\n") {
          line++;
          lineStart = i + 1;
        }
        i++;
      }
      if (i >= n) diag.syntax(start, "unterminated /* comment; close it with */");
      i += 2;
      continue;
    }
    if (c === ";") {
      out.push({ kind: "end", text: ";", pos: pos(i) });
      i++;
      continue;
    }
    const start = i;
    const p = pos(i);
    if (isIdentStart(c)) {
      while (i < n && isIdentPart(source[i]!)) i++;
      out.push({ kind: "ident", text: source.slice(start, i), pos: p });
      continue;
    }
    if (isDigit(c)) {
      while (i < n && isIdentPart(source[i]!)) i++;
      const text = source.slice(start, i);
      const local = /^([0-9]+)([bf])$/.exec(text);
      const value = parseInteger(text);
      if (value !== undefined && value >= 1n << 64n)
        diag.syntax(p, `integer ${text} does not fit in 64 bits`);
      if (value !== undefined) out.push({ kind: "number", text, pos: p, value });
      else if (local) out.push({ kind: "local", text, pos: p });
      else diag.syntax(p, `malformed number "${text}"; write decimal, 0x hex, 0b binary or 0 octal`);
      continue;
    }
    if (c === "'") {
      i++;
      const bytes = i < n && source[i] !== "'" && source[i] !== "\n" ? readChar() : [];
      if (source[i] !== "'" || bytes.length === 0) {
        diag.syntax(p, "malformed character literal; write one character between single quotes, like 'a'");
        while (i < n && source[i] !== "'" && source[i] !== "\n") i++;
        if (source[i] === "'") i++;
        continue;
      }
      i++;
      let value = 0n;
      for (const b of bytes) value = (value << 8n) | BigInt(b);
      out.push({ kind: "number", text: source.slice(start, i), pos: p, value });
      continue;
    }
    if (c === '"') {
      i++;
      const bytes: number[] = [];
      while (i < n && source[i] !== '"' && source[i] !== "\n") bytes.push(...readChar());
      if (source[i] !== '"') {
        diag.syntax(p, 'unterminated string; close it with " on the same line');
        continue;
      }
      i++;
      const b = Uint8Array.from(bytes);
      out.push({ kind: "string", text: new TextDecoder().decode(b), pos: p, bytes: b });
      continue;
    }
    if (c === "%" && i + 1 < n && /[A-Za-z_]/.test(source[i + 1]!)) {
      i++;
      while (i < n && /[A-Za-z0-9_]/.test(source[i]!)) i++;
      out.push({ kind: "modifier", text: source.slice(start + 1, i), pos: p });
      continue;
    }
    const two = source.slice(i, i + 2);
    if (TWO_CHAR_PUNCT.has(two)) {
      out.push({ kind: "punct", text: two, pos: p });
      i += 2;
      continue;
    }
    if (ONE_CHAR_PUNCT.has(c)) {
      out.push({ kind: "punct", text: c, pos: p });
      i++;
      continue;
    }
    diag.syntax(p, `unexpected character "${c}"`);
    i++;
  }
  out.push({ kind: "end", text: "", pos: pos(i) });
  return out;
}

/** Parse an integer literal (decimal, 0x hex, 0b binary, 0o or leading-zero octal); undefined if malformed. */
export function parseInteger(text: string): bigint | undefined {
  const t = text.toLowerCase();
  let m: RegExpExecArray | null;
  if ((m = /^0x([0-9a-f]+)$/.exec(t))) return BigInt(`0x${m[1]}`);
  if ((m = /^0b([01]+)$/.exec(t))) return BigInt(`0b${m[1]}`);
  if ((m = /^0o?([0-7]+)$/.exec(t))) return BigInt(`0o${m[1]}`);
  if (/^[0-9]+$/.test(t)) return BigInt(t);
  return undefined;
}
