/** The boot benchmark's result: per-run records, medians, the text table and the JSON document. */

/** One successful boot. Times are from the engine's start (Vm.create or the spawn). */
export interface BootRun {
  /** Seconds until BOOT-OK appeared on the console. */
  bootOkSeconds: number;
  /** Seconds until the guest powered off (hvkit's run returned, QEMU's process exited). */
  totalSeconds: number;
  /** The engine's status: hvkit's power-off code, QEMU's exit status. */
  exitStatus: number;
  /** The init script's status from its EXIT-STATUS line. */
  guestExitStatus: number;
  /** Guest instructions retired when BOOT-OK appeared (hvkit: hart counter; QEMU: -icount over QMP). */
  instructionsAtBootOk?: number;
  /** QEMU -icount only: milliseconds between seeing BOOT-OK and QEMU's answer (the count is that late). */
  icountLagMs?: number;
  /** hvkit only: guest instructions retired up to the power-off. */
  instructions?: number;
  /** hvkit only: the same by privilege mode. */
  instructionsByMode?: Record<string, number | undefined>;
  /** hvkit only: seconds spent inside `vm.run` (excludes VM creation). */
  runSeconds?: number;
  /** hvkit only: instructions / runSeconds, in millions. */
  mips?: number;
}

/** Which engine and setup a row measures. */
export interface BootConfig {
  /** Stable id: "hvkit-builtin", "hvkit-opensbi", "qemu-tcg", "qemu-icount". */
  id: string;
  /** Row label in the table. */
  label: string;
  engine: "hvkit" | "qemu";
  /** "builtin" (host SBI), "opensbi" (a file run in M-mode), "qemu-default" (-bios default). */
  firmware: string;
  /** The exact command (QEMU) or API call (hvkit), for the record. */
  command: string;
}

/** Median and spread of one measured quantity. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** A configuration with its runs. */
export interface ConfigResult extends BootConfig {
  runs: BootRun[];
  summary: {
    bootOkSeconds: Spread;
    totalSeconds: Spread;
    instructionsAtBootOk?: Spread;
    instructions?: Spread;
    mips?: Spread;
  };
}

/** hvkit relative to QEMU, from medians. */
export interface Ratio {
  config: string;
  /** The QEMU row timed against ("qemu-tcg"), and counted against ("qemu-icount"). */
  versus: { time: string; instructions: string | undefined };
  /** hvkit time to BOOT-OK / QEMU's. */
  bootOkTime: number;
  /** hvkit time to power-off / QEMU's. */
  totalTime: number;
  /** hvkit instructions to BOOT-OK / QEMU's -icount count; absent without an -icount run. */
  instructionsToBootOk?: number;
}

/** The JSON document written by --json. */
export interface BootBenchResult {
  schema: "hvkit.bench.boot";
  /** Bumped on any incompatible change of this shape. */
  version: 1;
  date: string;
  host: {
    node: string;
    platform: string;
    arch: string;
    cpu: string;
    cpus: number;
    /** os.loadavg() (1, 5, 15 minutes) before the first boot and after the last. */
    loadAverage: { start: number[]; end: number[] };
  };
  guest: {
    kernel: { path: string; release: string; sha256: string };
    initramfs: { path: string; sha256: string };
    cmdline: string;
    memoryMiB: number;
    marker: string;
  };
  options: { repeat: number; timeoutSeconds: number; opensbi: string | undefined; strategies?: string[] };
  qemu: { available: boolean; binary: string; version?: string; installHint?: string };
  configs: ConfigResult[];
  ratios: Ratio[];
}

/** Median, min and max of a non-empty list. */
export function spread(values: number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

/** Attach medians to a configuration's runs. */
export function summarise(config: BootConfig, runs: BootRun[]): ConfigResult {
  const of = (pick: (r: BootRun) => number | undefined): Spread | undefined => {
    const v = runs.map(pick);
    return v.every((x): x is number => x !== undefined) ? spread(v) : undefined;
  };
  const optional = {
    instructionsAtBootOk: of((r) => r.instructionsAtBootOk),
    instructions: of((r) => r.instructions),
    mips: of((r) => r.mips),
  };
  return {
    ...config,
    runs,
    summary: {
      bootOkSeconds: spread(runs.map((r) => r.bootOkSeconds)),
      totalSeconds: spread(runs.map((r) => r.totalSeconds)),
      ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    },
  };
}

/** hvkit rows against the QEMU rows, when there are any. */
export function ratios(configs: ConfigResult[]): Ratio[] {
  const tcg = configs.find((c) => c.id === "qemu-tcg");
  if (!tcg) return [];
  const icount = configs.find((c) => c.id === "qemu-icount")?.summary.instructionsAtBootOk;
  return configs
    .filter((c) => c.engine === "hvkit")
    .map((c) => {
      const s = c.summary;
      const r: Ratio = {
        config: c.id,
        versus: { time: tcg.id, instructions: icount ? "qemu-icount" : undefined },
        bootOkTime: s.bootOkSeconds.median / tcg.summary.bootOkSeconds.median,
        totalTime: s.totalSeconds.median / tcg.summary.totalSeconds.median,
      };
      if (icount && s.instructionsAtBootOk) {
        r.instructionsToBootOk = s.instructionsAtBootOk.median / icount.median;
      }
      return r;
    });
}

/** The result as an aligned plain-text table with notes (no TTY needed). */
export function formatTable(result: BootBenchResult): string {
  const qemuCount = result.configs.find((c) => c.id === "qemu-icount")?.summary.instructionsAtBootOk?.median;
  const header = [
    "configuration",
    "runs",
    "to BOOT-OK (s)",
    "total (s)",
    "instr to BOOT-OK",
    "instr total",
    "MIPS",
    "BOOT-OK time / QEMU",
  ];
  const rows = result.configs.map((c) => {
    const s = c.summary;
    const ratio = result.ratios.find((r) => r.config === c.id);
    let mips = s.mips ? fmtSpread(s.mips, 1) : "-";
    // QEMU's speed: the -icount run's count over the plain TCG run's time to BOOT-OK.
    if (c.id === "qemu-tcg" && qemuCount) mips = `~${(qemuCount / s.bootOkSeconds.median / 1e6).toFixed(0)}`;
    return [
      c.label,
      String(c.runs.length),
      fmtSpread(s.bootOkSeconds, 2),
      fmtSpread(s.totalSeconds, 2),
      s.instructionsAtBootOk ? fmtMillions(s.instructionsAtBootOk.median) : "-",
      s.instructions ? fmtMillions(s.instructions.median) : "-",
      mips,
      ratio ? `${ratio.bootOkTime.toFixed(1)}x` : c.id === "qemu-tcg" ? "1.0x" : "-",
    ];
  });
  const lines = [align([header, ...rows])];
  if (result.ratios.length > 0) {
    lines.push("", "hvkit / QEMU (medians):");
    for (const r of result.ratios) {
      const instr =
        r.instructionsToBootOk === undefined
          ? ""
          : `, instructions to BOOT-OK ${r.instructionsToBootOk.toFixed(2)}x`;
      lines.push(
        `  ${r.config}: time to BOOT-OK ${r.bootOkTime.toFixed(1)}x, total time ${r.totalTime.toFixed(1)}x${instr}`,
      );
    }
  }
  lines.push("");
  if (!result.qemu.available) {
    lines.push(
      `QEMU (${result.qemu.binary}) is not installed: hvkit alone. Install it with: ${result.qemu.installHint}`,
    );
  }
  const load = result.host.loadAverage;
  lines.push(
    `Host: ${result.host.cpus} x ${result.host.cpu}; 1-minute load average ${load.start[0]!.toFixed(1)} before, ${load.end[0]!.toFixed(1)} after.`,
  );
  const repeat = result.options.repeat;
  lines.push(
    `Times from engine start (Vm.create / QEMU spawn)${repeat > 1 ? `; median of ${repeat} runs [min-max]` : ""}. M = 10^6 instructions.`,
    "hvkit MIPS = instructions to power-off / seconds in vm.run.",
  );
  if (result.qemu.available) {
    lines.push(
      "QEMU instructions: -icount shift=0, read over QMP when BOOT-OK appears (late by about a millisecond);",
      "QEMU MIPS = that count / the plain TCG run's time to BOOT-OK.",
    );
  }
  return lines.join("\n");
}

function fmtSpread(s: Spread, digits: number): string {
  const m = s.median.toFixed(digits);
  return s.min === s.max ? m : `${m} [${s.min.toFixed(digits)}-${s.max.toFixed(digits)}]`;
}

function fmtMillions(n: number): string {
  return `${(n / 1e6).toFixed(1)} M`;
}

/** Left-align the first column, right-align the rest. */
function align(table: string[][]): string {
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(table[0]!), rule, ...table.slice(1).map(line)].join("\n");
}
