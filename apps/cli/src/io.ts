/**
 * Everything the CLI does to the outside world goes through an {@link Io},
 * so tests can run commands in-process and look at what they printed.
 */
import { readFileSync, writeFileSync } from "node:fs";

/** The CLI's view of the outside world. */
export interface Io {
  /** Write text to standard output. */
  stdout(text: string): void;
  /** Write text to standard error. */
  stderr(text: string): void;
  /** Read a whole file; throws a Node.js system error (with `code`, e.g. ENOENT) when it cannot. */
  readFile(path: string): Uint8Array;
  /** Create or replace a file. */
  writeFile(path: string, data: Uint8Array): void;
}

/** The real process: its standard streams and the file system. */
export const nodeIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readFile: (path) => readFileSync(path),
  writeFile: (path, data) => writeFileSync(path, data),
};

/** Error codes the CLI itself raises (the ISA package's errors keep their own codes). */
export type CliErrorCode = "CLI_NO_SUCH_SECTION" | "CLI_NOT_CODE" | "CLI_GUEST_DID_NOT_FINISH" | "CLI_USAGE";

/** An expected failure, reported as `hvkit: <code>: <message>` with exit code 1. */
export class CliError extends Error {
  override readonly name = "CliError";
  /** Stable, machine-readable error code. */
  readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
