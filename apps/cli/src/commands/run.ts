/**
 * `hvkit run --bare FILE.elf`: run a bare-metal RISC-V program on the bare
 * machine (RAM at 0x8000_0000 + HTIF) and exit with its tohost code.
 * `--stats` prints what the run cost; `--stats-json FILE` writes it as JSON.
 */
import { BareMachine } from "@hvkit/cpu";
import { CliError, type Io } from "../io.js";

/** Options of {@link runBare}. */
export interface RunBareOptions {
  /** Stop after this many steps (instructions plus traps). */
  maxSteps: number;
  /** RAM size in bytes. */
  memory: number;
  /** Print statistics to stderr when the program ends. */
  stats?: boolean;
  /** Write statistics as JSON to this file. */
  statsJson?: string;
}

/** The machine-readable statistics of a run (`--stats-json`). */
export interface RunStats {
  /** Schema identifier and version. */
  schema: "hvkit.run-stats/1";
  /** Which machine ran the guest. */
  machine: "bare";
  /** The guest's exit code (tohost), or null when it did not finish. */
  exitCode: number | null;
  /** Why the run stopped. */
  stop: "exit" | "budget" | "wfi-deadlock";
  /** Guest instructions retired. */
  instructions: number;
  /** Steps executed (instructions plus traps taken): the deterministic clock. */
  steps: number;
  /** Host wall-clock seconds spent running the guest. */
  wallSeconds: number;
  /** Guest instructions per second of wall time, in millions. */
  mips: number;
}

/** Run the program; returns the process exit code (the guest's, or 1 if it did not finish). */
export function runBare(file: string, options: RunBareOptions, io: Io): number {
  const bytes = io.readFile(file);
  let pending = "";
  const machine = new BareMachine({
    ramSize: options.memory,
    onOutput: (b) => {
      pending += String.fromCharCode(b);
      if (b === 10 || pending.length >= 4096) {
        io.stdout(pending);
        pending = "";
      }
    },
  });
  machine.loadElf(bytes);
  const start = performance.now();
  const result = machine.run(options.maxSteps);
  const wallSeconds = (performance.now() - start) / 1000;
  if (pending) io.stdout(pending);
  const stats: RunStats = {
    schema: "hvkit.run-stats/1",
    machine: "bare",
    exitCode: result.exitCode ?? null,
    stop: result.reason,
    instructions: result.instret,
    steps: result.steps,
    wallSeconds,
    mips: wallSeconds > 0 ? result.instret / wallSeconds / 1e6 : 0,
  };
  if (options.stats) {
    io.stderr(
      `hvkit: ${stats.stop === "exit" ? `exit code ${stats.exitCode}` : `stopped (${stats.stop})`}, ` +
        `${stats.instructions} instructions, ${stats.steps} steps, ` +
        `${stats.wallSeconds.toFixed(3)} s, ${stats.mips.toFixed(1)} MIPS\n`,
    );
  }
  if (options.statsJson)
    io.writeFile(options.statsJson, new TextEncoder().encode(`${JSON.stringify(stats, null, 2)}\n`));
  if (result.reason === "budget") {
    throw new CliError(
      "CLI_GUEST_DID_NOT_FINISH",
      `the program did not report through tohost within ${options.maxSteps} steps; raise --max-steps or check that it writes tohost`,
    );
  }
  if (result.reason === "wfi-deadlock") {
    throw new CliError(
      "CLI_GUEST_DID_NOT_FINISH",
      "the program waits for an interrupt (WFI) that no device on the bare machine can raise",
    );
  }
  // A shell exit status has 8 bits; a non-zero code must stay non-zero.
  const code = result.exitCode ?? 1;
  return code === 0 ? 0 : code % 256 || 1;
}
