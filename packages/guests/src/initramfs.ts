/**
 * A minimal busybox initramfs: /bin/busybox with applet symlinks, /dev/console,
 * and an /init that mounts the kernel filesystems, loads the kernel modules
 * it carries (in /lib/modules, in order), runs a script chosen at build
 * time, reports its exit status on the console and powers off.
 */
import { gzipSync } from "fflate";
import { type CpioEntry, type CpioWriteOptions, writeCpio } from "./cpio.js";
import { GuestsError } from "./errors.js";

/** The script run when none is given: identify the machine, then print the marker tests wait for. */
export const DEFAULT_INIT_SCRIPT = "uname -a\ncat /proc/cpuinfo\necho BOOT-OK\n";

/** Where the build-time script lives in the initramfs. */
export const INIT_SCRIPT_PATH = "/etc/hvkit/script.sh";

/**
 * Applets linked when the busybox binary's own applet table cannot be found:
 * what /init and typical smoke-test scripts use.
 */
export const FALLBACK_APPLETS: readonly string[] = (
  "[ cat chmod cp date dd df dmesg echo env false find free grep halt head hexdump insmod ln ls " +
  "lsmod mkdir mknod modprobe mount mv od poweroff printf ps reboot rm sed sh sleep stat sync tail " +
  "test true umount uname uptime wc"
).split(" ");

/** Where the initramfs keeps the kernel modules /init loads. */
export const INIT_MODULE_DIR = "/lib/modules";

/** A kernel module for the initramfs: /init loads it with insmod (uncompressed: busybox insmod reads it as is). */
export interface InitramfsModule {
  /** File name without ".ko", e.g. "virtio_blk". */
  name: string;
  /** The uncompressed .ko. */
  data: Uint8Array;
}

/**
 * The /init program: PID 1, run by the kernel with only HOME and TERM set.
 * `modules` are loaded in the order given, after the kernel filesystems are
 * mounted (so devtmpfs shows the devices they bind); a failure is reported
 * and the script runs anyway.
 */
export function initProgram(modules: readonly string[] = []): string {
  return [
    "#!/bin/sh",
    "# hvkit initramfs: mount the kernel filesystems, run the build-time script, power off.",
    "export PATH=/bin",
    "mount -t proc proc /proc",
    "mount -t sysfs sysfs /sys",
    "mount -t devtmpfs devtmpfs /dev",
    ...modules.map((m) => `insmod ${INIT_MODULE_DIR}/${m}.ko || echo "INSMOD-FAILED ${m}"`),
    `sh ${INIT_SCRIPT_PATH}`,
    'echo "EXIT-STATUS=$?"',
    // -f: call reboot(2) directly; there is no init daemon to ask.
    "poweroff -f",
    "",
  ].join("\n");
}

/**
 * Finds busybox's applet name table in a busybox binary: the sorted,
 * NUL-separated names starting "[\0[[\0" that busybox matches argv[0]
 * against. Returns undefined when the table is absent (a busybox built
 * without "[" and "[[", or not a busybox at all).
 */
export function busyboxAppletNames(binary: Uint8Array): string[] | undefined {
  const start = [0x5b, 0, 0x5b, 0x5b, 0];
  outer: for (
    let i = binary.indexOf(0x5b);
    i !== -1 && i + start.length <= binary.length;
    i = binary.indexOf(0x5b, i + 1)
  ) {
    for (let k = 0; k < start.length; k++) if (binary[i + k] !== start[k]) continue outer;
    const names: string[] = [];
    let at = i;
    for (;;) {
      let end = at;
      while (end < binary.length && binary[end] !== 0) end++;
      if (end === at || end >= binary.length) break;
      const name = String.fromCharCode(...binary.subarray(at, end));
      if (!/^[[\]a-z0-9_.-]{1,32}$/.test(name)) break;
      names.push(name);
      at = end + 1;
    }
    // A real table has hundreds of names; a stray "[\0[[\0" in data has few.
    if (names.length >= 16) return names.filter((n) => n !== "busybox");
  }
  return undefined;
}

/** What goes into a busybox initramfs. */
export interface BusyboxInitramfsOptions {
  /** A statically linked busybox for the guest's architecture. */
  busybox: Uint8Array;
  /** Shell script run by /init before powering off (default `DEFAULT_INIT_SCRIPT`). */
  script?: string;
  /** Applets to link in /bin (default: every applet in the binary's table, else `FALLBACK_APPLETS`). */
  applets?: readonly string[];
  /** Kernel modules /init loads before the script, in this order (e.g. virtio_mmio, virtio_blk). */
  modules?: readonly InitramfsModule[];
  /** More members (test programs, data); they may not replace the layout's own. */
  extra?: readonly CpioEntry[];
}

/** The members of a busybox initramfs, unsorted (`writeCpio` sorts). */
export function busyboxInitramfsEntries(options: BusyboxInitramfsOptions): CpioEntry[] {
  const applets = options.applets ?? busyboxAppletNames(options.busybox) ?? FALLBACK_APPLETS;
  const modules = options.modules ?? [];
  for (const m of modules) {
    if (!/^[A-Za-z0-9_-]+$/.test(m.name)) {
      throw new GuestsError(
        "GUESTS_BAD_OPTION",
        `module name ${JSON.stringify(m.name)} must be a file name without ".ko" (letters, digits, _ and -)`,
      );
    }
  }
  const entries: CpioEntry[] = [
    { type: "dir", path: "bin" },
    { type: "dir", path: "dev" },
    // The kernel opens /dev/console for PID 1 before /init can mount devtmpfs.
    { type: "char", path: "dev/console", major: 5, minor: 1, mode: 0o600 },
    { type: "dir", path: "etc" },
    { type: "dir", path: "etc/hvkit" },
    { type: "dir", path: "proc" },
    { type: "dir", path: "root", mode: 0o700 },
    { type: "dir", path: "sys" },
    { type: "dir", path: "tmp", mode: 0o1777 },
    { type: "file", path: "bin/busybox", data: options.busybox, mode: 0o755 },
    { type: "file", path: "init", data: initProgram(modules.map((m) => m.name)), mode: 0o755 },
    { type: "file", path: INIT_SCRIPT_PATH, data: options.script ?? DEFAULT_INIT_SCRIPT, mode: 0o755 },
  ];
  if (modules.length > 0) {
    entries.push({ type: "dir", path: "lib" }, { type: "dir", path: INIT_MODULE_DIR.slice(1) });
    for (const m of modules) {
      entries.push({
        type: "file",
        path: `${INIT_MODULE_DIR.slice(1)}/${m.name}.ko`,
        data: m.data,
        mode: 0o644,
      });
    }
  }
  for (const applet of new Set(applets)) {
    if (applet === "busybox") continue;
    if (applet.includes("/") || applet === "" || applet === "." || applet === "..") {
      throw new GuestsError("GUESTS_BAD_OPTION", `applet name ${JSON.stringify(applet)} is not a file name`);
    }
    entries.push({ type: "symlink", path: `bin/${applet}`, target: "busybox" });
  }
  return [...entries, ...(options.extra ?? [])];
}

/** Builds the uncompressed newc archive of a busybox initramfs (deterministic, see `writeCpio`). */
export function buildBusyboxInitramfs(
  options: BusyboxInitramfsOptions,
  cpio: CpioWriteOptions = {},
): Uint8Array {
  return writeCpio(busyboxInitramfsEntries(options), cpio);
}

/**
 * Gzips an archive for the kernel's initramfs unpacker (CONFIG_RD_GZIP).
 * The gzip header's mtime is 0 and no file name is stored, so output depends
 * only on the input and the level.
 */
export function gzipInitramfs(
  archive: Uint8Array,
  level: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 = 9,
): Uint8Array {
  return gzipSync(archive, { level, mtime: 0 });
}
