/** Stable error codes of the boot benchmark. */
export type BootBenchErrorCode =
  /** A command-line option is wrong. */
  | "BOOT_BAD_OPTION"
  /** The cached kernel or initramfs is missing. */
  | "BOOT_NO_IMAGES"
  /** The OpenSBI image asked for is missing. */
  | "BOOT_NO_FIRMWARE"
  /** A boot ran but did not reach BOOT-OK and a clean power-off. */
  | "BOOT_FAILED"
  /** A boot did not finish within the time limit. */
  | "BOOT_TIMEOUT"
  /** QEMU is installed but could not be run or measured. */
  | "BOOT_QEMU_FAILED";

/** A benchmark failure: the message says what went wrong and what to do. */
export class BootBenchError extends Error {
  override readonly name = "BootBenchError";
  /** Stable, machine-readable error code. */
  readonly code: BootBenchErrorCode;

  constructor(code: BootBenchErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
