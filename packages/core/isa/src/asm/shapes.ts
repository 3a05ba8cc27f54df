/**
 * Operand shapes, derived from the table's syntax strings: a syntax such as
 * `xd,imm12(xs1)` is split at its commas into one shape per written operand
 * (`reg`, `value`, `mem` or a fixed register like `sp`), and a written
 * operand is matched against a shape by its form alone.
 */
import type { Field } from "../fields.js";
import { fregNumber, xregNumber } from "../registers.js";
import type { SyntaxToken } from "../table/index.js";
import type { Token } from "./lexer.js";

/** One operand position of an instruction or alias syntax. */
export type Shape =
  | { readonly kind: "reg"; readonly field: Field }
  | { readonly kind: "value"; readonly field: Field }
  | { readonly kind: "mem"; readonly offset: Field | undefined; readonly base: Field | number }
  | { readonly kind: "fixed"; readonly reg: number; readonly name: string };

/** Split a tokenised syntax into operand shapes. Throws on a syntax the assembler cannot parse (a table bug). */
export function shapesOf(syntax: readonly SyntaxToken[], where: string): Shape[] {
  const groups: SyntaxToken[][] = [[]];
  for (const t of syntax) {
    if ("text" in t && t.text === ",") groups.push([]);
    else groups[groups.length - 1]!.push(t);
  }
  if (groups.length === 1 && groups[0]!.length === 0) return [];
  return groups.map((g): Shape => {
    const text = g.map((t) => ("text" in t ? t.text : "#"));
    const fieldAt = (i: number): Field | undefined => {
      const t = g[i];
      return t && "field" in t ? t.field : undefined;
    };
    const fixedAt = (i: number): number | undefined => {
      const t = g[i];
      return t && "text" in t ? xregNumber(t.text) : undefined;
    };
    if (g.length === 1) {
      const f = fieldAt(0);
      if (f)
        return f.kind === "xreg" || f.kind === "freg"
          ? { kind: "reg", field: f }
          : { kind: "value", field: f };
      const r = fixedAt(0);
      if (r !== undefined && r >= 0) return { kind: "fixed", reg: r, name: text[0]! };
    }
    // `off(base)` or `(base)`, where base is a register field or a fixed register such as sp.
    const open = text.indexOf("(");
    if (open >= 0 && open <= 1 && text.length === open + 3 && text[open + 2] === ")") {
      const offset = open === 1 ? fieldAt(0) : undefined;
      const base = fieldAt(open + 1) ?? fixedAt(open + 1);
      if ((open === 0 || offset) && base !== undefined && base !== -1) return { kind: "mem", offset, base };
    }
    throw new Error(`${where}: the assembler cannot parse the operand syntax "${text.join("")}"`);
  });
}

/** A register of either file by name (case-insensitive), with its class. */
export function registerOf(name: string): { kind: "xreg" | "freg"; num: number } | undefined {
  const n = name.toLowerCase();
  const x = xregNumber(n);
  if (x >= 0) return { kind: "xreg", num: x };
  const f = fregNumber(n);
  if (f >= 0) return { kind: "freg", num: f };
  return undefined;
}

/** The single identifier an operand consists of, if that is all it is. */
export const soleIdent = (op: readonly Token[]): Token | undefined =>
  op.length === 1 && op[0]!.kind === "ident" ? op[0] : undefined;

/** A written operand split as `offset(base)`: the offset tokens (maybe none) and the base register token. */
export function splitMemory(op: readonly Token[]): { offset: Token[]; base: Token } | undefined {
  const n = op.length;
  if (n < 3) return undefined;
  const close = op[n - 1]!;
  const base = op[n - 2]!;
  const open = op[n - 3]!;
  if (close.kind !== "punct" || close.text !== ")" || open.kind !== "punct" || open.text !== "(")
    return undefined;
  if (base.kind !== "ident" || registerOf(base.text)?.kind !== "xreg") return undefined;
  return { offset: op.slice(0, n - 3), base };
}

/** Whether the written operand has the form the shape wants (registers are checked by class). */
export function fitsShape(shape: Shape, op: readonly Token[]): boolean {
  const ident = soleIdent(op);
  switch (shape.kind) {
    case "reg":
      return ident !== undefined && registerOf(ident.text)?.kind === shape.field.kind;
    case "fixed":
      return ident !== undefined && registerOf(ident.text)?.num === shape.reg;
    case "value":
      return !(ident && registerOf(ident.text));
    case "mem":
      return splitMemory(op) !== undefined;
  }
}

/** Display names of fields in usage messages, in the spec's terms. */
const DISPLAY: Readonly<Record<string, string>> = {
  xd: "rd",
  xs1: "rs1",
  xs2: "rs2",
  crd: "rd",
  crs1: "rs1",
  crs2: "rs2",
  crdp: "rd'",
  crs1p: "rs1'",
  crs2p: "rs2'",
  cfd: "fd",
  cfs2: "fs2",
  cfdp: "fd'",
  cfs2p: "fs2'",
  imm12: "imm",
  simm12: "offset",
  cimm6: "imm",
  clui: "imm",
  caddi16sp: "imm",
  caddi4spn: "uimm",
  clw: "offset",
  cld: "offset",
  clwsp: "offset",
  cldsp: "offset",
  cswsp: "offset",
  csdsp: "offset",
  boff: "target",
  joff: "target",
  cboff: "target",
  cjoff: "target",
  uimm20: "imm20",
  shamt6: "shamt",
  shamt5: "shamt",
  cshamt: "shamt",
};

/** The display name of a field. */
export const displayName = (f: Field): string => DISPLAY[f.name] ?? f.name;

/** Render shapes as a usage string, e.g. `rd, offset(rs1)`. */
export function usage(shapes: readonly Shape[]): string {
  const name = (b: Field | number): string =>
    typeof b === "number" ? (b === 2 ? "sp" : `x${b}`) : displayName(b);
  const render = (s: Shape): string => {
    if (s.kind === "reg") return displayName(s.field);
    if (s.kind === "value") return s.field.kind === "rm" ? "[rm]" : displayName(s.field);
    if (s.kind === "fixed") return s.name;
    return `${s.offset ? displayName(s.offset) : ""}(${name(s.base)})`;
  };
  return shapes.map(render).join(", ");
}
