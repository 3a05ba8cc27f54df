/** Stable error codes of the CPU package. */
export type CpuErrorCode =
  | "CPU_IMAGE_OUTSIDE_RAM"
  | "CPU_NO_TOHOST"
  | "CPU_BAD_OPTION"
  | "CPU_NOTHING_TO_COMPLETE";

/** An error from the CPU package (host misuse or bad input, never a guest fault). */
export class CpuError extends Error {
  override readonly name = "CpuError";
  /** Stable, machine-readable error code. */
  readonly code: CpuErrorCode;

  constructor(code: CpuErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
