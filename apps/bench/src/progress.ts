/**
 * The progress display while the matrix runs: on a terminal, one cli-progress
 * bar over the estimated work (guest instructions) with the elapsed time, an
 * ETA and what runs now, failures and notes printed above it; elsewhere (CI,
 * a pipe), one line per step so a log shows where a run spent its time.
 */
import cliProgress from "cli-progress";
import type { RunnerEvents } from "./runner.js";

/** A display the runner reports to; `stop()` before printing anything else. */
export interface ProgressDisplay extends RunnerEvents {
  stop(): void;
}

/** The display for `stream` (stderr by default): a bar on a TTY, lines otherwise. */
export function progressDisplay(stream: NodeJS.WriteStream = process.stderr): ProgressDisplay {
  const failed = new Set<string>();
  const red = (s: string) => (stream.isTTY ? `\x1b[31m${s}\x1b[0m` : s);
  const failure = (cell: string, message: string) =>
    red(`FAILED ${cell}: ${message.split("\n").slice(0, 6).join("\n    ")}`);
  if (!stream.isTTY) {
    let last = "";
    const t0 = performance.now();
    const line = (s: string) =>
      stream.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}\n`);
    return {
      advance(_done, label) {
        // One line per cell and per boot, not per progress tick.
        const head = label.replace(/: \d+ M instructions$/, "");
        if (head !== last) line(head);
        last = head;
      },
      cellFailed(cell, message) {
        if (failed.has(cell)) return;
        failed.add(cell);
        line(failure(cell, message));
      },
      note: line,
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      stream,
      format: " {bar} {percentage}% | {duration_formatted} elapsed, ETA {eta_formatted} | {label}",
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 200,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  let value = 0;
  return {
    start(total) {
      bar = multi.create(Math.max(1, Math.round(total / 1e6)), 0, { label: "starting" });
    },
    advance(done, label) {
      value += done / 1e6;
      bar?.update(Math.round(value), { label });
    },
    cellFailed(cell, message) {
      if (failed.has(cell)) return;
      failed.add(cell);
      multi.log(`${failure(cell, message)}\n`);
    },
    note(line) {
      multi.log(`${line}\n`);
    },
    stop() {
      if (bar) bar.update(bar.getTotal(), { label: "done" });
      multi.stop();
    },
  };
}
