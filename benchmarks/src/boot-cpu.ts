/**
 * CPU time of Debian's boot under one hvkit strategy:
 * `pnpm bench:boot-cpu [strategy]` (default binary-translation; the names of
 * `pnpm bench:boot --strategies`).
 *
 * Boots the cached kernel and initramfs once, in this process, and prints
 * wall time to BOOT-OK and power-off, the main thread's CPU time (the
 * simulation itself; Linux only, read from /proc) and the whole process's
 * (with V8's background compiler threads, which compile translated code).
 * On a shared machine wall time follows the load; CPU time much less so, and
 * two boots started side by side see the same load, which is how the
 * translator's tuning was compared.
 */
import { existsSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { readLinuxManifest } from "@hvkit/guests/node";
import { BootBenchError } from "./boot/errors.js";
import { bootHvkit } from "./boot/hvkit.js";

/** CPU seconds of this process's main thread (utime + stime), or undefined off Linux. */
function mainThreadCpu(): number | undefined {
  const path = `/proc/self/task/${process.pid}/stat`;
  if (!existsSync(path)) return undefined;
  // Fields after the command name (which is in parentheses): utime and stime are the 12th and 13th.
  const fields = readFileSync(path, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
}

const strategy = process.argv.slice(2).find((a) => a !== "--") ?? "binary-translation";
const manifest = readLinuxManifest();
if (!manifest || !existsSync(manifest.kernel.path) || !existsSync(manifest.initramfs.path)) {
  throw new BootBenchError(
    "BOOT_NO_IMAGES",
    "no cached Debian kernel and initramfs; run `pnpm linux:fetch` first",
  );
}
const loadBefore = loadavg()[0]!;
const cpu0 = process.cpuUsage();
const main0 = mainThreadCpu();
const run = bootHvkit({
  label: strategy,
  strategy,
  kernel: readFileSync(manifest.kernel.path),
  initrd: readFileSync(manifest.initramfs.path),
  cmdline: "console=ttyS0",
  memory: 512 << 20,
  firmware: "builtin",
  timeoutMs: 300_000,
  progress: () => {},
});
const cpu = process.cpuUsage(cpu0);
const main1 = mainThreadCpu();
const s = (x: number): string => x.toFixed(2);
process.stdout.write(
  `${strategy}: BOOT-OK ${s(run.bootOkSeconds)} s, power-off ${s(run.totalSeconds)} s wall; ` +
    `CPU main thread ${main0 === undefined || main1 === undefined ? "n/a" : `${s(main1 - main0)} s`}, ` +
    `all threads ${s((cpu.user + cpu.system) / 1e6)} s; ${run.instructions} instructions; ` +
    `load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after\n`,
);
