/**
 * The hvkit command line: builds the program, runs one command, and turns
 * every outcome into a message and an exit code.
 *
 * Exit codes: 0 success, 1 an expected failure (a file that cannot be read,
 * an ELF or assembly error) reported on one line as
 * `hvkit: <code>: <message>`, 2 a usage error (unknown command or option,
 * missing argument) reported with the usage.
 */
import { CpuError } from "@hvkit/cpu";
import { AsmError, IsaError } from "@hvkit/isa";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { ASM_FORMATS, type AsmOptions, runAsm } from "./commands/asm.js";
import { runDisasm } from "./commands/disasm.js";
import { runBare } from "./commands/run.js";
import { CliError, type Io, nodeIo } from "./io.js";

export { type AsmOptions, runAsm } from "./commands/asm.js";
export { type DisasmOptions, formatDisassembly, runDisasm } from "./commands/disasm.js";
export { type RunBareOptions, type RunStats, runBare } from "./commands/run.js";
export { CliError, type CliErrorCode, type Io, nodeIo } from "./io.js";

/** Exit code of a usage error: 2, as shell builtins and most Unix tools use. */
const EXIT_USAGE = 2;

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

/** Parse a positive integer count. */
function parseCount(text: string): number {
  if (/^\d+$/.test(text.replaceAll("_", ""))) {
    const v = Number(text.replaceAll("_", ""));
    if (v > 0 && Number.isSafeInteger(v)) return v;
  }
  throw new InvalidArgumentError("expected a positive whole number");
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
    .description("run a guest; today: a bare-metal program on the bare machine (--bare)")
    .requiredOption("--bare <file>", "bare-metal RISC-V ELF: RAM at 0x80000000, results through HTIF tohost")
    .option("--memory <size>", "RAM size", parseMemorySize, 64 * 1024 * 1024)
    .option(
      "--max-steps <n>",
      "stop after this many steps (instructions plus traps)",
      parseCount,
      10_000_000_000,
    )
    .option("--stats", "print instructions, steps, wall time and MIPS to stderr at the end")
    .option("--stats-json <file>", "write the statistics as JSON (schema hvkit.run-stats/1)")
    .action(
      (
        opts: { bare: string; memory: number; maxSteps: number; stats?: boolean; statsJson?: string },
        cmd: Command,
      ) => {
        rejectExtraArguments(cmd, 0);
        const options: Parameters<typeof runBare>[1] = { maxSteps: opts.maxSteps, memory: opts.memory };
        if (opts.stats) options.stats = true;
        if (opts.statsJson !== undefined) options.statsJson = opts.statsJson;
        exitCode = runBare(opts.bare, options, io);
      },
    );

  return program;
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
    if (e instanceof IsaError || e instanceof CliError || e instanceof CpuError) {
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
