/** Stable error codes of the guests package. */
export type GuestsErrorCode =
  | "GUESTS_BAD_PATH"
  | "GUESTS_DUPLICATE_PATH"
  | "GUESTS_TOO_LARGE"
  | "GUESTS_BAD_CPIO"
  | "GUESTS_BAD_OPTION"
  | "GUESTS_FETCH_FAILED"
  | "GUESTS_TOOL_MISSING"
  | "GUESTS_BUILD_FAILED"
  | "GUESTS_MISSING_IMAGE";

/** An error from the guests package; the message says what to do about it. */
export class GuestsError extends Error {
  override readonly name = "GuestsError";
  /** Stable, machine-readable error code. */
  readonly code: GuestsErrorCode;

  constructor(code: GuestsErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
