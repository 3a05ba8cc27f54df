/**
 * Everything the CLI does to the outside world goes through an {@link Io},
 * so tests can run commands in-process and look at what they printed.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { nodeTerminal } from "./terminal.js";

/** The CLI's view of the outside world. */
export interface Io {
  /** Write text to standard output. */
  stdout(text: string): void;
  /** Write bytes to standard output unchanged (a guest's console output). */
  stdoutBytes(data: Uint8Array): void;
  /** Write text to standard error. */
  stderr(text: string): void;
  /** Read a whole file; throws a Node.js system error (with `code`, e.g. ENOENT) when it cannot. */
  readFile(path: string): Uint8Array;
  /** Create or replace a file. */
  writeFile(path: string, data: Uint8Array): void;
  /** Standard input and signals for a guest's console; absent when nothing can be typed or piped in. */
  terminal?: ConsoleHost;
}

/** What a {@link ConsoleHost} reports while a guest console is attached. */
export interface ConsoleEvents {
  /** Bytes typed (raw, on a terminal) or piped in. */
  data(bytes: Uint8Array): void;
  /** Standard input ended or failed: no more input will come. */
  end(): void;
  /** The process received SIGINT, SIGTERM or SIGHUP, or standard output was closed (EPIPE, reported as SIGPIPE). */
  signal(name: ConsoleSignal): void;
}

/** Signals that stop a running guest; SIGPIPE stands for standard output closed by its reader. */
export type ConsoleSignal = "SIGINT" | "SIGTERM" | "SIGHUP" | "SIGPIPE";

/** Standard input and signals, as a guest's console sees them. */
export interface ConsoleHost {
  /** Whether standard input is an interactive terminal: raw mode and the Ctrl-A keys. */
  readonly isTTY: boolean;
  /**
   * Start delivering input and signals (raw mode on a terminal). Returns the
   * function that stops and restores the terminal; calling it twice is harmless.
   */
  attach(events: ConsoleEvents): () => void;
}

/** The real process: its standard streams and the file system. */
export const nodeIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stdoutBytes: (data) => process.stdout.write(data),
  stderr: (text) => process.stderr.write(text),
  readFile: (path) => readFileSync(path),
  writeFile: (path, data) => writeFileSync(path, data),
  terminal: nodeTerminal,
};

/** Error codes the CLI itself raises (the ISA package's errors keep their own codes). */
export type CliErrorCode =
  | "CLI_NO_SUCH_SECTION"
  | "CLI_NOT_CODE"
  | "CLI_GUEST_DID_NOT_FINISH"
  | "CLI_USAGE"
  /** `hvkit run --kernel`: the guest used up --max-steps without powering off. */
  | "CLI_STEP_LIMIT"
  /** `hvkit run --kernel`: the guest waits for console input and none can come. */
  | "CLI_GUEST_IDLE"
  /** A file given for the guest is for another architecture. */
  | "CLI_NOT_RISCV"
  /** `hvkit run --kernel`: an EFI-stub Linux Image shorter than its own headers say. */
  | "CLI_KERNEL_TRUNCATED"
  /** `hvkit run --kernel`: options that cannot go together (a disk backend the strategy cannot serve). */
  | "CLI_INVALID_COMBINATION";

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
