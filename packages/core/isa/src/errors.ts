/** Stable error codes of the ISA package. */
export type IsaErrorCode =
  | "ISA_UNKNOWN_INSTRUCTION"
  | "ISA_OPERAND_COUNT"
  | "ISA_OPERAND_RANGE"
  | "ISA_ASM_SYNTAX"
  | "ISA_ASM_UNDEFINED_SYMBOL"
  | "ISA_ASM_DUPLICATE_SYMBOL"
  | "ISA_ELF_MALFORMED"
  | "ISA_ELF_UNSUPPORTED";

/** An error from the ISA package: a stable `code` plus a message that says what to do. */
export class IsaError extends Error {
  override readonly name = "IsaError";
  /** Stable, machine-readable error code. */
  readonly code: IsaErrorCode;

  constructor(code: IsaErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
