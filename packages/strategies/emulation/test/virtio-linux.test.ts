/**
 * Debian's unmodified kernel on a virtio-blk disk under emulation: the
 * initramfs loads virtio_mmio, virtio_blk and ext4 (Debian builds them as
 * modules), mounts /dev/vda, writes files and powers off; the next boot
 * reads them back. A virtio-rng and a virtio-console (built into Debian's
 * kernel) sit in the next slots and serve /dev/hwrng and /dev/hvc0. The
 * disk is an ext2 file system made by the host's mkfs.ext2 (e2fsprogs) in
 * a raw image file, and then a qcow2
 * copy-on-write overlay over that image (@hvkit/disk): the writes land in
 * the overlay, the base stays untouched, and host tools (debugfs, e2fsck,
 * qemu-img) agree with what the guest saw. The artifacts come from
 * `pnpm linux:fetch`; locally the tests skip without them (or without
 * mkfs.ext2), in CI (CI=true) that is a failure.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOverlayFile, createRawFile, openDiskImageFile } from "@hvkit/disk/node";
import {
  buildLinuxInitramfs,
  LINUX_EXT4_MODULES,
  LINUX_VIRTIO_BLK_MODULES,
  LINUX_VIRTIO_RNG_MODULES,
  linuxTranscript,
  readLinuxManifest,
} from "@hvkit/guests/node";
import { Vm, type VmConfig } from "@hvkit/hypervisor";
import { type BlockBackend, VirtioBlk, VirtioConsole, VirtioRng, virtioMmio } from "@hvkit/virtio";
import { afterAll, describe, expect, it } from "vitest";
import { emulation } from "../src/index.js";

const manifest = readLinuxManifest();
const inCi = !!process.env.CI;
const hostHas = (cmd: string, arg = "-V") => spawnSync(cmd, [arg], { stdio: "ignore" }).error === undefined;
const haveMkfs = hostHas("mkfs.ext2");
const haveQemuImg = hostHas("qemu-img", "--version");
/** A boot with the modules loaded takes about 1.5e9 steps; leave room. */
const MAX_STEPS = 6_000_000_000;
const MODULES = [...LINUX_VIRTIO_BLK_MODULES, ...LINUX_EXT4_MODULES, ...LINUX_VIRTIO_RNG_MODULES];
const DISK_BYTES = 32 * 1024 * 1024;
const LINES = 2000; // ~20 KiB: a file spread over many blocks

const WRITE = `
set -e
mkdir -p /mnt
mount -t ext2 /dev/vda /mnt
echo "hvkit was here" > /mnt/hello.txt
i=0
while [ $i -lt ${LINES} ]; do echo "line $i of the persistence test"; i=$((i+1)); done > /mnt/lines.txt
sync
umount /mnt
echo WRITE-OK
`;

const READ = `
set -e
mkdir -p /mnt
mount -t ext2 -o ro /dev/vda /mnt
echo "hello: $(cat /mnt/hello.txt)"
echo "lines: $(wc -l < /mnt/lines.txt) last: $(tail -n 1 /mnt/lines.txt)"
umount /mnt
echo "hwrng: $(head -c 16 /dev/hwrng | wc -c) bytes"
echo "hello over hvc0" > /dev/hvc0
echo READ-OK
`;

function boot(script: string, disk: BlockBackend) {
  if (!manifest) throw new Error("no Linux artifacts: run `pnpm linux:fetch`");
  const blk = new VirtioBlk({ backend: disk, serial: "hvkit-test" });
  const rng = new VirtioRng({ seed: 1 });
  let hvc = "";
  const con = new VirtioConsole({
    onOutput: (b) => {
      hvc += new TextDecoder().decode(b);
    },
  });
  const config: VmConfig = {
    kernel: readFileSync(manifest.kernel.path),
    initrd: buildLinuxInitramfs(manifest, { script, modules: MODULES }),
    cmdline: "console=ttyS0",
    memory: 512 * 1024 * 1024,
    devices: [virtioMmio(blk), virtioMmio(rng), virtioMmio(con)],
  };
  const vm = Vm.create(emulation, config);
  const decoder = new TextDecoder();
  let output = "";
  vm.onOutput((b) => {
    output += decoder.decode(b, { stream: true });
  });
  const r = vm.run({ steps: MAX_STEPS });
  return {
    output,
    transcript: linuxTranscript(output),
    stop: r.stop,
    exitStatus: r.exitStatus,
    blk,
    rng,
    hvc: () => hvc,
    vm,
  };
}

/** What host tools see in an ext2 image file. */
const debugfsCat = (image: string, file: string) =>
  execFileSync("debugfs", ["-R", `cat ${file}`, image], { stdio: ["ignore", "pipe", "ignore"] }).toString();

const expectedLines = Array.from({ length: LINES }, (_, i) => `line ${i} of the persistence test\n`).join("");

describe.skipIf((!manifest || !haveMkfs) && !inCi)(
  "Debian Linux on virtio-blk: files persist across boots",
  () => {
    const dir = mkdtempSync(join(tmpdir(), "hvkit-virtio-linux-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const base = join(dir, "base.img");

    it("boot 1 mounts /dev/vda (ext2 made by mkfs.ext2 on a raw image file), writes files, powers off cleanly", () => {
      createRawFile(base, DISK_BYTES).close();
      execFileSync("mkfs.ext2", ["-q", "-F", "-L", "hvkit", base]);
      const disk = openDiskImageFile(base);
      const r = boot(WRITE, disk);
      disk.close();
      expect(r.transcript, r.output.slice(-3000)).toContain("WRITE-OK");
      expect(r.transcript).not.toContain("INSMOD-FAILED");
      expect(r.output).toMatch(/virtio_blk virtio0: \[vda\] 65536 512-byte logical blocks/);
      expect(r.stop).toBe("poweroff");
      expect(r.exitStatus).toBe(0);
      expect(r.blk.counters.writes).toBeGreaterThan(0);
      expect(r.blk.counters.errors).toBe(0);
      // The host sees what the guest wrote, in a consistent file system.
      expect(debugfsCat(base, "/hello.txt")).toBe("hvkit was here\n");
      expect(debugfsCat(base, "/lines.txt")).toBe(expectedLines);
      expect(spawnSync("e2fsck", ["-fn", base]).status).toBe(0);
    }, 300_000);

    it("boot 2 reads the files back (and virtio-rng feeds /dev/hwrng, virtio-console carries /dev/hvc0)", () => {
      const disk = openDiskImageFile(base, { readOnly: true });
      const r = boot(READ, disk);
      disk.close();
      expect(r.transcript, r.output.slice(-3000)).toContain("hello: hvkit was here");
      expect(r.transcript).toContain(`lines: ${LINES} last: line ${LINES - 1} of the persistence test`);
      expect(r.transcript).toContain("hwrng: 16 bytes");
      expect(r.transcript).toContain("READ-OK");
      expect(r.output).toContain("[vda] 65536 512-byte logical blocks");
      expect(r.blk.counters.writes).toBe(0);
      expect(r.rng.counters.bytesWritten).toBeGreaterThanOrEqual(16);
      expect(r.hvc()).toContain("hello over hvc0");
      expect(r.exitStatus).toBe(0);
    }, 300_000);

    it("qcow2: a copy-on-write overlay over the raw image takes boot 1's writes, boot 2 reads them, the base is untouched", () => {
      // A fresh file system for this test in the base; the overlay starts empty over it.
      const qbase = join(dir, "qbase.img");
      createRawFile(qbase, DISK_BYTES).close();
      execFileSync("mkfs.ext2", ["-q", "-F", "-L", "hvkit", qbase]);
      const baseBytes = readFileSync(qbase);
      const overlay = join(dir, "overlay.qcow2");
      createOverlayFile(overlay, "qbase.img").close();

      let disk = openDiskImageFile(overlay);
      expect(disk.format).toBe("qcow2");
      const w = boot(WRITE, disk);
      disk.close();
      expect(w.transcript, w.output.slice(-3000)).toContain("WRITE-OK");
      expect(w.exitStatus).toBe(0);
      expect(readFileSync(qbase).equals(baseBytes)).toBe(true);

      disk = openDiskImageFile(overlay, { readOnly: true });
      const r = boot(READ, disk);
      disk.close();
      expect(r.transcript, r.output.slice(-3000)).toContain("hello: hvkit was here");
      expect(r.transcript).toContain(`lines: ${LINES} last: line ${LINES - 1} of the persistence test`);
      expect(r.exitStatus).toBe(0);

      if (haveQemuImg) {
        // QEMU's tools read the overlay as written: consistent, and the files are in it.
        expect(spawnSync("qemu-img", ["check", overlay]).status).toBe(0);
        const flat = join(dir, "flat.img");
        execFileSync("qemu-img", ["convert", "-O", "raw", overlay, flat]);
        expect(debugfsCat(flat, "/lines.txt")).toBe(expectedLines);
        expect(spawnSync("e2fsck", ["-fn", flat]).status).toBe(0);
      }
    }, 600_000);
  },
);
