/** Stable error codes of the virtio package. */
export type VirtioErrorCode =
  /** A device or transport option is invalid (size, MAC, queue size, serial). */
  | "VIRTIO_BAD_CONFIG"
  /** A device model was given to a second transport (one device, one slot). */
  | "VIRTIO_DEVICE_IN_USE"
  /** A snapshot state does not fit the device it is given to. */
  | "VIRTIO_BAD_STATE"
  /** A snapshot was asked for while asynchronous backend requests were in flight. */
  | "VIRTIO_BUSY";

/**
 * Host misuse or bad input. A guest's misbehaviour is never an exception:
 * it is a device error (DEVICE_NEEDS_RESET), a request status and counters.
 */
export class VirtioError extends Error {
  override readonly name = "VirtioError";
  /** Stable, machine-readable error code. */
  readonly code: VirtioErrorCode;

  constructor(code: VirtioErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
