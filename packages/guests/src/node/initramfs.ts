/** Builds a busybox initramfs from files on disk. */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { buildBusyboxInitramfs, busyboxAppletNames, FALLBACK_APPLETS, gzipInitramfs } from "../initramfs.js";

/** Inputs of `buildInitramfsFromFiles`. */
export interface InitramfsFileOptions {
  /** Path of a statically linked busybox for the guest. */
  busyboxPath: string;
  /** Path of the script /init runs (default: the built-in `DEFAULT_INIT_SCRIPT`). */
  scriptPath?: string;
  /** Gzip the archive (default true). */
  gzip?: boolean;
}

/** The initramfs bytes (gzipped unless `gzip: false`) and what went in. */
export interface InitramfsFileResult {
  /** The archive, ready for -initrd. */
  data: Uint8Array;
  /** Size of the uncompressed cpio archive. */
  cpioSize: number;
  /** Applets linked in /bin. */
  applets: readonly string[];
}

/** Reads busybox (and the script) from disk and builds the initramfs. */
export function buildInitramfsFromFiles(options: InitramfsFileOptions): InitramfsFileResult {
  const busybox = new Uint8Array(readFileSync(options.busyboxPath));
  const applets = busyboxAppletNames(busybox) ?? FALLBACK_APPLETS;
  const cpio = buildBusyboxInitramfs({
    busybox,
    applets,
    ...(options.scriptPath !== undefined ? { script: readFileSync(options.scriptPath, "utf8") } : {}),
  });
  return { data: options.gzip === false ? cpio : gzipInitramfs(cpio), cpioSize: cpio.length, applets };
}

/** Builds the initramfs and writes it to `outPath` (atomically, through `outPath.part`). */
export function writeInitramfsFile(outPath: string, options: InitramfsFileOptions): InitramfsFileResult {
  const result = buildInitramfsFromFiles(options);
  writeFileSync(`${outPath}.part`, result.data);
  renameSync(`${outPath}.part`, outPath);
  return result;
}
