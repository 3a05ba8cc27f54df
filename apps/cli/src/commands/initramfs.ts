/**
 * `hvkit initramfs --busybox FILE [--script FILE] -o OUT`: a deterministic
 * busybox initramfs for `hvkit run --initrd`, built by @hvkit/guests (the
 * same layout as `pnpm linux:fetch` and hvkit-initramfs: /init mounts the
 * kernel filesystems, runs the script, prints EXIT-STATUS=<n>, powers off).
 * Files go through the CLI's {@link Io}, so it runs in-process in tests.
 */
import {
  buildBusyboxInitramfs,
  busyboxAppletNames,
  EM_RISCV,
  FALLBACK_APPLETS,
  gzipInitramfs,
  inspectKernelImage,
} from "@hvkit/guests";
import { CliError, type Io } from "../io.js";

/** Options of {@link runInitramfs}. */
export interface InitramfsOptions {
  /** Path of a statically linked riscv64 busybox. */
  busybox: string;
  /** Path of the shell script /init runs (default: uname -a; cat /proc/cpuinfo; echo BOOT-OK). */
  script?: string;
  /** Output path. */
  output: string;
  /** Gzip the archive (default true). */
  gzip?: boolean;
}

/** Build the archive and write it; prints one summary line. */
export function runInitramfs(options: InitramfsOptions, io: Io): void {
  const busybox = io.readFile(options.busybox);
  const kind = inspectKernelImage(busybox);
  if (kind.format !== "elf" || kind.machine !== EM_RISCV) {
    const what = kind.format === "elf" ? `an ELF file for e_machine ${kind.machine}` : "not an ELF file";
    throw new CliError(
      "CLI_NOT_RISCV",
      `${options.busybox}: ${what}; the guest needs a statically linked riscv64 busybox (Debian's busybox-static for riscv64; pnpm linux:fetch caches one)`,
    );
  }
  const applets = busyboxAppletNames(busybox) ?? FALLBACK_APPLETS;
  const cpio = buildBusyboxInitramfs({
    busybox,
    applets,
    ...(options.script !== undefined
      ? { script: new TextDecoder().decode(io.readFile(options.script)) }
      : {}),
  });
  const data = options.gzip === false ? cpio : gzipInitramfs(cpio);
  io.writeFile(options.output, data);
  io.stdout(
    `${options.output}: ${data.length} bytes${options.gzip === false ? "" : ` (cpio ${cpio.length} bytes)`}, ${applets.length} applets\n`,
  );
}
