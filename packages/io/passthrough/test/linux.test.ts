/**
 * Debian's unmodified kernel drives the assigned device with its own
 * virtio_mmio and virtio_blk modules (interrupt-driven, unlike the hvkit
 * kernel's polled driver) under hardware-assisted virtualization with nested
 * paging: it mounts an ext2 file system made by mkfs.ext2, writes a file and
 * reads it back, while none of its accesses to the device's registers exits
 * (the page is in the G-stage), its completion interrupts are posted into
 * hvip.VSEIP with no exit, and every DMA goes through the IOMMU without a
 * fault. Skips without the Linux artifacts (`pnpm linux:fetch`) or
 * mkfs.ext2, except in CI.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRawFile, openDiskImageFile } from "@hvkit/disk/node";
import {
  buildLinuxInitramfs,
  LINUX_EXT4_MODULES,
  LINUX_VIRTIO_BLK_MODULES,
  linuxTranscript,
  readLinuxManifest,
} from "@hvkit/guests/node";
import { hardwareAssistedNested } from "@hvkit/hardware-assisted";
import { Vm } from "@hvkit/hypervisor";
import { afterAll, describe, expect, it } from "vitest";
import { PassthroughBlk, passthrough } from "../src/index.js";

const manifest = readLinuxManifest();
const inCi = !!process.env.CI;
const haveMkfs = spawnSync("mkfs.ext2", ["-V"], { stdio: "ignore" }).error === undefined;

const SCRIPT = `
set -e
mkdir -p /mnt
mount -t ext2 /dev/vda /mnt
echo "assigned to one VM" > /mnt/pt.txt
sync
umount /mnt
mount -t ext2 -o ro /dev/vda /mnt
echo "read back: $(cat /mnt/pt.txt)"
umount /mnt
echo PT-OK
`;

describe.skipIf((!manifest || !haveMkfs) && !inCi)("Debian Linux on an assigned block device", () => {
  const dir = mkdtempSync(join(tmpdir(), "hvkit-pt-linux-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("hardware-assisted: mounts, writes and reads back through the IOMMU, no exit on the device's registers or interrupts", () => {
    if (!manifest) throw new Error("no Linux artifacts: run `pnpm linux:fetch`");
    const image = join(dir, "disk.img");
    createRawFile(image, 16 * 1024 * 1024).close();
    execFileSync("mkfs.ext2", ["-q", "-F", image]);
    const disk = openDiskImageFile(image);
    const host = new PassthroughBlk({ backend: disk, serial: "hvkit-pt" });
    const vm = Vm.create(hardwareAssistedNested, {
      kernel: readFileSync(manifest.kernel.path),
      initrd: buildLinuxInitramfs(manifest, {
        script: SCRIPT,
        modules: [...LINUX_VIRTIO_BLK_MODULES, ...LINUX_EXT4_MODULES],
      }),
      cmdline: "console=ttyS0",
      memory: 256 * 1024 * 1024,
      devices: [passthrough(host)],
    });
    let output = "";
    const dec = new TextDecoder();
    vm.onOutput((b) => {
      output += dec.decode(b, { stream: true });
    });
    const r = vm.run({ steps: 6_000_000_000 });
    disk.close();
    const transcript = linuxTranscript(output);
    expect(transcript, output.slice(-3000)).toContain("read back: assigned to one VM");
    expect(transcript).toContain("PT-OK");
    expect(r).toEqual({ stop: "poweroff", exitStatus: 0 });
    const c = vm.stats.counters;
    expect(c["pt0-blk.requests"]).toBeGreaterThan(10);
    expect(c["pt0-blk.interrupts"]).toBeGreaterThan(0); // Linux's driver takes completion interrupts
    // ... posted into hvip.VSEIP with no exit: the boot takes no interrupt exit at all.
    expect(c["pt0-blk.interruptsPosted"]).toBe(c["pt0-blk.interrupts"]);
    expect(c["interrupts.posted"]).toBeGreaterThan(0);
    expect(vm.stats.exits.byReason.interrupt ?? 0).toBe(0);
    expect(c["pt0-blk.iommu.translations"]).toBeGreaterThan(c["pt0-blk.requests"]!);
    expect(c["pt0-blk.iommu.faults"]).toBe(0);
    // Every MMIO exit was an access to some other device: none to the assigned one.
    const devices = vm.board.counters().devices;
    const pt = devices["pt0-blk"]!;
    let others = 0;
    for (const [name, d] of Object.entries(devices)) if (name !== "pt0-blk") others += d.reads + d.writes;
    expect(pt.reads + pt.writes).toBeGreaterThan(100);
    expect(vm.stats.exits.byReason.mmio ?? 0).toBeLessThanOrEqual(others);
    expect(spawnSync("e2fsck", ["-fn", image]).status).toBe(0);
  }, 600_000);
});
