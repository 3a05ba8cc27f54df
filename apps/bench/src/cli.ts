/**
 * The bench command line (commander, as apps/cli):
 *
 *   pnpm bench [options]               run the matrix (default: the default matrix)
 *   pnpm bench:compare A.json B.json   the difference between two runs, regressions flagged
 *   pnpm bench merge A.json B.json -o all.json
 *   pnpm bench report result.json      re-render the Markdown and HTML of a result
 *   pnpm bench schema                  print the result's JSON Schema
 *
 * Exit codes: 0 success; 1 a failed cell (outputs are still written), a
 * regression found by compare, or an unreadable file; 2 a usage error.
 */
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { compareResults, formatComparison } from "./compare.js";
import { BenchError } from "./errors.js";
import { benchWorkloads, DEFAULT_SIZES, type MatrixOptions, planMatrix } from "./matrix.js";
import { progressDisplay } from "./progress.js";
import { htmlReport } from "./report/html.js";
import { markdownReport } from "./report/markdown.js";
import { terminalReport } from "./report/terminal.js";
import { loadResult, mergeResults } from "./results.js";
import { runMatrix } from "./runner.js";
import { type BenchResult, benchJsonSchema } from "./schema.js";
import { benchStrategies, registerStrategyModules } from "./strategies.js";

/** Where results go unless --out says otherwise (git-ignored). */
export const DEFAULT_OUT_DIR = join(dirname(dirname(fileURLToPath(import.meta.url))), "results");

/** Where the command writes and reads. */
export interface BenchIo {
  stdout: (s: string) => void;
  stderr: NodeJS.WriteStream;
  color: boolean;
}

const list = (v: string): string[] =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

function int(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("a whole number");
  return n;
}

function sizeOption(v: string, previous: Record<string, number> = {}): Record<string, number> {
  const out = { ...previous };
  for (const part of list(v)) {
    const m = /^([a-z-]+)=(\d+)$/.exec(part);
    if (!m || Number(m[2]) < 1) throw new InvalidArgumentError(`NAME=N with N >= 1 (got "${part}")`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

/** Write the JSON, Markdown and HTML of a result into `dir`; returns their paths. */
export function writeOutputs(result: BenchResult, dir: string, base?: string): string[] {
  mkdirSync(dir, { recursive: true });
  const name = base ?? `hvkit-bench-${stamp(new Date(result.run.startedAt))}`;
  const files: [string, string][] = [
    [`${name}.json`, `${JSON.stringify(result, null, 2)}\n`],
    [`${name}.md`, markdownReport(result)],
    [`${name}.html`, htmlReport(result)],
  ];
  const paths: string[] = [];
  for (const [file, text] of files) {
    const path = join(dir, file);
    writeFileSync(path, text);
    paths.push(path);
    // latest.* always holds the newest run, for people and scripts that want "the last one".
    if (!base) copyFileSync(path, join(dir, file.replace(name, "latest")));
  }
  return paths;
}

/** The exit code the actions decide (a failed cell, a regression). */
export interface BenchStatus {
  exitCode: number;
}

/** Build the program; `io` lets tests capture the output. */
export function benchProgram(
  io: BenchIo,
  status: BenchStatus = { exitCode: 0 },
  argv: string[] = [],
): Command {
  const program = new Command("bench")
    .description("Compare hvkit's strategies on the same guests: exits, modeled cycles, wall time")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: (s) => io.stderr.write(s) });

  program
    .command("run", { isDefault: true })
    .description(
      "run the benchmark matrix (default: every registered strategy, every workload, the Linux boot)",
    )
    .option(
      "--full",
      "the full matrix: catalogue sizes (forkwait 40,000 in the larger run), 3 repetitions, 3 boots",
    )
    .option("-s, --strategies <names>", "comma-separated strategies (default: every registered one)", list)
    .option(
      "-w, --workloads <names>",
      "comma-separated workloads or groups: nano, macro, boot, all (default all)",
      list,
    )
    .option("--size <name=n,...>", "the size n of a workload (it runs with n and 2n operations)", sizeOption)
    .option("-r, --repetitions <n>", "repetitions of every hvkit-kernel cell (default 3)", int)
    .option("--boot-repetitions <n>", "Linux boots per strategy (default 1)", int)
    .option("-p, --profiles <names>", "cost-model profiles to report (default: every built-in one)", list)
    .option("--no-boot", "leave the Linux boot out")
    .option("--no-qemu", "do not boot QEMU for comparison")
    .option("--timeout <seconds>", "wall-clock limit of one run (default 600)", int)
    .option("-o, --out <dir>", "where to write the JSON, Markdown and HTML", DEFAULT_OUT_DIR)
    .option(
      "--with <modules>",
      "comma-separated TypeScript/JavaScript modules whose exported strategy definitions are registered too (a strategy the CLI does not ship yet)",
      list,
    )
    .option("--list", "list the strategies, workloads and default sizes, and exit")
    .action(async (opts) => {
      const modules: string[] = opts.with ?? [];
      await registerStrategyModules(modules);
      if (opts.list) {
        io.stdout(listing());
        return;
      }
      const options: MatrixOptions = {
        ...(opts.full ? { full: true } : {}),
        ...(opts.strategies ? { strategies: opts.strategies } : {}),
        ...(opts.workloads ? { workloads: opts.workloads } : {}),
        ...(opts.size ? { sizes: opts.size } : {}),
        ...(opts.repetitions !== undefined ? { repetitions: opts.repetitions } : {}),
        ...(opts.bootRepetitions !== undefined ? { bootRepetitions: opts.bootRepetitions } : {}),
        ...(opts.profiles ? { profiles: opts.profiles } : {}),
        ...(opts.boot === false ? { boot: false } : {}),
        ...(opts.qemu === false ? { qemu: false } : {}),
        ...(opts.timeout !== undefined ? { timeoutSeconds: opts.timeout } : {}),
        modules,
      };
      const plan = planMatrix(options);
      io.stderr.write(
        `hvkit bench: ${plan.matrix} matrix: ${plan.strategies.length} strategies (${plan.strategies.map((s) => s.name).join(", ")}), ` +
          `${plan.workloads.length} workloads x ${plan.repetitions} repetitions${plan.boot ? `, Linux boot x ${plan.bootRepetitions}` : ""}, ` +
          `profiles ${plan.profiles.map((p) => p.name).join(", ")}\n`,
      );
      const display = progressDisplay(io.stderr);
      let result: BenchResult;
      try {
        result = await runMatrix(plan, display, argv);
      } finally {
        display.stop();
      }
      io.stdout(`${terminalReport(result, io.color)}\n`);
      const paths = writeOutputs(result, resolve(opts.out));
      io.stdout(
        `\nwrote ${paths.join("\n      ")}\n(latest.json, latest.md and latest.html in the same directory)\n`,
      );
      io.stdout(`${(result.run.durationSeconds / 60).toFixed(1)} minutes\n`);
      if (result.failures > 0) {
        io.stderr.write(`hvkit bench: ${result.failures} cell(s) failed; see above\n`);
        status.exitCode = 1;
      }
    });

  program
    .command("compare")
    .description("show the difference between two results, flagging regressions beyond the noise")
    .argument(
      "<baseline>",
      "the earlier result (a .json from pnpm bench; FILE#N picks result N of a merge file)",
    )
    .argument("<candidate>", "the later result")
    .option(
      "--threshold <percent>",
      "least relative change that counts for wall-time figures (default 5)",
      Number,
      5,
    )
    .option("--json", "print the comparison as JSON")
    .action((a: string, b: string, opts: { threshold: number; json?: boolean }) => {
      const comparison = compareResults(loadResult(a), loadResult(b), { threshold: opts.threshold / 100 });
      io.stdout(opts.json ? `${JSON.stringify(comparison, null, 2)}\n` : `${formatComparison(comparison)}\n`);
      if (comparison.regressions > 0) status.exitCode = 1;
    });

  program
    .command("merge")
    .description("put several results (other machines, other commits) into one hvkit.bench-collection file")
    .argument("<files...>", "results or merge files")
    .requiredOption("-o, --output <file>", "the merged file")
    .action((files: string[], opts: { output: string }) => {
      const merged = mergeResults(files.flatMap((f) => loadResult(f, { allowCollection: true })));
      writeFileSync(opts.output, `${JSON.stringify(merged, null, 2)}\n`);
      io.stdout(`wrote ${opts.output} (${merged.results.length} results)\n`);
    });

  program
    .command("report")
    .description("write the Markdown summary and HTML report of a result again")
    .argument("<result>", "a .json from pnpm bench")
    .option("-o, --out <dir>", "where to write (default: next to the result)")
    .action((file: string, opts: { out?: string }) => {
      const result = loadResult(file);
      const dir = opts.out ?? dirname(resolve(file));
      const base = file.replace(/^.*\//, "").replace(/\.json$/, "");
      mkdirSync(dir, { recursive: true });
      const md = join(dir, `${base}.md`);
      const html = join(dir, `${base}.html`);
      writeFileSync(md, markdownReport(result));
      writeFileSync(html, htmlReport(result));
      io.stdout(`wrote ${md}\n      ${html}\n`);
    });

  program
    .command("schema")
    .description("print the JSON Schema of a result")
    .action(() => io.stdout(`${JSON.stringify(benchJsonSchema(), null, 2)}\n`));

  return program;
}

function listing(): string {
  const lines = ["strategies (registered):"];
  const strategies = benchStrategies();
  const width = Math.max(...strategies.map((s) => s.name.length));
  for (const s of strategies) {
    lines.push(`  ${s.name.padEnd(width)}  cpu ${s.techniques.cpu}, memory ${s.techniques.memory}`);
  }
  lines.push("workloads (n: default size; each runs with n and 2n operations):");
  for (const w of benchWorkloads()) {
    lines.push(
      `  ${w.name.padEnd(12)} ${w.kind.padEnd(6)} n=${String(DEFAULT_SIZES[w.name]).padEnd(6)} ${w.description}`,
    );
  }
  lines.push(
    "  linux-boot   boot   Debian's kernel + busybox initramfs to BOOT-OK (pnpm setup:bench fetches it)",
  );
  return `${lines.join("\n")}\n`;
}

/** Run the command line; resolves with the exit code. */
export async function main(argv: string[], io: BenchIo): Promise<number> {
  const args = argv[0] === "--" ? argv.slice(1) : argv;
  const status: BenchStatus = { exitCode: 0 };
  const program = benchProgram(io, status, args);
  try {
    await program.parseAsync(args, { from: "user" });
    return status.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof BenchError) {
      io.stderr.write(`hvkit bench: ${e.code}: ${e.message}\n`);
      return e.code === "BENCH_BAD_OPTION" ? 2 : 1;
    }
    throw e;
  }
}
