/**
 * The hvkit command line: builds the program, runs one command, and turns
 * every outcome into a message and an exit code.
 *
 * Exit codes: 0 success, 1 an expected failure (a file that cannot be read,
 * an ELF or assembly error, a guest fault) reported on one line as
 * `hvkit: <code>: <message>`, 2 a usage error (unknown command or option,
 * missing argument) reported with the usage. `hvkit run` otherwise exits
 * with the guest's own status (see run-guest.ts and the README).
 */
import { CpuError } from "@hvkit/cpu";
import { DiskError } from "@hvkit/disk";
import { GuestsError } from "@hvkit/guests";
import { COST_PROFILES, HypervisorError, SnapshotError } from "@hvkit/hypervisor";
import { IoEmulatedError } from "@hvkit/io-emulated";
import { AsmError, IsaError } from "@hvkit/isa";
import { MachineError } from "@hvkit/machine";
import { MigrationError } from "@hvkit/migration";
import { PassthroughError } from "@hvkit/passthrough";
import { VirtioError } from "@hvkit/virtio";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { ASM_FORMATS, type AsmOptions, runAsm } from "./commands/asm.js";
import { runDisasm } from "./commands/disasm.js";
import { runInitramfs } from "./commands/initramfs.js";
import { runReceive } from "./commands/receive.js";
import { runBare } from "./commands/run.js";
import {
  DISK_BACKENDS,
  type DiskBackend,
  type GuestAction,
  type RunGuestOptions,
  runGuest,
} from "./commands/run-guest.js";
import { CliError, type Io, nodeIo } from "./io.js";
import { DEFAULT_STRATEGY, formatStrategies } from "./strategies.js";

export { type AsmOptions, runAsm } from "./commands/asm.js";
export { type DisasmOptions, formatDisassembly, runDisasm } from "./commands/disasm.js";
export { type InitramfsOptions, runInitramfs } from "./commands/initramfs.js";
export { type ReceiveCommandOptions, runReceive } from "./commands/receive.js";
export { type RunBareOptions, type RunStats, runBare } from "./commands/run.js";
export {
  DISK_BACKENDS,
  type DiskBackend,
  driveGuest,
  formatMigrationReport,
  formatStats,
  type GuestAction,
  type GuestExit,
  type GuestRunStats,
  type RunGuestOptions,
  runGuest,
  shellStatus,
} from "./commands/run-guest.js";
export { type ConsoleCommand, ConsoleEscape, type EscapeResult } from "./console.js";
export {
  CliError,
  type CliErrorCode,
  type ConsoleEvents,
  type ConsoleHost,
  type ConsoleSignal,
  type Io,
  nodeIo,
} from "./io.js";
export { formatStrategies, registerShippedStrategies, SHIPPED_STRATEGIES } from "./strategies.js";

/** Exit code of a usage error: 2, as shell builtins and most Unix tools use. */
const EXIT_USAGE = 2;
const MIB = 1024 * 1024;
/** `run --bare` defaults: RAM and the step budget (a bare program that never reports is a bug). */
const BARE_MEMORY = 64 * MIB;
const BARE_MAX_STEPS = 10_000_000_000;

/** Node.js system errors carry a code such as ENOENT and the path involved. */
interface SystemError extends Error {
  code: string;
  path?: string;
  syscall?: string;
}

function isSystemError(e: unknown): e is SystemError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === "string" && "syscall" in e;
}

const SYSTEM_MESSAGES: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EISDIR: "is a directory, not a file",
  ENOTDIR: "a component of the path is not a directory",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
};

function describeSystemError(e: SystemError): string {
  const what = SYSTEM_MESSAGES[e.code] ?? e.message;
  return e.path ? `${e.path}: ${what}` : what;
}

/** Parse `--base`: decimal or 0x-prefixed hexadecimal, within 64 bits. */
function parseAddress(text: string): bigint {
  if (/^(0x[0-9a-f_]+|[0-9_]+)$/i.test(text)) {
    const v = BigInt(text.replaceAll("_", ""));
    if (v < 1n << 64n) return v;
  }
  throw new InvalidArgumentError("expected an address such as 0x80000000");
}

/** Parse a size such as 64M, 512M, 1G or a byte count; a multiple of 4 KiB up to 2 GiB. */
function parseMemorySize(text: string): number {
  const m = /^(\d+)([KMG]?)i?B?$/i.exec(text);
  if (m) {
    const unit = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase()]!;
    const bytes = Number(m[1]) * unit;
    if (bytes > 0 && bytes <= 2 * 1024 ** 3 && bytes % 4096 === 0) return bytes;
  }
  throw new InvalidArgumentError("expected a size such as 64M or 1G (a multiple of 4 KiB, at most 2G)");
}

/** Parse a positive integer count: digits (with _ separators) or a power of ten such as 2.5e9. */
function parseCount(text: string): number {
  const t = text.replaceAll("_", "");
  if (/^\d+(\.\d+)?(e\d+)?$/i.test(t)) {
    const v = Number(t);
    if (v > 0 && Number.isSafeInteger(v)) return v;
  }
  throw new InvalidArgumentError("expected a positive whole number such as 1000000 or 2.5e9");
}

/** Parse a TCP port to listen on (0..65535; 0 picks a free one, printed on stderr). */
function parsePort(text: string): number {
  const v = Number(text);
  if (/^\d+$/.test(text) && v >= 0 && v <= 65535) return v;
  throw new InvalidArgumentError("expected a TCP port number from 0 (any free port) to 65535");
}

/** Parse HOST:PORT (a bare PORT means localhost). */
function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d+)$/.exec(text);
  if (m) {
    const port = Number(m[2]);
    if (port >= 1 && port <= 65535) return { host: (m[1] ?? "127.0.0.1").replace(/^\[(.*)\]$/, "$1"), port };
  }
  throw new InvalidArgumentError("expected HOST:PORT, such as 127.0.0.1:7070");
}

/** commander's excess-argument message does not say which word is extra; this one does. */
function rejectExtraArguments(cmd: Command, expected: number): void {
  const extra = cmd.args[expected];
  if (extra !== undefined) {
    cmd.error(`unexpected argument '${extra}' (${cmd.name()} takes ${expected})`, {
      code: "commander.excessArguments",
      exitCode: EXIT_USAGE,
    });
  }
}

function buildProgram(io: Io): Command {
  const program = new Command("hvkit");
  const configure = (cmd: Command): Command =>
    cmd
      .exitOverride()
      .showHelpAfterError()
      .configureOutput({
        writeOut: (s) => io.stdout(s),
        writeErr: (s) => io.stderr(s),
        outputError: (s, write) => write(`hvkit: ${s.replace(/^error: /, "")}`),
      });
  configure(program)
    .description("hvkit: hypervisor strategies on a simulated RISC-V RV64GC machine")
    .helpCommand(true)
    .allowExcessArguments(false);

  configure(program.command("disasm"))
    .description("disassemble the executable sections of a RISC-V ELF file, as llvm-objdump -d does")
    .argument("<file>", "ELF64 RISC-V file (executable or object)")
    .option("--no-aliases", "print base instructions and c.* mnemonics (llvm-objdump -M no-aliases)")
    .option(
      "-j, --section <name>",
      "only this section (repeatable)",
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .allowExcessArguments(true)
    .action((file: string, opts: { aliases: boolean; section?: string[] }, cmd: Command) => {
      rejectExtraArguments(cmd, 1);
      runDisasm(
        file,
        opts.section ? { aliases: opts.aliases, sections: opts.section } : { aliases: opts.aliases },
        io,
      );
    });

  configure(program.command("asm"))
    .description("assemble a RISC-V source file")
    .argument("<file>", "assembly source")
    .requiredOption("-o, --output <out>", "output file")
    .addOption(
      new Option("--format <format>", "ELF executable, or the flat image from the base address")
        .choices(ASM_FORMATS)
        .default("elf"),
    )
    .option("--base <address>", "address of the first section (default 0x80000000)", parseAddress)
    .option("--compress", "use compressed encodings where they exist")
    .allowExcessArguments(true)
    .action(
      (
        file: string,
        opts: { output: string; format: "elf" | "bin"; base?: bigint; compress?: boolean },
        cmd: Command,
      ) => {
        rejectExtraArguments(cmd, 1);
        const options: AsmOptions = { output: opts.output, format: opts.format };
        if (opts.base !== undefined) options.base = opts.base;
        if (opts.compress) options.compress = true;
        runAsm(file, options, io);
      },
    );

  configure(program.command("run"))
    .description(
      "run a guest: a kernel under a hypervisor strategy on the virt board (--kernel), or a bare-metal program (--bare)",
    )
    .addOption(
      new Option(
        "--kernel <file>",
        "RISC-V Linux Image (or Image.gz, or an S-mode ELF at 0x80200000)",
      ).conflicts("bare"),
    )
    .option("--bare <file>", "bare-metal RISC-V ELF: RAM at 0x80000000, results through HTIF tohost")
    .addOption(
      new Option(
        "--restore <file>",
        "continue the VM in a snapshot file (hvkit snapshot) instead of booting; --strategy runs it under another strategy",
      ).conflicts(["bare", "kernel", "initrd", "append", "firmware", "memory", "exitOn"]),
    )
    .addOption(
      new Option("--strategy <name>", "hypervisor strategy (see --list-strategies)")
        .default(DEFAULT_STRATEGY)
        .conflicts("bare"),
    )
    .addOption(new Option("--initrd <file>", "initramfs (see hvkit initramfs)").conflicts("bare"))
    .addOption(
      new Option("--append <cmdline>", 'kernel command line, e.g. "console=ttyS0"').conflicts("bare"),
    )
    .addOption(
      new Option(
        "--firmware <builtin|file>",
        'SBI firmware: "builtin" (the host serves SBI calls) or an OpenSBI fw_dynamic.bin',
      ).conflicts("bare"),
    )
    .addOption(
      new Option("--cost-profile <name>", "cost-model profile for the modeled cycles (default modern)")
        .choices(Object.keys(COST_PROFILES))
        .conflicts("bare"),
    )
    .addOption(
      new Option(
        "--exit-on <exits>",
        "extra guest exits for a hardware-assisted strategy (repeatable): csr=all|none|sstatus,sie,..., wfi,sret,sfence,satp-write,ecall, exceptions=all|page-fault,breakpoint,..., interrupts=all|timer,external,software",
      )
        .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v])
        .conflicts("bare"),
    )
    .addOption(
      new Option(
        "--disk <file>",
        "disk image (raw or qcow2, with its backing chain) for the guest",
      ).conflicts("bare"),
    )
    .addOption(
      new Option(
        "--disk-backend <backend>",
        "how --disk reaches the guest: virtio (virtio-blk), emulated (programmed-I/O controller, one exit per data word), passthrough (assigned device, IOMMU)",
      ).choices(DISK_BACKENDS),
    )
    .option("--disk-readonly", "open --disk read-only")
    .option("--memory <size>", "RAM size (default 512M with --kernel, 64M with --bare)", parseMemorySize)
    .option(
      "--max-steps <n>",
      "stop after this many steps, instructions plus traps (default: none with --kernel, 1e10 with --bare)",
      parseCount,
    )
    .option("--stats", "print a summary (instructions, exits, hypercalls, cycles, wall time, MIPS) to stderr")
    .option(
      "--stats-json <file>",
      "write the statistics as JSON (hvkit.vm-stats/1 plus exit; hvkit.run-stats/1 with --bare)",
    )
    .option("--list-strategies", "list the hypervisor strategies and exit")
    .action(async (opts: RunCommandOptions, cmd: Command) => {
      rejectExtraArguments(cmd, 0);
      if (opts.listStrategies) {
        io.stdout(formatStrategies());
        return;
      }
      if (opts.bare !== undefined) {
        const options: Parameters<typeof runBare>[1] = {
          maxSteps: opts.maxSteps ?? BARE_MAX_STEPS,
          memory: opts.memory ?? BARE_MEMORY,
        };
        if (opts.stats) options.stats = true;
        if (opts.statsJson !== undefined) options.statsJson = opts.statsJson;
        exitCode = runBare(opts.bare, options, io);
        return;
      }
      if (opts.restore !== undefined) {
        const options: RunGuestOptions = {
          strategy: opts.strategy,
          restore: opts.restore,
          strategyFromSnapshot: cmd.getOptionValueSource("strategy") === "default",
        };
        if (opts.maxSteps !== undefined) options.maxSteps = opts.maxSteps;
        if (opts.costProfile !== undefined) options.costProfile = opts.costProfile;
        if (opts.stats) options.stats = true;
        if (opts.statsJson !== undefined) options.statsJson = opts.statsJson;
        exitCode = await runGuest(options, io);
        return;
      }
      if (opts.kernel === undefined) {
        cmd.error(
          "run needs --kernel <file> (a guest under a hypervisor strategy), --restore <file> (a snapshot) or --bare <file> (a bare-metal program)",
          { code: "commander.missingMandatoryOptionValue", exitCode: EXIT_USAGE },
        );
      }
      if (opts.memory !== undefined && (opts.memory % (2 * MIB) !== 0 || opts.memory < 16 * MIB)) {
        cmd.error(
          `option '--memory <size>' is invalid: ${opts.memory} bytes; with --kernel it must be a multiple of 2M from 16M to 2G, such as 512M`,
          { code: "commander.invalidArgument", exitCode: EXIT_USAGE },
        );
      }
      if (opts.disk === undefined && (opts.diskBackend !== undefined || opts.diskReadonly)) {
        cmd.error("options '--disk-backend' and '--disk-readonly' need '--disk <file>'", {
          code: "commander.missingMandatoryOptionValue",
          exitCode: EXIT_USAGE,
        });
      }
      const options = guestOptions(opts);
      if (opts.disk !== undefined) options.disk = opts.disk;
      if (opts.diskBackend !== undefined) options.diskBackend = opts.diskBackend;
      if (opts.diskReadonly) options.diskReadOnly = true;
      exitCode = await runGuest(options, io);
    });

  // hvkit snapshot and hvkit migrate boot (or restore) a guest like hvkit run, then act on it.
  const guestCommand = (name: string, description: string): Command =>
    configure(program.command(name))
      .description(description)
      .option("--kernel <file>", "RISC-V Linux Image (or Image.gz, or an S-mode ELF at 0x80200000)")
      .option("--restore <file>", "continue the VM in a snapshot file instead of booting")
      .option("--strategy <name>", "hypervisor strategy (default emulation, or the snapshot's)")
      .option("--initrd <file>", "initramfs")
      .option("--append <cmdline>", "kernel command line")
      .option("--firmware <builtin|file>", 'SBI firmware: "builtin" or an OpenSBI fw_dynamic.bin')
      .option("--memory <size>", "RAM size (default 512M)", parseMemorySize)
      .option("--at-step <n>", "act once this many steps (instructions plus traps) have run", parseCount)
      .option("--at-instruction <n>", "act once exactly this many instructions have retired", parseCount)
      .option("--at-output <text>", "act once the guest's console has printed this text")
      .option("--max-steps <n>", "stop after this many steps", parseCount)
      .option("--stats", "print a summary to stderr at the end");

  guestCommand(
    "snapshot",
    "run a guest to a step count or a console string, then write its snapshot and stop",
  )
    .requiredOption("-o, --output <file>", "snapshot file to write")
    .action(async (opts: GuestCommandOptions & { output: string }, cmd: Command) => {
      rejectExtraArguments(cmd, 0);
      exitCode = await runGuest(actionOptions(opts, { kind: "snapshot", file: opts.output }, cmd), io);
    });

  guestCommand(
    "migrate",
    "run a guest, then live-migrate it (iterative pre-copy) to a hvkit receive and stop once the target has it",
  )
    .requiredOption("--to <host:port>", "where hvkit receive --listen waits", parseHostPort)
    .option("--bandwidth <bytes-per-second>", "link bandwidth limit (default none)", parseCount)
    .option("--report-json <file>", "write the migration report (rounds, downtime, bytes) as JSON")
    .action(
      async (
        opts: GuestCommandOptions & {
          to: { host: string; port: number };
          bandwidth?: number;
          reportJson?: string;
        },
        cmd: Command,
      ) => {
        rejectExtraArguments(cmd, 0);
        const action: GuestAction = { kind: "migrate", host: opts.to.host, port: opts.to.port };
        if (opts.bandwidth !== undefined) action.bandwidth = opts.bandwidth;
        if (opts.reportJson !== undefined) action.reportJson = opts.reportJson;
        exitCode = await runGuest(actionOptions(opts, action, cmd), io);
      },
    );

  configure(program.command("receive"))
    .description("wait for a live migration from hvkit migrate, then run the received guest")
    .requiredOption("--listen <port>", "TCP port to listen on", parsePort)
    .option("--host <address>", "address to listen on (default all interfaces)")
    .option("--strategy <name>", "run the guest under this strategy (default the source's)")
    .option("--max-steps <n>", "stop after this many steps", parseCount)
    .option("--stats", "print a summary to stderr at the end")
    .action(
      async (
        opts: { listen: number; host?: string; strategy?: string; maxSteps?: number; stats?: boolean },
        cmd: Command,
      ) => {
        rejectExtraArguments(cmd, 0);
        exitCode = await runReceive(
          {
            port: opts.listen,
            ...(opts.host !== undefined ? { host: opts.host } : {}),
            ...(opts.strategy !== undefined ? { strategy: opts.strategy } : {}),
            ...(opts.maxSteps !== undefined ? { maxSteps: opts.maxSteps } : {}),
            ...(opts.stats ? { stats: true } : {}),
          },
          io,
        );
      },
    );
  addOtherCommands(program, configure, io);
  return program;
}

/** Options shared by hvkit snapshot and hvkit migrate. */
interface GuestCommandOptions {
  kernel?: string;
  restore?: string;
  strategy?: string;
  initrd?: string;
  append?: string;
  firmware?: string;
  memory?: number;
  atStep?: number;
  atInstruction?: number;
  atOutput?: string;
  maxSteps?: number;
  stats?: boolean;
}

/** RunGuestOptions for hvkit snapshot / migrate. */
function actionOptions(opts: GuestCommandOptions, action: GuestAction, cmd: Command): RunGuestOptions {
  if ((opts.kernel === undefined) === (opts.restore === undefined)) {
    cmd.error(
      `${cmd.name()} needs --kernel <file> (boot a guest) or --restore <file> (a snapshot), not both`,
      {
        code: "commander.missingMandatoryOptionValue",
        exitCode: EXIT_USAGE,
      },
    );
  }
  if (opts.atStep === undefined && opts.atInstruction === undefined && opts.atOutput === undefined) {
    cmd.error(
      `${cmd.name()} needs --at-step <n>, --at-instruction <n> or --at-output <text>: when to act on the guest`,
      {
        code: "commander.missingMandatoryOptionValue",
        exitCode: EXIT_USAGE,
      },
    );
  }
  const options = guestOptions({ ...opts, strategy: opts.strategy ?? DEFAULT_STRATEGY });
  if (opts.restore !== undefined) {
    options.restore = opts.restore;
    options.strategyFromSnapshot = opts.strategy === undefined;
  }
  options.action = action;
  if (opts.atStep !== undefined) options.atStep = opts.atStep;
  if (opts.atInstruction !== undefined) options.atInstruction = opts.atInstruction;
  if (opts.atOutput !== undefined) options.atOutput = opts.atOutput;
  return options;
}

/** RunGuestOptions from the options hvkit run shares with snapshot and migrate. */
function guestOptions(opts: Omit<RunCommandOptions, "kernel"> & { kernel?: string }): RunGuestOptions {
  const options: RunGuestOptions = { strategy: opts.strategy };
  if (opts.kernel !== undefined) options.kernel = opts.kernel;
  if (opts.initrd !== undefined) options.initrd = opts.initrd;
  if (opts.append !== undefined) options.append = opts.append;
  if (opts.memory !== undefined) options.memory = opts.memory;
  if (opts.firmware !== undefined) options.firmware = opts.firmware;
  if (opts.maxSteps !== undefined) options.maxSteps = opts.maxSteps;
  if (opts.costProfile !== undefined) options.costProfile = opts.costProfile;
  if (opts.exitOn !== undefined) options.exitOn = opts.exitOn;
  if (opts.stats) options.stats = true;
  if (opts.statsJson !== undefined) options.statsJson = opts.statsJson;
  return options;
}

function addOtherCommands(program: Command, configure: (cmd: Command) => Command, io: Io): void {
  configure(program.command("strategies"))
    .description("list the hypervisor strategies hvkit run --strategy accepts")
    .action(() => {
      io.stdout(formatStrategies());
    });

  configure(program.command("initramfs"))
    .description("build a busybox initramfs for hvkit run --initrd (/init runs the script, then powers off)")
    .requiredOption("--busybox <file>", "statically linked riscv64 busybox")
    .option("--script <file>", "shell script /init runs (default: uname -a; cat /proc/cpuinfo; echo BOOT-OK)")
    .requiredOption("-o, --output <file>", "output file")
    .option("--no-gzip", "write the plain cpio archive")
    .action((opts: { busybox: string; script?: string; output: string; gzip: boolean }, cmd: Command) => {
      rejectExtraArguments(cmd, 0);
      runInitramfs(
        {
          busybox: opts.busybox,
          output: opts.output,
          gzip: opts.gzip,
          ...(opts.script !== undefined ? { script: opts.script } : {}),
        },
        io,
      );
    });
}

/** Options of `hvkit run` as commander parses them. */
interface RunCommandOptions {
  kernel?: string;
  bare?: string;
  restore?: string;
  strategy: string;
  initrd?: string;
  append?: string;
  firmware?: string;
  costProfile?: string;
  exitOn?: string[];
  disk?: string;
  diskBackend?: DiskBackend;
  diskReadonly?: boolean;
  memory?: number;
  maxSteps?: number;
  stats?: boolean;
  statsJson?: string;
  listStrategies?: boolean;
}

/** Exit code chosen by a command that runs a guest (its result), reset per main() call. */
let exitCode = 0;

/**
 * Run the CLI on `argv` (as in process.argv: the node binary, the script,
 * then the arguments) and return the exit code. Never throws for expected
 * failures; those are reported on `io.stderr`.
 */
export async function main(argv: readonly string[], io: Io = nodeIo): Promise<number> {
  const program = buildProgram(io);
  exitCode = 0;
  try {
    await program.parseAsync([...argv], { from: "node" });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version requests end here too, successfully.
      if (e.exitCode === 0) return 0;
      // commander already printed the message and the usage.
      return EXIT_USAGE;
    }
    if (e instanceof AsmError) {
      // Every problem the assembler found, one line each, like a compiler.
      for (const d of e.errors) io.stderr(`hvkit: ${d.code}: ${d.message}\n`);
      return 1;
    }
    if (
      e instanceof IsaError ||
      e instanceof CliError ||
      e instanceof CpuError ||
      e instanceof HypervisorError ||
      e instanceof MachineError ||
      e instanceof GuestsError ||
      e instanceof DiskError ||
      e instanceof VirtioError ||
      e instanceof IoEmulatedError ||
      e instanceof PassthroughError ||
      e instanceof SnapshotError ||
      e instanceof MigrationError
    ) {
      io.stderr(`hvkit: ${e.code}: ${e.message}\n`);
      return 1;
    }
    if (isSystemError(e)) {
      io.stderr(`hvkit: ${e.code}: ${describeSystemError(e)}\n`);
      return 1;
    }
    // Anything else is a bug in hvkit: say so, with the stack to report.
    io.stderr(
      `hvkit: internal error (please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    return 1;
  }
}
