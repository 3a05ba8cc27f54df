/**
 * The console escape keys of `hvkit run` on a terminal, as a pure state
 * machine: raw-mode keystrokes go in, bytes for the guest and console
 * commands come out. Ctrl-A is the prefix, as in QEMU's `-nographic`
 * console and screen: Ctrl-A x quits, Ctrl-A h prints the keys, Ctrl-A
 * Ctrl-A sends one Ctrl-A. Any other key after Ctrl-A is sent with the
 * Ctrl-A in front, so a guest shell still gets Ctrl-A <key>.
 */

/** The escape prefix: Ctrl-A. */
export const ESCAPE_PREFIX = 0x01;

/** The one-line hint printed when the console starts. */
export const CONSOLE_HINT = "hvkit: Ctrl-A x to quit, Ctrl-A h for help";

/** The help text for Ctrl-A h. */
export const CONSOLE_HELP = [
  "hvkit console keys:",
  "  Ctrl-A x       quit (the guest is stopped; exit code 0)",
  "  Ctrl-A h       this help",
  "  Ctrl-A Ctrl-A  send Ctrl-A to the guest",
].join("\r\n");

/** A console command recognised in the input. */
export type ConsoleCommand = "quit" | "help";

/** What one chunk of keystrokes means. */
export interface EscapeResult {
  /** Bytes to send to the guest, in order (empty when none). */
  forward: Uint8Array;
  /** Commands found, in order. Bytes after a "quit" are dropped. */
  commands: ConsoleCommand[];
}

/**
 * Feed keystrokes, get the bytes for the guest and the commands. A Ctrl-A at
 * the end of a chunk is held until the next chunk says what it prefixes.
 */
export class ConsoleEscape {
  private pending = false;

  /** Process one chunk of input. */
  feed(bytes: ArrayLike<number>): EscapeResult {
    const forward: number[] = [];
    const commands: ConsoleCommand[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]! & 0xff;
      if (!this.pending) {
        if (b === ESCAPE_PREFIX) this.pending = true;
        else forward.push(b);
        continue;
      }
      this.pending = false;
      if (b === 0x78 || b === 0x58) {
        // x or X
        commands.push("quit");
        break;
      }
      if (b === 0x68 || b === 0x48 || b === 0x3f)
        commands.push("help"); // h, H or ?
      else if (b === ESCAPE_PREFIX) forward.push(ESCAPE_PREFIX);
      else forward.push(ESCAPE_PREFIX, b);
    }
    return { forward: Uint8Array.from(forward), commands };
  }

  /** Whether a Ctrl-A is waiting for its second key. */
  get waiting(): boolean {
    return this.pending;
  }
}
