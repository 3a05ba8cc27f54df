/** Stable error codes of the hypervisor layer. */
export type HypervisorErrorCode =
  | "HV_UNKNOWN_STRATEGY"
  | "HV_DUPLICATE_STRATEGY"
  | "HV_INVALID_CONFIG"
  | "HV_TOO_MANY_DEVICES"
  | "HV_INVALID_COMBINATION"
  | "HV_UNSUPPORTED"
  | "HV_GUEST_FAULT";

/**
 * Host misuse or bad input: an unknown strategy, an invalid configuration or
 * combination. Guest misbehaviour is never an exception; it is a stop reason
 * and counters.
 */
export class HypervisorError extends Error {
  override readonly name = "HypervisorError";
  /** Stable, machine-readable error code. */
  readonly code: HypervisorErrorCode;

  constructor(code: HypervisorErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
