/**
 * Linux boot benchmark: `pnpm bench:boot [--repeat N] [--firmware opensbi] [--strategies LIST] [--json FILE]`.
 *
 * Boots the Debian kernel and busybox initramfs cached by `pnpm linux:fetch`
 * to BOOT-OK under hvkit's strategies (emulation with the built-in SBI, and
 * OpenSBI with `--firmware opensbi`; binary translation) and under
 * qemu-system-riscv64 (plain TCG for time, `-icount shift=0` for the
 * instruction count), checks every boot, and prints a table. Progress goes
 * to stderr, the table to stdout.
 */
import { existsSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { readLinuxManifest } from "@hvkit/guests/node";
import { BOOT_MARKER } from "./boot/console.js";
import { BootBenchError } from "./boot/errors.js";
import { HVKIT_STRATEGIES } from "./boot/hvkit.js";
import { bootHvkitInChild } from "./boot/hvkit-process.js";
import { bootQemu, QEMU_BINARY, QEMU_INSTALL_HINT, qemuArgs, qemuVersion } from "./boot/qemu.js";
import {
  type BootBenchResult,
  type BootConfig,
  type BootRun,
  type ConfigResult,
  formatTable,
  ratios,
  summarise,
} from "./boot/report.js";

/** Debian's opensbi package: the generic platform's fw_dynamic image. */
const DEFAULT_OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin";
/** The same command line and RAM for every engine (QEMU's virt console is ttyS0). */
const CMDLINE = "console=ttyS0";
const MEMORY_MIB = 512;
/** How the -icount run's QMP socket appears in the recorded command (the directory is a fresh temporary one). */
const QMP_ARG = "unix:<tmp>/qmp.sock,server=on,wait=off";
/** Warn when the 1-minute load average exceeds this share of the CPUs: other work then competes with the boots. */
const BUSY_LOAD_PER_CPU = 0.5;
/** Per-boot limit: hvkit boots took 12-42 s on the 2-core reference machine, depending on load; room for slower hosts. */
const DEFAULT_TIMEOUT_S = 300;

/** hvkit strategies booted by default. */
const DEFAULT_STRATEGIES = ["emulation", "binary-translation"];

const USAGE = `usage: pnpm bench:boot [options]
  --repeat N          boots per configuration (default 1)
  --strategies LIST   hvkit strategies, comma-separated (default ${DEFAULT_STRATEGIES.join(",")}; known: ${Object.keys(HVKIT_STRATEGIES).join(", ")})
  --firmware opensbi  also boot hvkit emulation with OpenSBI (default: built-in SBI only)
  --opensbi FILE      the OpenSBI image (default ${DEFAULT_OPENSBI})
  --json FILE         write the result as JSON (schema hvkit.bench.boot, version 1)
  --timeout SECONDS   per-boot limit (default ${DEFAULT_TIMEOUT_S})
  --qemu BINARY       the QEMU binary (default ${QEMU_BINARY})`;

interface Options {
  repeat: number;
  strategies: string[];
  opensbi: string | undefined;
  json: string | undefined;
  timeoutMs: number;
  qemu: string;
}

function parseOptions(argv: string[]): Options | undefined {
  // pnpm may pass a separating "--" through to the script.
  const args = argv[0] === "--" ? argv.slice(1) : argv;
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(args).values;
  } catch (e) {
    throw new BootBenchError("BOOT_BAD_OPTION", `${(e as Error).message}\n${USAGE}`);
  }
  if (values.help) return undefined;
  const positive = (name: string, raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) {
      throw new BootBenchError(
        "BOOT_BAD_OPTION",
        `--${name} wants a whole number of at least 1, got "${raw}"`,
      );
    }
    return n;
  };
  const firmware = values.firmware ?? "builtin";
  if (firmware !== "builtin" && firmware !== "opensbi") {
    throw new BootBenchError("BOOT_BAD_OPTION", `--firmware is "builtin" or "opensbi", got "${firmware}"`);
  }
  const strategies = (values.strategies ?? DEFAULT_STRATEGIES.join(",")).split(",").filter((x) => x !== "");
  for (const name of strategies) {
    if (!HVKIT_STRATEGIES[name]) {
      throw new BootBenchError(
        "BOOT_BAD_OPTION",
        `--strategies: unknown strategy "${name}"; known: ${Object.keys(HVKIT_STRATEGIES).join(", ")}`,
      );
    }
  }
  return {
    repeat: positive("repeat", values.repeat, 1),
    strategies,
    opensbi: firmware === "opensbi" || values.opensbi ? (values.opensbi ?? DEFAULT_OPENSBI) : undefined,
    json: values.json,
    timeoutMs: positive("timeout", values.timeout, DEFAULT_TIMEOUT_S) * 1000,
    qemu: values.qemu ?? QEMU_BINARY,
  };
}

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      repeat: { type: "string" },
      strategies: { type: "string" },
      firmware: { type: "string" },
      opensbi: { type: "string" },
      json: { type: "string" },
      timeout: { type: "string" },
      qemu: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

const progress = (line: string): void => {
  process.stderr.write(`[bench:boot] ${line}\n`);
};

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const manifest = readLinuxManifest();
  if (!manifest || !existsSync(manifest.kernel.path) || !existsSync(manifest.initramfs.path)) {
    throw new BootBenchError(
      "BOOT_NO_IMAGES",
      "no cached Debian kernel and initramfs; run `pnpm linux:fetch` first",
    );
  }
  if (options.opensbi && !existsSync(options.opensbi)) {
    throw new BootBenchError(
      "BOOT_NO_FIRMWARE",
      `no OpenSBI image at ${options.opensbi}; install it (Debian: apt-get install opensbi) or pass --opensbi FILE`,
    );
  }
  const loadAtStart = loadavg();
  const busy = loadAtStart[0]! > BUSY_LOAD_PER_CPU * cpus().length;
  if (busy) {
    progress(
      `warning: load average ${loadAtStart[0]!.toFixed(1)} on ${cpus().length} CPUs before the first boot; other processes will inflate the times`,
    );
  }
  const version = qemuVersion(options.qemu);
  if (version) progress(`QEMU: ${version}`);
  else progress(`${options.qemu} not found: reporting hvkit alone. Install QEMU with: ${QEMU_INSTALL_HINT}`);

  const repeat = async (config: BootConfig, boot: (label: string) => BootRun | Promise<BootRun>) => {
    const runs: BootRun[] = [];
    for (let i = 1; i <= options.repeat; i++) {
      const label = `${config.id} run ${i}/${options.repeat}`;
      progress(`${label}: starting`);
      const run = await boot(label);
      const count =
        run.instructionsAtBootOk === undefined
          ? ""
          : `, ${(run.instructionsAtBootOk / 1e6).toFixed(1)} M instructions`;
      progress(
        `${label}: ${BOOT_MARKER} at ${run.bootOkSeconds.toFixed(2)} s${count}, powered off at ${run.totalSeconds.toFixed(2)} s`,
      );
      runs.push(run);
    }
    return summarise(config, runs);
  };

  const configs: ConfigResult[] = [];
  if (version) {
    for (const icount of [false, true]) {
      const qemu = {
        binary: options.qemu,
        kernelPath: manifest.kernel.path,
        initrdPath: manifest.initramfs.path,
        cmdline: CMDLINE,
        memoryMiB: MEMORY_MIB,
        icount,
        timeoutMs: options.timeoutMs,
      };
      const config: BootConfig = {
        id: icount ? "qemu-icount" : "qemu-tcg",
        label: icount ? "QEMU TCG -icount shift=0" : "QEMU TCG",
        engine: "qemu",
        firmware: "qemu-default",
        command: [options.qemu, ...qemuArgs({ ...qemu, label: "" }), ...(icount ? ["-qmp", QMP_ARG] : [])]
          .map((a) => (/[\s"'$]/.test(a) ? JSON.stringify(a) : a))
          .join(" "),
      };
      configs.push(await repeat(config, (label) => bootQemu({ ...qemu, label })));
    }
  }
  // Emulation with each firmware; the deprivileging strategies serve the SBI themselves (built-in only).
  const runs: [string, string, string | undefined][] = [];
  for (const strategy of options.strategies) {
    runs.push([strategy, "builtin", undefined]);
    if (strategy === "emulation" && options.opensbi) runs.push([strategy, "opensbi", options.opensbi]);
  }
  for (const [strategy, name, firmwarePath] of runs) {
    const emulationRow = strategy === "emulation";
    const config: BootConfig = {
      id: emulationRow ? `hvkit-${name}` : `hvkit-${strategy}`,
      label: emulationRow
        ? name === "builtin"
          ? "hvkit emulation, built-in SBI"
          : "hvkit emulation, OpenSBI"
        : `hvkit ${strategy}, built-in SBI`,
      engine: "hvkit",
      firmware: name,
      command: `Vm.create(${strategy}, { cmdline: "${CMDLINE}", memory: ${MEMORY_MIB} MiB, firmware: ${firmwarePath ?? '"builtin"'} }), a fresh Node process per boot`,
    };
    configs.push(
      await repeat(config, (label) =>
        bootHvkitInChild({
          label,
          strategy,
          kernelPath: manifest.kernel.path,
          initrdPath: manifest.initramfs.path,
          ...(firmwarePath === undefined ? {} : { firmwarePath }),
          cmdline: CMDLINE,
          memory: MEMORY_MIB * 1024 * 1024,
          timeoutMs: options.timeoutMs,
        }),
      ),
    );
  }

  const result: BootBenchResult = {
    schema: "hvkit.bench.boot",
    version: 1,
    date: new Date().toISOString(),
    host: {
      node: process.version,
      platform: process.platform,
      arch: process.arch,
      cpu: cpus()[0]?.model ?? "unknown",
      cpus: cpus().length,
      loadAverage: { start: loadAtStart, end: loadavg() },
    },
    guest: {
      kernel: {
        path: manifest.kernel.path,
        release: manifest.kernel.release,
        sha256: manifest.kernel.sha256,
      },
      initramfs: { path: manifest.initramfs.path, sha256: manifest.initramfs.sha256 },
      cmdline: CMDLINE,
      memoryMiB: MEMORY_MIB,
      marker: BOOT_MARKER,
    },
    options: {
      repeat: options.repeat,
      timeoutSeconds: options.timeoutMs / 1000,
      opensbi: options.opensbi,
      strategies: options.strategies,
    },
    qemu: version
      ? { available: true, binary: options.qemu, version }
      : { available: false, binary: options.qemu, installHint: QEMU_INSTALL_HINT },
    configs,
    ratios: ratios(configs),
  };
  process.stdout.write(
    `\nLinux boot to ${BOOT_MARKER}, kernel ${manifest.kernel.release}\n\n${formatTable(result)}\n`,
  );
  if (options.json) {
    writeFileSync(options.json, `${JSON.stringify(result, null, 2)}\n`);
    progress(`wrote ${options.json}`);
  }
}

try {
  await main();
} catch (e) {
  if (!(e instanceof BootBenchError)) throw e;
  process.stderr.write(`bench:boot failed [${e.code}]: ${e.message}\n`);
  process.exitCode = 1;
}
