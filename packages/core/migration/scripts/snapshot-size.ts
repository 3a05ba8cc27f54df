/**
 * Snapshot size and time for Debian Linux (256 MiB) at step 1.24e9, inside a
 * busybox counter loop: bytes, CPU time to take it and to restore it (single
 * thread). Usage (from the repository root, after pnpm setup:guests):
 *   node --conditions=@hvkit/source --import tsx packages/core/migration/scripts/snapshot-size.ts
 */
import { readFileSync } from "node:fs";
import { emulation } from "@hvkit/emulation";
import { buildLinuxInitramfs, readLinuxManifest } from "@hvkit/guests/node";
import { registerStrategy, Vm } from "@hvkit/hypervisor";

registerStrategy(emulation);
const manifest = readLinuxManifest();
if (!manifest) throw new Error("no Linux artifacts in the cache: run pnpm setup:guests");
const vm = Vm.create("emulation", {
  kernel: new Uint8Array(readFileSync(manifest.kernel.path)),
  initrd: buildLinuxInitramfs(manifest, {
    script: 'i=0\nwhile [ $i -lt 300 ]; do i=$((i+1)); echo "COUNT $i"; done\n',
  }),
  cmdline: "console=ttyS0 quiet",
  memory: 256 * 1024 * 1024,
});
while (vm.hart.cycles < 1_240_000_000) vm.run({ steps: 1_240_000_000 - vm.hart.cycles });
const cpu = (f: () => void): number => {
  const t = process.cpuUsage();
  f();
  const u = process.cpuUsage(t);
  return (u.user + u.system) / 1000;
};
let snap: Uint8Array = new Uint8Array(0);
const take = Math.min(...[0, 1, 2].map(() => cpu(() => (snap = vm.snapshot()))));
const restore = Math.min(...[0, 1, 2].map(() => cpu(() => Vm.restore(snap))));
console.log(
  `Debian at step ${vm.hart.cycles}: snapshot ${snap.length} bytes (RAM ${vm.board.ram.length} bytes); take ${take.toFixed(0)} ms CPU, restore ${restore.toFixed(0)} ms CPU (best of 3)`,
);
