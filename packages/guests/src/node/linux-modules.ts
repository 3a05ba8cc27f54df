/**
 * Debian's kernel modules for an initramfs: Debian ships them xz-compressed
 * (.ko.xz); the kernel could decompress them itself (MODULE_DECOMPRESS), but
 * busybox insmod hands the file to init_module(2) as it is, so they are
 * decompressed here with the host's `xz -d` and stored plain.
 *
 * Debian signs its modules, and checking a signature in software is most of
 * the cost of loading a module in a simulated guest: measured under the
 * emulation strategy, insmod of ext4.ko (7 MB) took 23 s of guest time
 * signed and 2.1 s with the signature removed. The kernel does not enforce
 * signatures (MODULE_SIG_FORCE is off), so by default the appended
 * signature is dropped; the kernel then loads the module and notes "module
 * verification failed ... tainting kernel". The module's code is unchanged.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { GuestsError } from "../errors.js";
import { buildBusyboxInitramfs, gzipInitramfs, type InitramfsModule } from "../initramfs.js";
import type { LinuxManifest } from "./linux-fetch.js";

/** virtio over MMIO and the virtio-blk driver (/dev/vda), in load order. */
export const LINUX_VIRTIO_BLK_MODULES = ["drivers/virtio/virtio_mmio", "drivers/block/virtio_blk"] as const;
/** ext4, which also mounts ext2 (CONFIG_EXT4_USE_FOR_EXT2), with its dependencies (crc32c for its checksums), in load order. */
export const LINUX_EXT4_MODULES = [
  "lib/crc16",
  "crypto/crc32c_generic",
  "fs/mbcache",
  "fs/jbd2/jbd2",
  "fs/ext4/ext4",
] as const;
/** The virtio entropy driver (/dev/hwrng); needs virtio_mmio. */
export const LINUX_VIRTIO_RNG_MODULES = ["drivers/char/hw_random/virtio-rng"] as const;

/** The marker scripts/sign-file appends after a module's signature. */
const MODULE_SIG_MAGIC = "~Module signature appended~\n";
/** struct module_signature: algo, hash, id_type, signer_len, key_id_len, 3 bytes of padding, __be32 sig_len. */
const MODULE_SIGNATURE_BYTES = 12;

/**
 * A module without its appended signature (the same bytes when it has
 * none): what precedes the signature, the module_signature record and the
 * magic string.
 */
export function stripModuleSignature(ko: Uint8Array): Uint8Array {
  const magic = MODULE_SIG_MAGIC;
  if (ko.length < magic.length + MODULE_SIGNATURE_BYTES) return ko;
  for (let i = 0; i < magic.length; i++) {
    if (ko[ko.length - magic.length + i] !== magic.charCodeAt(i)) return ko;
  }
  const info = ko.length - magic.length - MODULE_SIGNATURE_BYTES;
  const sigLen = new DataView(ko.buffer, ko.byteOffset + info + 8, 4).getUint32(0, false);
  if (sigLen > info) return ko;
  return ko.subarray(0, info - sigLen);
}

/** Options of {@link readLinuxModules}. */
export interface ReadLinuxModulesOptions {
  /** Keep Debian's module signatures (slow to check in a simulated guest; see above). Default false. */
  keepSignatures?: boolean;
}

/**
 * Reads modules by their path under `<modulesDir>/kernel` without the
 * extension ("drivers/block/virtio_blk"), decompressing .ko.xz with `xz -dc`.
 * GUESTS_BAD_PATH when one is missing, GUESTS_TOOL_MISSING without xz.
 */
export function readLinuxModules(
  modulesDir: string,
  paths: readonly string[],
  options: ReadLinuxModulesOptions = {},
): InitramfsModule[] {
  const finish = (ko: Uint8Array): Uint8Array => (options.keepSignatures ? ko : stripModuleSignature(ko));
  return paths.map((path) => {
    const plain = join(modulesDir, "kernel", `${path}.ko`);
    const name = basename(path);
    if (existsSync(plain)) return { name, data: finish(new Uint8Array(readFileSync(plain))) };
    const xz = `${plain}.xz`;
    if (!existsSync(xz)) {
      throw new GuestsError(
        "GUESTS_BAD_PATH",
        `no module ${path} (.ko or .ko.xz) under ${join(modulesDir, "kernel")}; is the kernel built with it as a module?`,
      );
    }
    const r = spawnSync("xz", ["-dc", xz], { maxBuffer: 256 * 1024 * 1024 });
    if (r.error !== undefined) {
      throw new GuestsError(
        "GUESTS_TOOL_MISSING",
        `xz is not installed: Debian's modules are xz-compressed (apt-get install xz-utils) (${r.error.message})`,
      );
    }
    if (r.status !== 0) {
      throw new GuestsError("GUESTS_BAD_PATH", `xz -dc ${xz} failed: ${r.stderr.toString().trim()}`);
    }
    return { name, data: finish(new Uint8Array(r.stdout)) };
  });
}

/** Options of {@link buildLinuxInitramfs}. */
export interface LinuxInitramfsOptions {
  /** The script /init runs after loading the modules. */
  script: string;
  /** Module paths under the kernel's modules directory, in load order (e.g. {@link LINUX_VIRTIO_BLK_MODULES}). */
  modules?: readonly string[];
  /** Gzip the archive (default true). */
  gzip?: boolean;
  /** Keep the modules' signatures (default false: see {@link readLinuxModules}). */
  keepSignatures?: boolean;
}

/**
 * A busybox initramfs for the cached Debian kernel (from `pnpm linux:fetch`)
 * with its modules: /init loads them, then runs the script.
 */
export function buildLinuxInitramfs(manifest: LinuxManifest, options: LinuxInitramfsOptions): Uint8Array {
  const busybox = new Uint8Array(readFileSync(manifest.busybox.path));
  const cpio = buildBusyboxInitramfs({
    busybox,
    script: options.script,
    modules: readLinuxModules(manifest.kernel.modulesDir, options.modules ?? [], {
      keepSignatures: options.keepSignatures === true,
    }),
  });
  return options.gzip === false ? cpio : gzipInitramfs(cpio);
}
