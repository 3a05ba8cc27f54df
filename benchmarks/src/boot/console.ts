/**
 * Watching a guest console: notes the moment the init script's marker line
 * appears and checks afterwards that the boot really succeeded.
 */
import { BootBenchError } from "./errors.js";

/** The line the initramfs init script prints once user space runs (`@hvkit/guests` DEFAULT_INIT_SCRIPT). */
export const BOOT_MARKER = "BOOT-OK";
/** The init prints `EXIT-STATUS=<n>` with its script's status before `poweroff -f`. */
const EXIT_STATUS = /EXIT-STATUS=(\d+)/g;
/** Console bytes kept for error messages. */
const TAIL_CHARS = 2000;

/** Accumulates console output and timestamps the first BOOT-OK. */
export class ConsoleWatch {
  private text = "";
  private readonly decoder = new TextDecoder();
  /** `clock()` when BOOT-OK first appeared, undefined until then. */
  markerAt: number | undefined;

  /** `clock` gives the time to record; `onMarker` runs once, when BOOT-OK appears. */
  constructor(
    private readonly clock: () => number,
    private readonly onMarker?: () => void,
  ) {}

  /** Feed console output (bytes are decoded as a UTF-8 stream; the buffer may be reused by the caller). */
  push(chunk: Uint8Array | string): void {
    const from = Math.max(0, this.text.length - BOOT_MARKER.length + 1);
    this.text += typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true });
    if (this.markerAt === undefined && this.text.indexOf(BOOT_MARKER, from) >= 0) {
      this.markerAt = this.clock();
      this.onMarker?.();
    }
  }

  /** Everything seen so far. */
  get output(): string {
    return this.text;
  }

  /** The init script's exit status from its last `EXIT-STATUS=` line, undefined when none was printed. */
  guestExitStatus(): number | undefined {
    let status: number | undefined;
    for (const m of this.text.matchAll(EXIT_STATUS)) status = Number(m[1]);
    return status;
  }

  /** The last part of the output, for error messages. */
  tail(): string {
    if (this.text.length === 0) return "(no console output)";
    return this.text.length > TAIL_CHARS ? `…${this.text.slice(-TAIL_CHARS)}` : this.text;
  }
}

/**
 * Fail loudly unless the guest printed BOOT-OK, its init script exited 0 and
 * the engine reported a clean power-off (`engineOk`, described by `engineDetail`).
 */
export function checkBoot(label: string, watch: ConsoleWatch, engineOk: boolean, engineDetail: string): void {
  const problems: string[] = [];
  if (watch.markerAt === undefined) problems.push(`no ${BOOT_MARKER} on the console`);
  const status = watch.guestExitStatus();
  if (status === undefined) problems.push("no EXIT-STATUS line from the init script");
  else if (status !== 0) problems.push(`the init script exited with ${status}`);
  if (!engineOk) problems.push(engineDetail);
  if (problems.length === 0) return;
  throw new BootBenchError(
    "BOOT_FAILED",
    `${label}: the boot failed: ${problems.join("; ")}.\n--- console tail ---\n${watch.tail()}\n--- end ---`,
  );
}
