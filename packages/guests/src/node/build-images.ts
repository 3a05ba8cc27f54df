/**
 * Builds the hvkit guest images from packages/guests/kernel with clang and
 * ld.lld (no make): the kernel in its native and paravirtual builds, the
 * user program embedded in both, and the bare-metal programs. Builds are
 * reproducible: fixed flags, sources in sorted order, relative source paths
 * (`-ffile-prefix-map`), no debug info, no build IDs, no timestamps; the same
 * sources and toolchain give the same bytes, which `--check` relies on.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { GuestsError } from "../errors.js";

const run = promisify(execFile);

/** The package directory (src/node or dist/node are two levels down). */
const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The guest sources: C, assembly, headers and linker scripts. */
export const GUEST_SOURCE_DIR = join(PACKAGE_DIR, "kernel");
/** Where the committed images live. */
export const GUEST_IMAGE_DIR = join(PACKAGE_DIR, "images");
/** The manifest written next to the images. */
export const GUEST_MANIFEST = "manifest.json";

/** The images a build produces, in build order. */
export const GUEST_IMAGE_NAMES = [
  "hvkit-kernel.elf",
  "hvkit-kernel-pv.elf",
  "hello.elf",
  "bare-test.elf",
] as const;
/** One of {@link GUEST_IMAGE_NAMES}. */
export type GuestImageName = (typeof GUEST_IMAGE_NAMES)[number];

/** Flags for every object: freestanding, position-dependent (medany), no relaxation, reproducible. */
const COMMON_CFLAGS = [
  "--target=riscv64-unknown-elf",
  "-mcmodel=medany",
  "-mno-relax",
  "-std=gnu11",
  "-O2",
  "-Wall",
  "-Wextra",
  "-Werror",
  "-ffreestanding",
  "-fno-builtin",
  "-nostdlib",
  "-fno-common",
  "-fno-pic",
  "-fno-stack-protector",
  "-fno-strict-aliasing",
  "-fno-asynchronous-unwind-tables",
  "-fno-unwind-tables",
  "-Iinclude",
];
/** Kernel and user programs: integer only (the kernel keeps no FP state; user FP use traps). */
const KERNEL_ARCH = ["-march=rv64imac", "-mabi=lp64"];
/** Bare-metal programs exercise the whole RV64GC. */
const BARE_ARCH = ["-march=rv64gc", "-mabi=lp64d"];
const LDFLAGS = ["--build-id=none", "-static", "-nostdlib", "--no-undefined"];

/** Options of {@link buildGuestImages}. */
export interface BuildGuestImagesOptions {
  /** Output directory (default: the package's images/). */
  outDir?: string;
  /** The C compiler (default $HVKIT_CLANG or "clang"). */
  clang?: string;
  /** The linker (default $HVKIT_LLD or "ld.lld"). */
  lld?: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What {@link buildGuestImages} produced. */
export interface GuestImagesManifest {
  /** Bumped when the manifest's shape changes. */
  manifestVersion: 1;
  /** `clang --version` and `ld.lld --version`, first lines: reproducible only with the same ones. */
  toolchain: { clang: string; lld: string };
  /** sha256 over the sources (sorted relative paths and contents): images are stale when it changes. */
  sourcesSha256: string;
  /** Each image's sha256 and size. */
  images: Record<string, { sha256: string; size: number }>;
}

function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Every file under dir, as paths relative to it, sorted by code unit (locale-independent). */
function listFiles(dir: string, under = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, under), { withFileTypes: true })) {
    const rel = under ? `${under}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(dir, rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** sha256 over every guest source file: "<path>\0<length>\0<bytes>" in sorted path order. */
export function guestSourcesDigest(sourceDir: string = GUEST_SOURCE_DIR): string {
  const h = createHash("sha256");
  for (const rel of listFiles(sourceDir)) {
    const data = readFileSync(join(sourceDir, rel));
    h.update(`${rel}\0${data.length}\0`);
    h.update(data);
  }
  return h.digest("hex");
}

/** The committed manifest, or undefined when there is none. */
export function readGuestImagesManifest(dir: string = GUEST_IMAGE_DIR): GuestImagesManifest | undefined {
  const path = join(dir, GUEST_MANIFEST);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, "utf8")) as GuestImagesManifest;
}

async function firstLine(tool: string): Promise<string> {
  try {
    const { stdout } = await run(tool, ["--version"]);
    return stdout.split("\n")[0]!.trim();
  } catch {
    throw new GuestsError(
      "GUESTS_TOOL_MISSING",
      `${tool} is not installed: the guest images need clang and ld.lld (Debian: apt-get install clang lld, or scripts/install-debian-deps.sh); set HVKIT_CLANG / HVKIT_LLD to use others`,
    );
  }
}

/** Run up to `limit` jobs at once. */
async function pool<T>(items: readonly T[], limit: number, job: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await job(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Compile and link every image into `outDir` and write its manifest.
 * Throws GUESTS_TOOL_MISSING without clang/ld.lld and GUESTS_BUILD_FAILED
 * with the compiler's message when a step fails.
 */
export async function buildGuestImages(options: BuildGuestImagesOptions = {}): Promise<GuestImagesManifest> {
  const clang = options.clang ?? process.env.HVKIT_CLANG ?? "clang";
  const lld = options.lld ?? process.env.HVKIT_LLD ?? "ld.lld";
  const outDir = options.outDir ?? GUEST_IMAGE_DIR;
  const log = options.log ?? (() => {});
  const toolchain = { clang: await firstLine(clang), lld: await firstLine(lld) };
  const src = GUEST_SOURCE_DIR;
  const tmp = mkdtempSync(join(tmpdir(), "hvkit-guests-"));
  const step = async (tool: string, args: string[]): Promise<void> => {
    try {
      // Sources are named relative to src (the cwd), so no absolute path reaches an object.
      await run(tool, args, { cwd: src, maxBuffer: 16 * 1024 * 1024 });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new GuestsError(
        "GUESTS_BUILD_FAILED",
        `${tool} ${args.join(" ")}\n${(err.stderr ?? err.message).trim()}`,
      );
    }
  };
  const obj = (source: string, variant: string): string =>
    join(tmp, variant, `${source.replace(/\//g, "_")}.o`);
  const compile = async (
    source: string,
    variant: string,
    arch: string[],
    extra: string[] = [],
  ): Promise<string> => {
    const out = obj(source, variant);
    // Sources are relative already; the prefix map also covers paths clang derives from the cwd.
    const prefixMap = `-ffile-prefix-map=${src}=.`;
    await step(clang, [...COMMON_CFLAGS, prefixMap, ...arch, ...extra, "-c", source, "-o", out]);
    return out;
  };
  try {
    const files = listFiles(src);
    const c = (dir: string) => files.filter((f) => f.startsWith(`${dir}/`) && /\.[cS]$/.test(f));
    const lib = c("lib");
    const user = c("user");
    const kernArch = new Set(["kern/arch_native.c", "kern/arch_pv.c", "kern/user.S"]);
    const kern = c("kern").filter((f) => !kernArch.has(f));
    const bareCommon = ["bare/runtime.c", "bare/start.S"];
    for (const v of ["kernel", "bare"]) mkdirSync(join(tmp, v), { recursive: true });

    log("compiling the user program and the kernel");
    const kernelObjs: Record<string, string> = {};
    await pool([...lib, ...user, ...kern, "kern/arch_native.c", "kern/arch_pv.c"], 8, async (f) => {
      kernelObjs[f] = await compile(f, "kernel", KERNEL_ARCH);
    });
    const userElf = join(tmp, "user.elf");
    await step(lld, [
      ...LDFLAGS,
      "-T",
      "user/user.ld",
      "-o",
      userElf,
      ...[...lib, ...user].map((f) => kernelObjs[f]!),
    ]);
    // .incbin "user.elf" finds the program through the include path.
    const userObj = await compile("kern/user.S", "kernel", KERNEL_ARCH, [`-I${tmp}`]);

    log("compiling the bare-metal programs");
    const bareObjs: Record<string, string> = {};
    await pool([...lib, ...c("bare")], 8, async (f) => {
      bareObjs[f] = await compile(f, "bare", BARE_ARCH);
    });

    const links: Record<GuestImageName, { script: string; objects: string[] }> = {
      "hvkit-kernel.elf": {
        script: "kern/kernel.ld",
        objects: [...kern, "kern/arch_native.c", ...lib].map((f) => kernelObjs[f]!).concat(userObj),
      },
      "hvkit-kernel-pv.elf": {
        script: "kern/kernel.ld",
        objects: [...kern, "kern/arch_pv.c", ...lib].map((f) => kernelObjs[f]!).concat(userObj),
      },
      "hello.elf": {
        script: "bare/bare.ld",
        objects: [...bareCommon, "bare/hello.c", ...lib].map((f) => bareObjs[f]!),
      },
      "bare-test.elf": {
        script: "bare/bare.ld",
        objects: [...bareCommon, "bare/baretest.c", ...lib].map((f) => bareObjs[f]!),
      },
    };
    mkdirSync(outDir, { recursive: true });
    const images: GuestImagesManifest["images"] = {};
    for (const name of GUEST_IMAGE_NAMES) {
      const { script, objects } = links[name];
      const out = join(tmp, name);
      // entry.S/start.S first: the linker scripts also pin .text.entry, but keep the order obvious.
      await step(lld, [...LDFLAGS, "-T", script, "-o", out, ...objects]);
      const data = readFileSync(out);
      writeFileSync(join(outDir, name), data);
      images[name] = { sha256: sha256(data), size: data.length };
      log(`${relative(process.cwd(), join(outDir, name)) || name}: ${data.length} bytes`);
    }
    const manifest: GuestImagesManifest = {
      manifestVersion: 1,
      toolchain,
      sourcesSha256: guestSourcesDigest(src),
      images,
    };
    writeFileSync(join(outDir, GUEST_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** What {@link checkGuestImages} found. */
export interface GuestImagesCheck {
  /** True when every image rebuilt byte for byte. */
  identical: boolean;
  /** Images whose rebuilt bytes differ from the committed ones. */
  differing: string[];
  /** Set when the local toolchain is not the one that built the committed images (bytes may differ for that reason alone). */
  toolchainMismatch?: {
    committed: GuestImagesManifest["toolchain"];
    local: GuestImagesManifest["toolchain"];
  };
}

/** Rebuild into a temporary directory and compare with the committed images and manifest. */
export async function checkGuestImages(
  options: Omit<BuildGuestImagesOptions, "outDir"> = {},
): Promise<GuestImagesCheck> {
  const committed = readGuestImagesManifest();
  const out = mkdtempSync(join(tmpdir(), "hvkit-guests-check-"));
  try {
    const rebuilt = await buildGuestImages({ ...options, outDir: out });
    const differing: string[] = [];
    for (const name of [...GUEST_IMAGE_NAMES, GUEST_MANIFEST]) {
      const path = join(GUEST_IMAGE_DIR, name);
      if (!existsSync(path) || !readFileSync(path).equals(readFileSync(join(out, name))))
        differing.push(name);
    }
    const result: GuestImagesCheck = { identical: differing.length === 0, differing };
    if (
      committed &&
      (committed.toolchain.clang !== rebuilt.toolchain.clang ||
        committed.toolchain.lld !== rebuilt.toolchain.lld)
    ) {
      result.toolchainMismatch = { committed: committed.toolchain, local: rebuilt.toolchain };
    }
    return result;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
