/**
 * Fetches Debian's riscv64 kernel and busybox-static with apt-get download
 * (through a private apt configuration, so the host's apt state is never
 * touched), unpacks them into a cache outside the repository and builds a
 * busybox initramfs. Everything is keyed on what is already in the cache, so
 * a second run is offline and takes well under a second.
 */
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { GuestsError } from "../errors.js";
import {
  buildBusyboxInitramfs,
  busyboxAppletNames,
  DEFAULT_INIT_SCRIPT,
  FALLBACK_APPLETS,
  gzipInitramfs,
} from "../initramfs.js";
import { describeKernelImage, inspectKernelImage } from "../kernel-image.js";
import { hostCodename, pickDebianMirror, readHostAptSources } from "./apt-sources.js";

/** Debian suite the guest packages come from (the first release with official riscv64). */
export const GUEST_SUITE = "trixie";
/** Debian architecture of the guest. */
export const GUEST_ARCH = "riscv64";
/** Metapackage that depends on the current versioned kernel package. */
export const KERNEL_METAPACKAGE = "linux-image-riscv64";
/** Statically linked busybox package. */
export const BUSYBOX_PACKAGE = "busybox-static";
/** Keyring with the Debian archive keys; on bookworm (2023.3+deb12u2) it includes the trixie keys. */
export const DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";
/** Bump when the manifest's shape or the initramfs layout changes, so old caches are rebuilt. */
export const MANIFEST_VERSION = 1;

/** What `linuxFetch` wrote, as stored in `<cache>/linux/manifest.json`. */
export interface LinuxManifest {
  /** Shape version of this file. */
  manifestVersion: number;
  /** Debian suite and architecture the packages came from. */
  suite: string;
  /** Debian architecture. */
  arch: string;
  /** The kernel. */
  kernel: {
    /** Versioned binary package, e.g. "linux-image-6.12.38+deb13-riscv64". */
    package: string;
    /** Its Debian version. */
    packageVersion: string;
    /** Kernel release (`uname -r`), also the modules directory name. */
    release: string;
    /** The bootable image (boot/vmlinux-<release> in the unpacked package). */
    path: string;
    /** sha256 of `path`, hex. */
    sha256: string;
    /** Size in bytes. */
    size: number;
    /** Format from `inspectKernelImage` ("riscv-image", "efi-zboot", "gzip", "elf", "unknown"). */
    format: string;
    /** Human description of the format and, for an Image, its header. */
    description: string;
    /** Image header text_offset, when the format has one. */
    textOffset?: number;
    /** Image header image_size, when the format has one. */
    imageSize?: number;
    /** The kernel's config file. */
    config: string;
    /** Modules of this release (…/lib/modules/<release>); .ko files are xz-compressed. */
    modulesDir: string;
    /** The whole unpacked package. */
    tree: string;
  };
  /** The busybox binary. */
  busybox: {
    /** Debian package name. */
    package: string;
    /** Its Debian version. */
    packageVersion: string;
    /** The banner embedded in the binary, e.g. "BusyBox v1.37.0 (Debian 1:1.37.0-6+b9)". */
    version: string;
    /** Path of the riscv64 binary. */
    path: string;
    /** sha256 of `path`, hex. */
    sha256: string;
    /** Applets linked in the initramfs. */
    applets: number;
  };
  /** The gzipped initramfs. */
  initramfs: {
    /** Path of the .cpio.gz. */
    path: string;
    /** sha256 of `path`, hex. */
    sha256: string;
    /** Compressed size in bytes. */
    size: number;
    /** Size of the cpio archive before compression. */
    cpioSize: number;
    /** sha256 of the script /init runs, hex (a different script rebuilds the initramfs). */
    scriptSha256: string;
  };
  /** The downloaded packages. */
  debs: { kernel: string; busybox: string };
}

/** Options of `linuxFetch`. */
export interface LinuxFetchOptions {
  /** Cache root (default `defaultCacheDir()`). */
  cacheDir?: string;
  /** Script /init runs (default `DEFAULT_INIT_SCRIPT`). */
  script?: string;
  /** Ask apt again for the newest packages even if some are cached. */
  refresh?: boolean;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Environment consulted for HVKIT_CACHE, XDG_CACHE_HOME, HVKIT_DEBIAN_MIRROR (default process.env). */
  env?: Record<string, string | undefined>;
}

/** Result of `linuxFetch`. */
export interface LinuxFetchResult {
  /** The manifest, also written to `manifestPath`. */
  manifest: LinuxManifest;
  /** Where the manifest is. */
  manifestPath: string;
  /** True when everything was already cached and nothing was rebuilt. */
  cached: boolean;
}

/** `$HVKIT_CACHE`, else `$XDG_CACHE_HOME/hvkit`, else `~/.cache/hvkit`. */
export function defaultCacheDir(env: Record<string, string | undefined> = process.env): string {
  if (env.HVKIT_CACHE) return env.HVKIT_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "hvkit");
}

/** Where `linuxFetch` keeps its manifest under a cache root. */
export function linuxManifestPath(cacheDir: string): string {
  return join(cacheDir, "linux", "manifest.json");
}

/** Reads the manifest under a cache root, or undefined when there is none. */
export function readLinuxManifest(cacheDir: string = defaultCacheDir()): LinuxManifest | undefined {
  try {
    return JSON.parse(readFileSync(linuxManifestPath(cacheDir), "utf8")) as LinuxManifest;
  } catch {
    return undefined;
  }
}

const sha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");
const sha256File = (path: string) => sha256(readFileSync(path));

function fail(message: string): never {
  throw new GuestsError("GUESTS_FETCH_FAILED", message);
}

function run(cmd: string, args: readonly string[], cwd?: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive", LC_ALL: "C" },
    maxBuffer: 64 * 1024 * 1024,
  });
}

interface RunContext {
  /** Working directory. */
  cwd?: string;
  /** Appended to the error message on failure. */
  hint?: string;
  /** Receives the command's "W:" lines (apt's warnings) when it succeeds. */
  warn?: (line: string) => void;
}

function mustRun(cmd: string, args: readonly string[], what: string, ctx: RunContext = {}): string {
  const hint = ctx.hint ?? "";
  const r = run(cmd, args, ctx.cwd);
  if (r.error !== undefined) fail(`${what}: cannot run ${cmd} (${r.error.message})${hint}`);
  if (r.status !== 0) {
    const output = `${r.stdout}${r.stderr}`.trim().split("\n").slice(-15).join("\n");
    // The private -o options would drown the message; show what was asked for.
    const shown = args.filter((a, i) => a !== "-o" && args[i - 1] !== "-o").join(" ");
    fail(`${what}: ${cmd} ${shown} exited with ${r.status}\n${output}${hint}`);
  }
  for (const line of r.stderr.split("\n")) if (line.startsWith("W:")) ctx.warn?.(`${cmd}: ${line}`);
  return r.stdout;
}

/** dpkg-deb -f: the control fields of a .deb. */
function debField(deb: string, field: string): string {
  return mustRun("dpkg-deb", ["-f", deb, field], `reading ${field} of ${basename(deb)}`).trim();
}

/** Unpacks a .deb into `dest` once: into a temporary sibling first, renamed when complete. */
function extractOnce(deb: string, dest: string): void {
  if (existsSync(dest)) return;
  const part = `${dest}.part`;
  rmSync(part, { recursive: true, force: true });
  mkdirSync(part, { recursive: true });
  mustRun("dpkg-deb", ["-x", deb, part], `unpacking ${basename(deb)}`);
  renameSync(part, dest);
}

function writeAtomic(path: string, data: Uint8Array | string): void {
  writeFileSync(`${path}.part`, data);
  renameSync(`${path}.part`, path);
}

const KERNEL_DEB = /^linux-image-\d[^_]*-riscv64_[^_]+_riscv64\.deb$/;
const BUSYBOX_DEB = /^busybox-static_[^_]+_riscv64\.deb$/;

/** The single cached deb matching `pattern`, undefined when none, an error when several. */
function cachedDeb(debsDir: string, pattern: RegExp): string | undefined {
  const found = existsSync(debsDir) ? readdirSync(debsDir).filter((n) => pattern.test(n)) : [];
  if (found.length > 1) {
    fail(
      `several cached packages in ${debsDir} (${found.join(", ")}); delete the ones you do not want, or run with --refresh`,
    );
  }
  return found.length === 1 ? join(debsDir, found[0]!) : undefined;
}

/** The versioned kernel package the metapackage's Depends names, e.g. ["linux-image-6.12.38+deb13-riscv64", "6.12.38-1"]. */
export function kernelDependency(aptCacheShow: string): { name: string; version?: string } | undefined {
  const depends = /^Depends:\s*(.*)$/m.exec(aptCacheShow)?.[1] ?? "";
  for (const alt of depends.split(/[,|]/)) {
    const m = /^\s*(linux-image-\d\S*-riscv64)(?::\S+)?\s*(?:\(\s*=\s*([^)\s]+)\s*\))?/.exec(alt);
    if (m !== null) return m[2] === undefined ? { name: m[1]! } : { name: m[1]!, version: m[2] };
  }
  return undefined;
}

/** Resolves and downloads both packages with apt-get through a private configuration; returns their paths in `debsDir`. */
function aptDownload(debsDir: string, env: Record<string, string | undefined>, log: (l: string) => void) {
  const uid = process.getuid?.() ?? 0;
  const byHand = `put the ${GUEST_ARCH} .debs of ${KERNEL_METAPACKAGE}'s kernel and of ${BUSYBOX_PACKAGE} in ${debsDir}`;
  if (run("apt-get", ["--version"]).error !== undefined) {
    fail(
      `apt-get is not available: linux:fetch needs a Debian-family host to download ${GUEST_SUITE} packages; ` +
        `elsewhere, ${byHand} by hand and run it again`,
    );
  }
  const mirror =
    env.HVKIT_DEBIAN_MIRROR?.replace(/\/+$/, "") || pickDebianMirror(readHostAptSources(), hostCodename());
  if (mirror === undefined) {
    fail(
      "no Debian archive found in the host's apt sources (/etc/apt/sources.list, sources.list.d/*.list, *.sources); " +
        `set HVKIT_DEBIAN_MIRROR to a Debian archive URI, or ${byHand} by hand`,
    );
  }
  const hint =
    `\nCheck that this machine can reach ${mirror} (taken from the host's apt sources; HVKIT_DEBIAN_MIRROR ` +
    `overrides it), or ${byHand} by hand.` +
    (uid === 0
      ? ""
      : `\napt-get ran as uid ${uid}; if the failure is about permissions, run as root (sudo -E pnpm linux:fetch).`);
  const signedBy = existsSync(DEBIAN_KEYRING) ? ` signed-by=${DEBIAN_KEYRING}` : "";
  log(`apt: ${GUEST_SUITE}/main ${GUEST_ARCH} from the host's Debian mirror ${mirror}`);

  const tmp = mkdtempSync(join(tmpdir(), "hvkit-apt-"));
  try {
    // apt's downloader drops to the _apt user when run as root; it must reach these directories.
    chmodSync(tmp, 0o755);
    const sources = join(tmp, "sources.list");
    writeFileSync(sources, `deb [arch=${GUEST_ARCH}${signedBy}] ${mirror} ${GUEST_SUITE} main\n`);
    for (const d of ["lists/partial", "cache/archives/partial", "preferences.d", "download"]) {
      mkdirSync(join(tmp, d), { recursive: true });
    }
    const aptUser = uid === 0 ? run("id", ["-u", "_apt"]) : undefined;
    if (aptUser?.status === 0) chownSync(join(tmp, "download"), Number(aptUser.stdout.trim()), 0);
    const apt: RunContext = { hint, warn: (w) => log(w) };
    const o = [
      `Dir::Etc::SourceList=${sources}`,
      "Dir::Etc::SourceParts=-",
      `Dir::Etc::PreferencesParts=${join(tmp, "preferences.d")}`,
      `Dir::Etc::Preferences=${join(tmp, "preferences")}`,
      `Dir::State::Lists=${join(tmp, "lists")}`,
      "Dir::State::status=/dev/null",
      `Dir::Cache=${join(tmp, "cache")}`,
      `APT::Architecture=${GUEST_ARCH}`,
      `APT::Architectures=${GUEST_ARCH}`,
      "Acquire::Languages=none",
    ].flatMap((opt) => ["-o", opt]);

    mustRun(
      "apt-get",
      [...o, "-q", "--error-on=any", "update"],
      `apt-get update for ${GUEST_SUITE}/${GUEST_ARCH}`,
      apt,
    );
    const show = mustRun(
      "apt-cache",
      [...o, "show", "--no-all-versions", KERNEL_METAPACKAGE],
      "apt-cache show",
      apt,
    );
    const dep = kernelDependency(show);
    if (dep === undefined)
      fail(`${KERNEL_METAPACKAGE} in ${GUEST_SUITE} depends on no linux-image-*-riscv64 package:\n${show}`);
    const kernelSpec = dep.version === undefined ? dep.name : `${dep.name}=${dep.version}`;
    log(`apt: ${KERNEL_METAPACKAGE} -> ${kernelSpec}; downloading it and ${BUSYBOX_PACKAGE}`);
    const dl = join(tmp, "download");
    mustRun("apt-get", [...o, "-q", "download", kernelSpec, BUSYBOX_PACKAGE], "apt-get download", {
      ...apt,
      cwd: dl,
    });

    const got = readdirSync(dl);
    const kernel = got.find((n) => KERNEL_DEB.test(n));
    const busybox = got.find((n) => BUSYBOX_DEB.test(n));
    if (kernel === undefined || busybox === undefined)
      fail(`apt-get download left ${got.join(", ")} in ${dl}`);
    mkdirSync(debsDir, { recursive: true });
    // Only the fresh pair stays, so later runs find exactly one of each.
    for (const old of readdirSync(debsDir)) {
      if ((KERNEL_DEB.test(old) && old !== kernel) || (BUSYBOX_DEB.test(old) && old !== busybox)) {
        rmSync(join(debsDir, old));
      }
    }
    for (const name of [kernel, busybox]) {
      copyFileSync(join(dl, name), join(debsDir, `${name}.part`));
      renameSync(join(debsDir, `${name}.part`), join(debsDir, name));
    }
    return { kernel: join(debsDir, kernel), busybox: join(debsDir, busybox) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Whether every file the manifest names is present and unchanged, and built from `scriptSha256`. */
function manifestValid(m: LinuxManifest | undefined, scriptSha256: string): m is LinuxManifest {
  if (m?.manifestVersion !== MANIFEST_VERSION || m.initramfs?.scriptSha256 !== scriptSha256) return false;
  try {
    return (
      sha256File(m.kernel.path) === m.kernel.sha256 &&
      sha256File(m.busybox.path) === m.busybox.sha256 &&
      sha256File(m.initramfs.path) === m.initramfs.sha256 &&
      statSync(m.kernel.modulesDir).isDirectory()
    );
  } catch {
    return false;
  }
}

const safeName = (version: string) => version.replaceAll(":", "%3a");

/** Finds the kernel image of a release in an unpacked linux-image package. */
function findKernel(tree: string): { path: string; release: string } {
  const boot = join(tree, "boot");
  const images = existsSync(boot) ? readdirSync(boot).filter((n) => /^vmlinu[xz]-/.test(n)) : [];
  if (images.length !== 1)
    fail(`expected one boot/vmlinux-* or boot/vmlinuz-* in ${tree}, found ${images.length}`);
  return { path: join(boot, images[0]!), release: images[0]!.replace(/^vmlinu[xz]-/, "") };
}

/** The "BusyBox vX.Y.Z (...)" banner inside a busybox binary. */
function busyboxBanner(binary: Uint8Array): string {
  const text = Buffer.from(binary.buffer, binary.byteOffset, binary.byteLength).toString("latin1");
  return /BusyBox v[0-9][^\0\n]*?\)/.exec(text)?.[0] ?? /BusyBox v[0-9][^\s\0]*/.exec(text)?.[0] ?? "unknown";
}

/**
 * Makes sure the kernel, its modules, busybox and the initramfs are in the
 * cache and returns the manifest describing them. Offline when they are.
 */
export function linuxFetch(options: LinuxFetchOptions = {}): LinuxFetchResult {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const cacheDir = options.cacheDir ?? defaultCacheDir(env);
  const dir = join(cacheDir, "linux");
  const manifestPath = linuxManifestPath(cacheDir);
  const script = options.script ?? DEFAULT_INIT_SCRIPT;
  const scriptSha256 = sha256(script);

  const previous = readLinuxManifest(cacheDir);
  if (!options.refresh && manifestValid(previous, scriptSha256))
    return { manifest: previous, manifestPath, cached: true };

  mkdirSync(dir, { recursive: true });
  const debsDir = join(dir, "debs");
  const cachedKernel = options.refresh ? undefined : cachedDeb(debsDir, KERNEL_DEB);
  const cachedBusybox = options.refresh ? undefined : cachedDeb(debsDir, BUSYBOX_DEB);
  const debs =
    cachedKernel !== undefined && cachedBusybox !== undefined
      ? { kernel: cachedKernel, busybox: cachedBusybox }
      : aptDownload(debsDir, env, log);

  const kernelPackage = debField(debs.kernel, "Package");
  const kernelVersion = debField(debs.kernel, "Version");
  const tree = join(
    dir,
    "kernel",
    `${kernelPackage.replace(/^linux-image-/, "")}_${safeName(kernelVersion)}`,
  );
  extractOnce(debs.kernel, tree);
  const kernel = findKernel(tree);
  const modulesDir = [
    join(tree, "usr/lib/modules", kernel.release),
    join(tree, "lib/modules", kernel.release),
  ].find((d) => existsSync(d));
  if (modulesDir === undefined) fail(`no lib/modules/${kernel.release} in ${tree}`);
  const kernelBytes = readFileSync(kernel.path);
  const info = inspectKernelImage(kernelBytes.subarray(0, 4096));

  const busyboxVersion = debField(debs.busybox, "Version");
  const busyboxTree = join(dir, "busybox", safeName(busyboxVersion));
  extractOnce(debs.busybox, busyboxTree);
  const busyboxPath = [join(busyboxTree, "usr/bin/busybox"), join(busyboxTree, "bin/busybox")].find((p) =>
    existsSync(p),
  );
  if (busyboxPath === undefined) fail(`no usr/bin/busybox in ${busyboxTree}`);
  const busybox = new Uint8Array(readFileSync(busyboxPath));
  const applets = busyboxAppletNames(busybox) ?? FALLBACK_APPLETS;

  log("initramfs: building");
  const cpio = buildBusyboxInitramfs({ busybox, script, applets });
  const gz = gzipInitramfs(cpio);
  const initramfsPath = join(dir, "initramfs.cpio.gz");
  writeAtomic(initramfsPath, gz);

  const manifest: LinuxManifest = {
    manifestVersion: MANIFEST_VERSION,
    suite: GUEST_SUITE,
    arch: GUEST_ARCH,
    kernel: {
      package: kernelPackage,
      packageVersion: kernelVersion,
      release: kernel.release,
      path: kernel.path,
      sha256: sha256(kernelBytes),
      size: kernelBytes.length,
      format: info.format,
      description: describeKernelImage(info),
      ...(info.format === "riscv-image"
        ? { textOffset: info.header.textOffset, imageSize: info.header.imageSize }
        : {}),
      config: join(tree, "boot", `config-${kernel.release}`),
      modulesDir,
      tree,
    },
    busybox: {
      package: debField(debs.busybox, "Package"),
      packageVersion: busyboxVersion,
      version: busyboxBanner(busybox),
      path: busyboxPath,
      sha256: sha256(busybox),
      applets: applets.length,
    },
    initramfs: {
      path: initramfsPath,
      sha256: sha256(gz),
      size: gz.length,
      cpioSize: cpio.length,
      scriptSha256,
    },
    debs,
  };
  writeAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifest, manifestPath, cached: false };
}
