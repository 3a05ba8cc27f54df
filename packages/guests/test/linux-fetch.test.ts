import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_INIT_SCRIPT, GuestsError, INIT_SCRIPT_PATH, readCpio } from "../src/index.js";
import { initramfsMain, linuxFetchMain } from "../src/node/cli.js";
import { defaultCacheDir, linuxFetch, readLinuxManifest } from "../src/node/index.js";
import { fakeBusybox, imageHeader } from "./helpers.js";

const hasDpkgDeb = spawnSync("dpkg-deb", ["--version"], { stdio: "ignore" }).status === 0;
const RELEASE = "6.12.99+test-riscv64";

/** Builds a .deb with dpkg-deb from a control stanza and files. */
function buildDeb(
  out: string,
  control: Record<string, string>,
  files: Record<string, Uint8Array | string>,
): void {
  const root = mkdtempSync(join(tmpdir(), "hvkit-deb-"));
  try {
    mkdirSync(join(root, "DEBIAN"));
    const stanza = Object.entries({
      Maintainer: "hvkit tests <tests@hvkit.invalid>",
      Description: "test",
      ...control,
    });
    writeFileSync(join(root, "DEBIAN/control"), `${stanza.map(([k, v]) => `${k}: ${v}`).join("\n")}\n`);
    for (const [path, data] of Object.entries(files)) {
      mkdirSync(join(root, path, ".."), { recursive: true });
      writeFileSync(join(root, path), data);
    }
    const r = spawnSync("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", root, out], {
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(r.stderr);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe.skipIf(!hasDpkgDeb)("linuxFetch from cached packages (offline)", () => {
  let cache: string;
  const logs: string[] = [];
  const fetch = (extra: { script?: string; refresh?: boolean } = {}) =>
    linuxFetch({ cacheDir: cache, env: {}, log: (l) => logs.push(l), ...extra });

  beforeAll(() => {
    cache = mkdtempSync(join(tmpdir(), "hvkit-cache-"));
    const debs = join(cache, "linux", "debs");
    mkdirSync(debs, { recursive: true });
    const kernel = new Uint8Array(8192);
    kernel.set(imageHeader({ efi: true }));
    buildDeb(
      join(debs, `linux-image-${RELEASE}_6.12.99-1_riscv64.deb`),
      { Package: `linux-image-${RELEASE}`, Version: "6.12.99-1", Architecture: "riscv64" },
      {
        [`boot/vmlinux-${RELEASE}`]: kernel,
        [`boot/config-${RELEASE}`]: "CONFIG_VIRTIO_MMIO=m\n",
        [`usr/lib/modules/${RELEASE}/kernel/drivers/virtio/virtio_mmio.ko.xz`]: "xz",
      },
    );
    buildDeb(
      join(debs, "busybox-static_1%3a1.37.0-6_riscv64.deb"),
      { Package: "busybox-static", Version: "1:1.37.0-6", Architecture: "riscv64" },
      { "usr/bin/busybox": fakeBusybox() },
    );
  });
  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  it("unpacks the packages, builds the initramfs and writes the manifest, without apt", () => {
    const r = fetch();
    expect(r.cached).toBe(false);
    expect(logs.some((l) => l.startsWith("apt:"))).toBe(false);
    const m = r.manifest;
    expect(r.manifestPath).toBe(join(cache, "linux", "manifest.json"));
    expect(readLinuxManifest(cache)).toEqual(m);
    expect(m.kernel).toMatchObject({
      package: `linux-image-${RELEASE}`,
      packageVersion: "6.12.99-1",
      release: RELEASE,
      format: "riscv-image",
      textOffset: 0x200000,
      imageSize: 0x1e6b000,
    });
    expect(m.kernel.path.endsWith(`/boot/vmlinux-${RELEASE}`)).toBe(true);
    expect(existsSync(join(m.kernel.modulesDir, "kernel/drivers/virtio/virtio_mmio.ko.xz"))).toBe(true);
    expect(m.busybox).toMatchObject({
      packageVersion: "1:1.37.0-6",
      version: "BusyBox v1.37.0 (Debian 1:1.37.0-6+b9)",
      applets: 16,
    });
    const gz = readFileSync(m.initramfs.path);
    expect(m.initramfs.size).toBe(gz.length);
    const members = readCpio(gunzipSync(gz));
    expect(members.length).toBeGreaterThan(20);
    const script = members.find((x) => x.name === INIT_SCRIPT_PATH.slice(1))!;
    expect(new TextDecoder().decode(script.data)).toBe(DEFAULT_INIT_SCRIPT);
  });

  it("does nothing on a second run, and rebuilds only what changed", () => {
    const first = fetch().manifest;
    const again = fetch();
    expect(again.cached).toBe(true);
    expect(again.manifest).toEqual(first);

    const custom = fetch({ script: "echo other\n" });
    expect(custom.cached).toBe(false);
    expect(custom.manifest.initramfs.sha256).not.toBe(first.initramfs.sha256);
    expect(custom.manifest.kernel).toEqual(first.kernel);

    unlinkSync(custom.manifest.initramfs.path);
    const rebuilt = fetch({ script: "echo other\n" });
    expect(rebuilt.cached).toBe(false);
    expect(rebuilt.manifest.initramfs.sha256).toBe(custom.manifest.initramfs.sha256); // deterministic
  });

  it("prints a summary or the manifest from the command line", () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    expect(linuxFetchMain(["--cache", cache], io)).toBe(0);
    expect(out.join("\n")).toMatch(/kernel\s+\S+vmlinux-6\.12\.99\+test-riscv64/);
    expect(out.join("\n")).toMatch(/initramfs\s+\S+initramfs\.cpio\.gz/);
    out.length = 0;
    expect(linuxFetchMain(["--cache", cache, "--json"], io)).toBe(0);
    expect(JSON.parse(out.join("\n")).kernel.release).toBe(RELEASE);
  });

  it("refuses to guess between two cached kernels", () => {
    const other = mkdtempSync(join(tmpdir(), "hvkit-cache-"));
    try {
      const debs = join(other, "linux", "debs");
      mkdirSync(debs, { recursive: true });
      for (const v of ["1", "2"])
        writeFileSync(join(debs, `linux-image-6.12.${v}-riscv64_6.12.${v}-1_riscv64.deb`), "");
      expect(() => linuxFetch({ cacheDir: other, env: {} })).toThrowError(GuestsError);
      expect(() => linuxFetch({ cacheDir: other, env: {} })).toThrow(/several cached packages/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});

describe("defaultCacheDir", () => {
  it("prefers HVKIT_CACHE, then XDG_CACHE_HOME/hvkit", () => {
    expect(defaultCacheDir({ HVKIT_CACHE: "/c", XDG_CACHE_HOME: "/x" })).toBe("/c");
    expect(defaultCacheDir({ XDG_CACHE_HOME: "/x" })).toBe("/x/hvkit");
    expect(defaultCacheDir({})).toMatch(/\/\.cache\/hvkit$/);
  });
});

describe("hvkit-initramfs", () => {
  it("builds an initramfs from a busybox and a script on disk", () => {
    const dir = mkdtempSync(join(tmpdir(), "hvkit-initramfs-"));
    try {
      writeFileSync(join(dir, "busybox"), fakeBusybox());
      writeFileSync(join(dir, "script.sh"), "echo hello\n");
      const out: string[] = [];
      const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
      const code = initramfsMain(
        ["--busybox", join(dir, "busybox"), "--script", join(dir, "script.sh"), "-o", join(dir, "i.cpio.gz")],
        io,
      );
      expect(code).toBe(0);
      const members = readCpio(gunzipSync(readFileSync(join(dir, "i.cpio.gz"))));
      const script = members.find((m) => m.name === INIT_SCRIPT_PATH.slice(1))!;
      expect(new TextDecoder().decode(script.data)).toBe("echo hello\n");
      expect(
        initramfsMain(["--busybox", join(dir, "busybox"), "--no-gzip", "-o", join(dir, "i.cpio")], io),
      ).toBe(0);
      expect(readCpio(readFileSync(join(dir, "i.cpio"))).length).toBe(members.length);
      expect(initramfsMain([], io)).toBe(2);
      expect(initramfsMain(["--busybox", join(dir, "missing"), "-o", join(dir, "x")], io)).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
