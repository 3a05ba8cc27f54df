/**
 * `hvkit run --kernel FILE`: boot a guest under a hypervisor strategy on the
 * virt board, with its console on standard input and output.
 *
 * The VM runs in short slices; between slices the loop yields to the event
 * loop, so keystrokes, piped input and signals are handled while the guest
 * runs. On a terminal, standard input is in raw mode and Ctrl-A x quits.
 */
import type { DiskImage } from "@hvkit/disk";
import { openDiskImageFile } from "@hvkit/disk/node";
import {
  HypervisorError,
  parseExitOn,
  type RunResult,
  type StrategyDefinition,
  Vm,
  type VmConfig,
  type VmStats,
} from "@hvkit/hypervisor";
import { pioBlk } from "@hvkit/io-emulated";
import { type MigrationReport, migrate } from "@hvkit/migration";
import { connectChannel } from "@hvkit/migration/node";
import { passthrough } from "@hvkit/passthrough";
import { VirtioBlk, virtioMmio } from "@hvkit/virtio";
import { CONSOLE_HELP, CONSOLE_HINT, ConsoleEscape } from "../console.js";
import { CliError, type ConsoleSignal, type Io } from "../io.js";
import { checkKernelImageComplete } from "../kernel-check.js";
import { getShippedStrategy } from "../strategies.js";

/**
 * Wall time per slice: short enough that typed keys echo without a visible
 * lag, long enough that yielding to the event loop costs nothing measurable.
 */
const SLICE_MS = 30;
/**
 * Steps per slice, so a slice also ends on steps: the VMM checks the wall
 * clock only between its own 4 Mi-step chunks. Measured on the Debian boot
 * (2-core shared host, first 4e8 steps): 1 Mi steps gave a median slice of
 * 18 ms (p95 54 ms) at 37 MIPS; 4 Mi steps a median of 75 ms at 35 MIPS.
 */
const SLICE_STEPS = 1 << 20;
/** Flush console output at a newline or when this many bytes are pending. */
const OUTPUT_CHUNK = 4096;

/** Signal numbers, for the 128 + n exit status shells use. */
const SIGNAL_NUMBERS: Readonly<Record<ConsoleSignal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGPIPE: 13,
  SIGTERM: 15,
};

/**
 * How `--disk` reaches the guest: a virtio-blk device (paravirtual), the
 * programmed-I/O controller of @hvkit/io-emulated (full emulation), or a
 * block device assigned to the VM (@hvkit/passthrough).
 */
export const DISK_BACKENDS = ["virtio", "emulated", "passthrough"] as const;
/** One of {@link DISK_BACKENDS}. */
export type DiskBackend = (typeof DISK_BACKENDS)[number];

/**
 * CPU techniques whose strategies map an assigned device's registers into
 * the guest (shadow or G-stage leaves; under emulation every device is
 * reached directly). A strategy of another technique would trap every
 * access to a "passthrough" device, which would then be an emulated device
 * in disguise: refused.
 */
const PASSTHROUGH_TECHNIQUES: ReadonlySet<string> = new Set([
  "emulation",
  "trap-and-emulate",
  "binary-translation",
  "hardware-assisted",
]);

/** Options of {@link runGuest}. */
export interface RunGuestOptions {
  /** Registry name of the strategy. */
  strategy: string;
  /** Path of the kernel: a RISC-V Linux Image (possibly gzipped) or an S-mode ELF (or give `restore`). */
  kernel?: string;
  /**
   * Continue the VM in this snapshot file instead of booting (kernel, initrd,
   * append, memory, firmware and exitOn are then the snapshot's). `strategy`
   * overrides the snapshot's strategy when `strategyFromSnapshot` is false.
   */
  restore?: string;
  /** With `restore`: run under the strategy the snapshot was taken under (default true). */
  strategyFromSnapshot?: boolean;
  /** Snapshot or migrate the running guest once `atStep` or `atOutput` is reached (see GuestAction). */
  action?: GuestAction;
  /** Fire `action` once this many steps have run in total. */
  atStep?: number;
  /** Fire `action` once exactly this many instructions have retired in total. */
  atInstruction?: number;
  /** Fire `action` once the guest's console has printed this string. */
  atOutput?: string;
  /** Path of an initramfs. */
  initrd?: string;
  /** Kernel command line. */
  append?: string;
  /** Guest RAM in bytes (a multiple of 2 MiB, 16 MiB to 2 GiB). */
  memory?: number;
  /** "builtin" (the host serves SBI) or the path of an OpenSBI fw_dynamic/fw_jump image. */
  firmware?: string;
  /** Stop with CLI_STEP_LIMIT after this many steps (instructions plus traps). */
  maxSteps?: number;
  /** Cost-model profile for the modeled cycles. */
  costProfile?: string;
  /** Extra guest exits, as `--exit-on` words (see parseExitOn in @hvkit/hypervisor). */
  exitOn?: readonly string[];
  /** A disk image (raw or qcow2, with its backing chain) for the guest, in slot 0 (0x1000_1000). */
  disk?: string;
  /** How the disk reaches the guest. Default "virtio". */
  diskBackend?: DiskBackend;
  /** Open the disk read-only (the guest's writes fail). */
  diskReadOnly?: boolean;
  /** Print a statistics summary to stderr at the end. */
  stats?: boolean;
  /** Write the statistics as JSON to this file. */
  statsJson?: string;
}

/** What to do to the running guest when `atStep` / `atOutput` is reached. */
export type GuestAction =
  /** Write a snapshot to `file` and stop (hvkit snapshot). */
  | { kind: "snapshot"; file: string }
  /**
   * Live-migrate it to a `hvkit receive` at host:port and stop once the target
   * confirmed; on failure the guest keeps running here (hvkit migrate).
   */
  | { kind: "migrate"; host: string; port: number; bandwidth?: number; reportJson?: string };

/** How a guest run ended. */
export interface GuestExit {
  /**
   * "poweroff", "reset" and "fault" come from the VM; "limit" is --max-steps
   * used up, "idle" a guest waiting for input that cannot come, "quit" the
   * Ctrl-A x key, "signal" SIGINT, SIGTERM, SIGHUP or SIGPIPE (stdout closed).
   */
  stop: "poweroff" | "reset" | "fault" | "limit" | "idle" | "quit" | "signal" | "snapshot" | "migrated";
  /** The process exit code hvkit returns. */
  code: number;
  /** For "poweroff": the guest's status (0 clean, else its failure code). */
  exitStatus?: number;
  /** For "fault": what the strategy could not handle. For "signal": the signal. */
  message?: string;
}

/** What `--stats-json` writes: the VM's statistics (schema hvkit.vm-stats/1) plus how the run ended. */
export type GuestRunStats = VmStats & { exit: GuestExit };

/** An exit status as a shell sees it: 8 bits, and a failure never reads as 0. */
export function shellStatus(status: number): number {
  return status === 0 ? 0 : status & 0xff || 1;
}

/** Guest console bytes to stdout, a line (or a chunk) at a time. */
class ConsoleOutput {
  private readonly buffer = new Uint8Array(OUTPUT_CHUNK);
  private length = 0;

  constructor(private readonly write: (bytes: Uint8Array) => void) {}

  push(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      this.buffer[this.length++] = b;
      if (b === 10 || this.length === OUTPUT_CHUNK) this.flush();
    }
  }

  flush(): void {
    if (this.length === 0) return;
    this.write(this.buffer.slice(0, this.length));
    this.length = 0;
  }
}

/** Open `--disk` and build its device for slot 0; refuses a backend the strategy cannot serve. */
function openDisk(
  strategy: StrategyDefinition,
  options: RunGuestOptions,
): { disk: DiskImage; device: NonNullable<VmConfig["devices"]>[number] } | undefined {
  if (options.disk === undefined) return undefined;
  const backend = options.diskBackend ?? "virtio";
  if (!(DISK_BACKENDS as readonly string[]).includes(backend)) {
    throw new CliError("CLI_USAGE", `--disk-backend ${backend}: choose one of ${DISK_BACKENDS.join(", ")}`);
  }
  if (backend === "passthrough" && !PASSTHROUGH_TECHNIQUES.has(strategy.techniques.cpu)) {
    throw new CliError(
      "CLI_INVALID_COMBINATION",
      `--disk-backend passthrough needs a strategy that maps an assigned device into the guest (${[...PASSTHROUGH_TECHNIQUES].join(", ")}); ${strategy.name} is ${strategy.techniques.cpu}: use --disk-backend virtio or emulated`,
    );
  }
  const disk = openDiskImageFile(options.disk, options.diskReadOnly ? { readOnly: true } : {});
  const readOnly = options.diskReadOnly === true ? { readOnly: true } : {};
  const device =
    backend === "virtio"
      ? virtioMmio(new VirtioBlk({ backend: disk, ...readOnly }))
      : backend === "emulated"
        ? pioBlk({ backend: disk, ...readOnly })
        : passthrough({ backend: disk, ...readOnly });
  return { disk, device };
}

/** Read the kernel, initrd and firmware and create the VM (every bad input throws a typed error here). */
function createVm(
  strategy: StrategyDefinition,
  options: RunGuestOptions,
  io: Io,
  device?: NonNullable<VmConfig["devices"]>[number],
): Vm {
  if (options.restore !== undefined) {
    const bytes = io.readFile(options.restore);
    const devices = device ? { devices: [device] } : {};
    return options.strategyFromSnapshot === false
      ? Vm.restore(bytes, { strategy, ...devices })
      : Vm.restore(bytes, devices);
  }
  if (options.kernel === undefined) {
    throw new CliError(
      "CLI_USAGE",
      "give --kernel <file> to boot a guest, or --restore <file> to continue a snapshot",
    );
  }
  const kernel = io.readFile(options.kernel);
  checkKernelImageComplete(kernel, options.kernel);
  const config: VmConfig = { kernel };
  if (options.initrd !== undefined) config.initrd = io.readFile(options.initrd);
  if (options.append !== undefined) config.cmdline = options.append;
  if (options.memory !== undefined) config.memory = options.memory;
  if (options.firmware !== undefined && options.firmware !== "builtin")
    config.firmware = io.readFile(options.firmware);
  if (options.costProfile !== undefined) config.costProfile = options.costProfile;
  if (options.exitOn !== undefined) config.exitOn = parseExitOn(options.exitOn);
  if (device) config.devices = [device];
  return Vm.create(strategy, config);
}

/**
 * Boot the guest and run it to the end; returns the process exit code. A
 * guest fault, an exhausted --max-steps and a guest stuck waiting for input
 * that cannot come are thrown as typed errors (after the statistics are out).
 */
export async function runGuest(options: RunGuestOptions, io: Io): Promise<number> {
  const strategy = getShippedStrategy(options.strategy);
  const disk = openDisk(strategy, options);
  try {
    return await driveGuest(createVm(strategy, options, io, disk?.device), options, io);
  } finally {
    disk?.disk.close();
  }
}

/**
 * Run a created (booted, restored or received) VM with its console on the
 * terminal until it ends; returns the process exit code (see runGuest).
 */
export async function driveGuest(vm: Vm, options: RunGuestOptions, io: Io): Promise<number> {
  const out = new ConsoleOutput((b) => io.stdoutBytes(b));
  vm.onOutput((b) => out.push(b));
  let action = options.action;
  const atStep = options.atStep ?? Number.POSITIVE_INFINITY;
  const atInstruction = options.atInstruction ?? Number.POSITIVE_INFINITY;
  const atOutput = options.atOutput;
  let seen = "";
  let outputHit = false;
  if (atOutput !== undefined) {
    const decoder = new TextDecoder();
    vm.onOutput((b) => {
      if (outputHit) return;
      seen = (seen + decoder.decode(b, { stream: true })).slice(-Math.max(4096, 2 * atOutput.length));
      if (seen.includes(atOutput)) outputHit = true;
    });
  }
  let acted: GuestExit | undefined;

  const terminal = io.terminal;
  const tty = terminal?.isTTY === true;
  const keys = new ConsoleEscape();
  let inputOpen = terminal !== undefined;
  let quit = false;
  let signal: ConsoleSignal | undefined;
  // Resolves the wait of a guest that is idle until input comes.
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const maxSteps = options.maxSteps ?? Number.POSITIVE_INFINITY;
  let result: RunResult | undefined;
  let exit: GuestExit;
  const detach = terminal?.attach({
    data: (bytes) => {
      if (!tty) vm.writeInput(bytes);
      else {
        const r = keys.feed(bytes);
        if (r.forward.length > 0) vm.writeInput(r.forward);
        for (const c of r.commands) {
          if (c === "quit") quit = true;
          else io.stderr(`\r\n${CONSOLE_HELP}\r\n`);
        }
      }
      notify();
    },
    end: () => {
      inputOpen = false;
      notify();
    },
    signal: (name) => {
      signal ??= name;
      notify();
    },
  });
  try {
    if (tty) io.stderr(`${CONSOLE_HINT}\n`);
    for (;;) {
      if (quit || signal) break;
      if (action && (vm.hart.cycles >= atStep || vm.hart.instret >= atInstruction || outputHit)) {
        acted = await act(vm, action, io);
        out.flush();
        if (acted) break;
        action = undefined; // a failed migration: the guest keeps running here
      }
      const remaining = maxSteps - vm.hart.cycles;
      if (remaining <= 0) break;
      // Steps are instructions plus traps: running (N - retired) steps never retires past N.
      const toAction = action
        ? Math.min(atStep - vm.hart.cycles, atInstruction - vm.hart.instret)
        : Number.POSITIVE_INFINITY;
      const r = vm.run({ steps: Math.min(remaining, SLICE_STEPS, Math.max(1, toAction)), wallMs: SLICE_MS });
      out.flush();
      if (r.stop === "limit") {
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      if (r.stop === "idle") {
        if (!inputOpen) {
          result = r;
          break;
        }
        // Nothing to run until a key, the end of input or a signal.
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      result = r;
      break;
    }
  } finally {
    detach?.();
    out.flush();
  }

  let error: Error | undefined;
  if (acted) {
    exit = acted;
  } else if (signal) {
    exit = { stop: "signal", code: 128 + SIGNAL_NUMBERS[signal], message: signal };
    // Quiet on a closed pipe, as tools killed by SIGPIPE are.
    if (signal !== "SIGPIPE") io.stderr(`hvkit: stopped by ${signal}\n`);
  } else if (quit) {
    exit = { stop: "quit", code: 0 };
    io.stderr("hvkit: quit (Ctrl-A x)\n");
  } else if (result === undefined) {
    exit = { stop: "limit", code: 1 };
    error = new CliError(
      "CLI_STEP_LIMIT",
      `the guest did not power off within --max-steps ${options.maxSteps} steps; raise --max-steps, or leave it out to run without a limit`,
    );
  } else {
    switch (result.stop) {
      case "poweroff": {
        let status = result.exitStatus ?? 0;
        // The test finisher's FAIL with code 0 is still a failure.
        if (status === 0 && vm.board.powerOff?.pass === false) status = 1;
        exit = { stop: "poweroff", code: shellStatus(status), exitStatus: status };
        break;
      }
      case "reset":
        exit = { stop: "reset", code: 0 };
        io.stderr("hvkit: the guest asked for a reset; hvkit stops instead of rebooting it (exit code 0)\n");
        break;
      case "idle":
        exit = { stop: "idle", code: 1 };
        error = new CliError(
          "CLI_GUEST_IDLE",
          terminal === undefined
            ? "the guest waits for console input (idle, no timer armed) and this console has no input; run it on a terminal or pipe input in"
            : "the guest waits for console input (idle, no timer armed) and standard input has ended; run it on a terminal, or keep the pipe open until the guest powers off",
        );
        break;
      default: {
        // "fault" ("limit" cannot reach here: the loop continues on it).
        const message = result.message ?? "the guest stopped with a fault";
        exit = { stop: "fault", code: 1, message };
        error = new HypervisorError("HV_GUEST_FAULT", message);
      }
    }
  }

  const stats: GuestRunStats = { ...vm.stats, exit };
  if (options.stats) io.stderr(formatStats(stats));
  if (options.statsJson !== undefined)
    io.writeFile(options.statsJson, new TextEncoder().encode(`${JSON.stringify(stats, null, 2)}\n`));
  if (error) throw error;
  return exit.code;
}

/** Fire the action: the exit when the guest is gone from here, undefined when it keeps running. */
async function act(vm: Vm, action: GuestAction, io: Io): Promise<GuestExit | undefined> {
  if (action.kind === "snapshot") {
    const bytes = vm.snapshot();
    io.writeFile(action.file, bytes);
    io.stderr(
      `hvkit: snapshot at step ${vm.hart.cycles} (${vm.hart.instret} instructions) written to ${action.file} (${bytes.length} bytes)\n`,
    );
    return { stop: "snapshot", code: 0 };
  }
  io.stderr(`hvkit: migrating to ${action.host}:${action.port} at step ${vm.hart.cycles}\n`);
  let report: MigrationReport;
  try {
    const channel = await connectChannel(action.host, action.port);
    report = await migrate(
      vm,
      channel,
      action.bandwidth !== undefined ? { bandwidth: action.bandwidth } : {},
    );
  } catch (e) {
    const code = (e as { code?: string }).code ?? "error";
    io.stderr(`hvkit: migration failed (${code}: ${(e as Error).message}); the guest keeps running here\n`);
    return undefined;
  }
  io.stderr(formatMigrationReport(report));
  if (action.reportJson !== undefined) {
    io.writeFile(action.reportJson, new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`));
  }
  return { stop: "migrated", code: 0 };
}

/** A migration report as text: one line per round, then the totals. */
export function formatMigrationReport(r: MigrationReport): string {
  const lines = [
    `hvkit: migrated (${r.strategy}, ${r.pages} pages): pre-copy stopped on ${r.stopCondition} after ${r.rounds.length} round(s)`,
    ...r.rounds.map(
      (x) =>
        `  round ${String(x.round).padStart(2)}: sent ${count(x.pagesSent)} pages (${count(x.zeroPages)} zero), skipped ${count(x.pagesSkipped)}, dirtied ${count(x.pagesDirtied)}, ${count(x.bytes)} bytes, ${x.ms.toFixed(1)} ms, guest ${count(x.guestSteps)} steps`,
    ),
    `  stop-and-copy: ${count(r.finalPages)} pages, ${count(r.finalBytes)} bytes (with CPU and devices)`,
    `  total ${r.totalMs.toFixed(1)} ms, ${count(r.bytes)} bytes; downtime ${r.downtimeMs.toFixed(1)} ms (~${count(r.downtimeInstructions)} guest instructions)`,
  ];
  return `${lines.join("\n")}\n`;
}

const count = (n: number): string => Math.round(n).toLocaleString("en-US");

/** "name 12, other 3" for the non-zero entries of a record, largest first. */
function breakdown(record: Record<string, number>, total?: number): string {
  const entries = Object.entries(record)
    .filter(([, v]) => v !== 0)
    .sort((a, b) => b[1] - a[1]);
  return entries
    .map(([k, v]) => {
      const share = total ? ` ${((100 * v) / total).toFixed(1)}%` : "";
      return `${k} ${count(v)}${share}`;
    })
    .join(", ");
}

/** The `--stats` summary: one labelled line per figure. */
export function formatStats(stats: GuestRunStats): string {
  const e = stats.exit;
  const t = stats.techniques;
  const ended =
    e.stop === "poweroff"
      ? `poweroff, exit status ${e.exitStatus}`
      : e.stop === "fault" || e.stop === "signal"
        ? `${e.stop} (${e.message})`
        : e.stop;
  const mips = stats.wallSeconds > 0 ? stats.instructions.total / stats.wallSeconds / 1e6 : 0;
  const paren = (s: string): string => (s ? `  (${s})` : "");
  const lines = [
    `hvkit: ${stats.strategy} (cpu ${t.cpu}, memory ${t.memory}, io ${t.io.join("+")}): ${ended}, exit code ${e.code}`,
    `  instructions  ${count(stats.instructions.total)}${paren(breakdown(stats.instructions.byMode, stats.instructions.total))}`,
    `  steps         ${count(stats.steps)}`,
    `  exits         ${count(stats.exits.total)}${paren(breakdown(stats.exits.byReason))}`,
    `  hypercalls    ${count(stats.hypercalls.total)}${paren(breakdown(stats.hypercalls.byName))}`,
    `  cycles        ${count(stats.cycles.total)} modeled, profile ${stats.cycles.profile}${paren(breakdown(stats.cycles.byCategory, stats.cycles.total))}`,
    `  wall          ${stats.wallSeconds.toFixed(3)} s, ${mips.toFixed(1)} MIPS`,
  ];
  const counters = breakdown(stats.counters);
  if (counters) lines.push(`  counters      ${counters}`);
  return `${lines.join("\n")}\n`;
}
