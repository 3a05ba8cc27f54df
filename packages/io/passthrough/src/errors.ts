/** Stable error codes of @hvkit/passthrough. */
export type PassthroughErrorCode =
  /** An option is invalid (backend, memory layout). */
  | "PASSTHROUGH_BAD_CONFIG"
  /** An IOMMU mapping would reach outside the VM's memory or is not whole pages. */
  | "PASSTHROUGH_BAD_MAPPING"
  /** The host device is assigned to a VM already. */
  | "PASSTHROUGH_DEVICE_IN_USE";

/**
 * Host misuse or bad input. A guest's misbehaviour is never an exception:
 * its DMA outside the VM is an IOMMU fault (counted, logged, the request
 * failed), its register accesses are the device's business.
 */
export class PassthroughError extends Error {
  override readonly name = "PassthroughError";
  /** Stable, machine-readable error code. */
  readonly code: PassthroughErrorCode;

  constructor(code: PassthroughErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
