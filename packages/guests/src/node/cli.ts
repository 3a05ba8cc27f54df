/** Command-line front ends: `hvkit-initramfs` and the `pnpm linux:fetch` script. */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { GuestsError } from "../errors.js";
import { writeInitramfsFile } from "./initramfs.js";
import { type LinuxManifest, linuxFetch } from "./linux-fetch.js";

/** Where a command writes; tests pass their own. */
export interface CliIo {
  /** Normal output. */
  out: (line: string) => void;
  /** Diagnostics. */
  err: (line: string) => void;
}

const consoleIo: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

const INITRAMFS_USAGE = `usage: hvkit-initramfs --busybox <path> [--script <file>] [--no-gzip] -o <out>

Builds a deterministic busybox initramfs: /bin/busybox with applet links,
/dev/console, and an /init that mounts proc, sysfs and devtmpfs, runs the
script (default: uname -a; cat /proc/cpuinfo; echo BOOT-OK), prints
EXIT-STATUS=<status> and powers off.`;

/** `hvkit-initramfs`: returns the process exit code. */
export function initramfsMain(argv: readonly string[], io: CliIo = consoleIo): number {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        busybox: { type: "string" },
        script: { type: "string" },
        "no-gzip": { type: "boolean" },
        output: { type: "string", short: "o" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      io.out(INITRAMFS_USAGE);
      return 0;
    }
    if (values.busybox === undefined || values.output === undefined) {
      io.err(INITRAMFS_USAGE);
      return 2;
    }
    const r = writeInitramfsFile(values.output, {
      busyboxPath: values.busybox,
      ...(values.script !== undefined ? { scriptPath: values.script } : {}),
      gzip: !values["no-gzip"],
    });
    io.out(
      `${values.output}: ${r.data.length} bytes (cpio ${r.cpioSize} bytes, ${r.applets.length} applets)`,
    );
    return 0;
  } catch (e) {
    io.err(`hvkit-initramfs: ${e instanceof Error ? e.message : String(e)}`);
    return e instanceof GuestsError ? 1 : 2;
  }
}

const FETCH_USAGE = `usage: pnpm linux:fetch [--refresh] [--script <file>] [--cache <dir>] [--json]

Downloads Debian trixie's riscv64 kernel (the package linux-image-riscv64
depends on) and busybox-static with apt-get, from the mirror the host's apt
configuration names; unpacks them and builds a busybox initramfs, all under
the cache ($HVKIT_CACHE, else $XDG_CACHE_HOME/hvkit, else ~/.cache/hvkit).
A second run with everything cached is offline.

  --refresh        ask apt for the newest packages even if some are cached
  --script <file>  script the initramfs /init runs (default: uname -a;
                   cat /proc/cpuinfo; echo BOOT-OK)
  --cache <dir>    cache root instead of the default
  --json           print the manifest instead of a summary`;

function summary(m: LinuxManifest, manifestPath: string, cached: boolean): string[] {
  return [
    `linux:fetch: ${cached ? "everything cached, nothing fetched" : "done"}`,
    `kernel      ${m.kernel.path}`,
    `  package   ${m.kernel.package} ${m.kernel.packageVersion} (release ${m.kernel.release})`,
    `  format    ${m.kernel.description}`,
    `  modules   ${m.kernel.modulesDir}`,
    `busybox     ${m.busybox.path}`,
    `  version   ${m.busybox.version}, ${m.busybox.applets} applets`,
    `initramfs   ${m.initramfs.path}`,
    `  size      ${m.initramfs.size} bytes gzipped (cpio ${m.initramfs.cpioSize} bytes)`,
    `manifest    ${manifestPath}`,
  ];
}

/** `pnpm linux:fetch`: returns the process exit code. */
export function linuxFetchMain(argv: readonly string[], io: CliIo = consoleIo): number {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        refresh: { type: "boolean" },
        script: { type: "string" },
        cache: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      io.out(FETCH_USAGE);
      return 0;
    }
    const r = linuxFetch({
      log: (l) => io.err(`linux:fetch: ${l}`),
      ...(values.refresh ? { refresh: true } : {}),
      ...(values.script !== undefined ? { script: readFileSync(values.script, "utf8") } : {}),
      ...(values.cache !== undefined ? { cacheDir: values.cache } : {}),
    });
    if (values.json) io.out(JSON.stringify(r.manifest, null, 2));
    else for (const line of summary(r.manifest, r.manifestPath, r.cached)) io.out(line);
    return 0;
  } catch (e) {
    io.err(`linux:fetch: ${e instanceof Error ? e.message : String(e)}`);
    return e instanceof GuestsError ? 1 : 2;
  }
}
