/**
 * Two Debian Linux VMs cabled together through their virtio-net devices
 * (`connectNet`, in-process): the initramfs loads virtio_mmio and virtio_net,
 * VM A pings VM B three times. The VMs run alternately in slices of equal
 * step counts. busybox ping reads the time CSR from U-mode, which Linux
 * enables (scounteren.TM) only through the SBI PMU extension: the built-in
 * firmware serves it. Skipped without the Linux artifacts, except in CI.
 */
import { readFileSync } from "node:fs";
import { buildLinuxInitramfs, readLinuxManifest } from "@hvkit/guests/node";
import { Vm } from "@hvkit/hypervisor";
import { connectNet, VirtioNet, virtioMmio } from "@hvkit/virtio";
import { describe, expect, it } from "vitest";
import { emulation } from "../src/index.js";

const manifest = readLinuxManifest();
const inCi = !!process.env.CI;
const MODULES = [
  "drivers/virtio/virtio_mmio",
  "net/core/failover",
  "drivers/net/net_failover",
  "drivers/net/virtio_net",
];
/** Steps per VM per turn: about 20 ms of guest time at the default timebase. */
const TURN = 2_000_000;
const MAX_TURNS = 3_000;

function linuxVm(script: string, net: VirtioNet) {
  if (!manifest) throw new Error("no Linux artifacts: run `pnpm linux:fetch`");
  const vm = Vm.create(emulation, {
    kernel: readFileSync(manifest.kernel.path),
    initrd: buildLinuxInitramfs(manifest, { script, modules: MODULES }),
    cmdline: "console=ttyS0",
    memory: 256 * 1024 * 1024,
    devices: [virtioMmio(net)],
  });
  let output = "";
  const decoder = new TextDecoder();
  vm.onOutput((b) => {
    output += decoder.decode(b, { stream: true });
  });
  return { vm, output: () => output };
}

describe.skipIf(!manifest && !inCi)("two Debian Linux VMs on a virtio-net cable", () => {
  it("A pings B three times through both devices", () => {
    const a = new VirtioNet({ mac: "02:00:00:00:00:01" });
    const b = new VirtioNet({ mac: "02:00:00:00:00:02" });
    connectNet(a, b);
    const A = linuxVm(
      "ifconfig eth0 10.0.0.1 netmask 255.255.255.0 up\nping -c 3 -W 10 10.0.0.2 && echo PING-OK\n",
      a,
    );
    const B = linuxVm(
      "ifconfig eth0 10.0.0.2 netmask 255.255.255.0 up\necho B-UP\nwhile true; do sleep 1; done\n",
      b,
    );
    let turns = 0;
    for (; turns < MAX_TURNS && !A.vm.finished; turns++) {
      A.vm.run({ steps: TURN });
      B.vm.run({ steps: TURN });
    }
    expect(A.output(), A.output().slice(-2000)).toContain(
      "3 packets transmitted, 3 packets received, 0% packet loss",
    );
    expect(A.output()).toContain("PING-OK");
    expect(A.vm.finished).toMatchObject({ stop: "poweroff", exitStatus: 0 });
    expect(B.output()).toContain("B-UP");
    // ARP and three echo requests one way, ARP reply and three echo replies the other (and IPv6 chatter).
    expect(a.counters.txFrames).toBeGreaterThanOrEqual(4);
    expect(b.counters.rxFrames).toBe(a.counters.txFrames);
    expect(a.counters.rxFrames).toBe(b.counters.txFrames);
    expect(a.counters.rxDropped + b.counters.rxDropped).toBe(0);
    expect(a.counters.errors + b.counters.errors).toBe(0);
  }, 600_000);
});
