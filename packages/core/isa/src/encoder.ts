/**
 * Encoding, derived from the instruction table: fill an instruction's fixed
 * bits with operand values, checking each against its field.
 */
import { IsaError } from "./errors.js";
import { type Field, fitsField, setField } from "./fields.js";
import { type Instruction, instructionByName } from "./table/index.js";

/** Memory-ordering bits of an atomic instruction. */
export interface Ordering {
  /** Acquire (bit 26). */
  aq?: boolean;
  /** Release (bit 25). */
  rl?: boolean;
}

function describe(f: Field): string {
  const lo = f.signed ? -(2 ** (f.width - 1)) : 0;
  const hi = f.signed ? 2 ** (f.width - 1) - 1 : 2 ** f.width - 1;
  const step = f.align > 0 ? `, a multiple of ${1 << f.align}` : "";
  return `${lo + f.offset}..${hi + f.offset}${step}`;
}

/**
 * Encode `insn` with operand values in the order of its syntax (registers as
 * numbers, immediates as values, pc-relative targets as offsets). Throws an
 * {@link IsaError} when a value does not fit its field.
 */
export function encodeInstruction(
  insn: Instruction,
  values: readonly number[],
  ordering: Ordering = {},
): number {
  if (values.length !== insn.fields.length) {
    throw new IsaError(
      "ISA_OPERAND_COUNT",
      `${insn.name} takes ${insn.fields.length} operand(s) (${insn.fields.map((f) => f.name).join(", ")}), got ${values.length}`,
    );
  }
  let w = insn.match;
  for (let i = 0; i < values.length; i++) {
    const f = insn.fields[i]!;
    let v = values[i]!;
    // A U-type immediate may be written as a negative 20-bit value.
    if (f.kind === "uimm20" && v < 0 && v >= -(2 ** 19)) v += 2 ** 20;
    if (f.kind === "uimm20" && f.signed && v >= 2 ** 19) v -= 2 ** 20;
    if (!fitsField(f, v)) {
      throw new IsaError(
        "ISA_OPERAND_RANGE",
        `${insn.name}: operand ${i + 1} (${f.name}) = ${v} is out of range; it must be ${describe(f)}`,
      );
    }
    w = setField(f, w, v);
  }
  if (insn.nonzero.length > 0) {
    for (const f of insn.nonzero) {
      const i = insn.fields.indexOf(f);
      if (i >= 0 && values[i] === 0) {
        throw new IsaError(
          "ISA_OPERAND_RANGE",
          `${insn.name}: ${f.name} must not be zero (the encoding is reserved)`,
        );
      }
    }
  }
  if (ordering.aq) w |= 1 << 26;
  if (ordering.rl) w |= 1 << 25;
  return w >>> 0;
}

/** Encode by mnemonic; see {@link encodeInstruction}. */
export function encode(name: string, values: readonly number[], ordering: Ordering = {}): number {
  const insn = instructionByName(name);
  if (!insn) throw new IsaError("ISA_UNKNOWN_INSTRUCTION", `unknown instruction "${name}"`);
  return encodeInstruction(insn, values, ordering);
}
