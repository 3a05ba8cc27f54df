/** Stable error codes of the bench app. */
export type BenchErrorCode =
  /** A command-line option is wrong (an unknown strategy, workload or profile, a bad number). */
  | "BENCH_BAD_OPTION"
  /** A cell's guest did not produce the right result (wrong CHECK lines, DONE status, no BOOT-OK). */
  | "BENCH_CELL_FAILED"
  /** A run did not finish within --timeout. */
  | "BENCH_TIMEOUT"
  /** A measuring child process died or could not be started. */
  | "BENCH_CHILD_FAILED"
  /** A results file is not a valid hvkit.bench document. */
  | "BENCH_BAD_RESULT"
  /** Deterministic counters differed between repetitions of the same cell. */
  | "BENCH_NONDETERMINISTIC";

/** A bench failure; the message says what went wrong and what to do. */
export class BenchError extends Error {
  override readonly name = "BenchError";
  /** Stable, machine-readable error code. */
  readonly code: BenchErrorCode;

  constructor(code: BenchErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
