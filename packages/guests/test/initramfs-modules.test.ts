/**
 * Kernel modules in the busybox initramfs: /init loads them with insmod, in
 * order, before the script; Debian's .ko.xz files are decompressed and their
 * appended signatures dropped (see linux-modules.ts for why); with the
 * cached Debian kernel, the virtio and ext4 modules are there.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  buildBusyboxInitramfs,
  GuestsError,
  INIT_MODULE_DIR,
  INIT_SCRIPT_PATH,
  initProgram,
  readCpio,
  S_IFREG,
} from "../src/index.js";
import {
  buildLinuxInitramfs,
  LINUX_EXT4_MODULES,
  LINUX_VIRTIO_BLK_MODULES,
  LINUX_VIRTIO_RNG_MODULES,
  readLinuxManifest,
  readLinuxModules,
  stripModuleSignature,
} from "../src/node/index.js";
import { fakeBusybox } from "./helpers.js";

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const enc = (s: string) => new TextEncoder().encode(s);
const hasXz = spawnSync("xz", ["--version"], { stdio: "ignore" }).error === undefined;

/** A stand-in .ko: some ELF-ish bytes, then (optionally) a signature as scripts/sign-file appends it. */
function fakeModule(signed: boolean): { ko: Uint8Array; body: Uint8Array } {
  const body = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
  if (!signed) return { ko: body, body };
  const sig = new Uint8Array(77).fill(0x30);
  const info = new Uint8Array(12);
  new DataView(info.buffer).setUint32(8, sig.length, false); // sig_len, big-endian
  const magic = enc("~Module signature appended~\n");
  const ko = new Uint8Array(body.length + sig.length + info.length + magic.length);
  ko.set(body, 0);
  ko.set(sig, body.length);
  ko.set(info, body.length + sig.length);
  ko.set(magic, body.length + sig.length + info.length);
  return { ko, body };
}

describe("initramfs with kernel modules", () => {
  it("/init loads the modules in order after mounting the kernel file systems, then runs the script", () => {
    const init = initProgram(["virtio_mmio", "virtio_blk"]);
    const lines = init.split("\n");
    const devtmpfs = lines.indexOf("mount -t devtmpfs devtmpfs /dev");
    const mmio = lines.findIndex((l) => l.startsWith(`insmod ${INIT_MODULE_DIR}/virtio_mmio.ko`));
    const blk = lines.findIndex((l) => l.startsWith(`insmod ${INIT_MODULE_DIR}/virtio_blk.ko`));
    const script = lines.indexOf(`sh ${INIT_SCRIPT_PATH}`);
    expect(devtmpfs).toBeGreaterThan(0);
    expect([devtmpfs < mmio, mmio < blk, blk < script]).toEqual([true, true, true]);
    expect(init).toContain('|| echo "INSMOD-FAILED virtio_blk"');
    // Without modules, /init is what it always was.
    expect(initProgram([])).toBe(initProgram());
    expect(initProgram()).not.toContain("insmod");
  });

  it("puts the modules in /lib/modules as plain files and the matching /init", () => {
    const records = readCpio(
      buildBusyboxInitramfs({
        busybox: fakeBusybox(),
        modules: [
          { name: "a", data: enc("AAAA") },
          { name: "b-c_d", data: enc("BB") },
        ],
      }),
    );
    const by = new Map(records.map((r) => [r.name, r]));
    expect(by.get("lib/modules")?.type).toBe("dir");
    expect(text(by.get("lib/modules/a.ko")!.data)).toBe("AAAA");
    expect(by.get("lib/modules/b-c_d.ko")!.mode).toBe(S_IFREG | 0o644);
    expect(text(by.get("init")!.data)).toBe(initProgram(["a", "b-c_d"]));
  });

  it.each(["../evil", "a/b", "", "x.ko", "sp ace"])("refuses the module name %j", (name) => {
    expect(() =>
      buildBusyboxInitramfs({ busybox: fakeBusybox(), modules: [{ name, data: enc("x") }] }),
    ).toThrowError(GuestsError);
  });

  it("drops an appended module signature and leaves unsigned modules alone", () => {
    const signed = fakeModule(true);
    expect(Array.from(stripModuleSignature(signed.ko))).toEqual(Array.from(signed.body));
    const plain = fakeModule(false);
    expect(stripModuleSignature(plain.ko)).toBe(plain.ko);
    // A signature length that does not fit is not trusted.
    const broken = signed.ko.slice();
    new DataView(broken.buffer).setUint32(broken.length - 28 - 4, 1e6, false);
    expect(stripModuleSignature(broken)).toBe(broken);
  });

  it.skipIf(!hasXz)("reads .ko.xz (decompressed with xz) and .ko files from a modules tree", () => {
    const dir = mkdtempSync(join(tmpdir(), "hvkit-modules-"));
    try {
      mkdirSync(join(dir, "kernel", "drivers", "x"), { recursive: true });
      const { ko, body } = fakeModule(true);
      writeFileSync(join(dir, "kernel", "drivers", "x", "packed.ko"), ko);
      spawnSync("xz", ["-z", join(dir, "kernel", "drivers", "x", "packed.ko")]);
      writeFileSync(join(dir, "kernel", "drivers", "x", "plain.ko"), ko);
      const mods = readLinuxModules(dir, ["drivers/x/packed", "drivers/x/plain"]);
      expect(mods.map((m) => m.name)).toEqual(["packed", "plain"]);
      for (const m of mods) expect(Array.from(m.data)).toEqual(Array.from(body));
      const kept = readLinuxModules(dir, ["drivers/x/packed"], { keepSignatures: true });
      expect(kept[0]!.data.length).toBe(ko.length);
      expect(() => readLinuxModules(dir, ["drivers/x/missing"])).toThrowError(
        /no module drivers\/x\/missing/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const manifest = readLinuxManifest();
  it.skipIf(!manifest || !hasXz || (manifest && !existsSync(manifest.kernel.modulesDir)))(
    "the cached Debian kernel has the virtio and ext4 modules; they become ELF files in the initramfs",
    () => {
      const paths = [...LINUX_VIRTIO_BLK_MODULES, ...LINUX_EXT4_MODULES, ...LINUX_VIRTIO_RNG_MODULES];
      const cpio = buildLinuxInitramfs(manifest!, { script: "true\n", modules: paths, gzip: false });
      const records = readCpio(cpio);
      for (const p of paths) {
        const name = p.split("/").pop()!;
        const r = records.find((x) => x.name === `lib/modules/${name}.ko`);
        expect(r, name).toBeDefined();
        expect(Array.from(r!.data.subarray(0, 4))).toEqual([0x7f, 0x45, 0x4c, 0x46]);
        expect(text(r!.data.subarray(r!.data.length - 28))).not.toBe("~Module signature appended~\n");
      }
    },
  );
});
