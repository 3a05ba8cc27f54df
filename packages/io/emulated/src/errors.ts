/** Stable error codes of @hvkit/io-emulated. */
export type IoEmulatedErrorCode =
  /** A device option is invalid (no usable backend). */
  | "IO_EMULATED_BAD_CONFIG"
  /** A device model was given to a second VM or slot. */
  | "IO_EMULATED_DEVICE_IN_USE"
  /** A snapshot state does not fit the device. */
  | "IO_EMULATED_BAD_STATE"
  /** A snapshot was asked for while an asynchronous backend request was in flight. */
  | "IO_EMULATED_BUSY";

/**
 * Host misuse or bad input. A guest's misbehaviour is never an exception:
 * it is a device status (ERR and an ERROR code) and counters.
 */
export class IoEmulatedError extends Error {
  override readonly name = "IoEmulatedError";
  /** Stable, machine-readable error code. */
  readonly code: IoEmulatedErrorCode;

  constructor(code: IoEmulatedErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
