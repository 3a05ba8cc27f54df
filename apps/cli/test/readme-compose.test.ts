/**
 * The root README's "Compose your own hypervisor" example, kept running:
 * hardware-assisted CPU virtualization with shadow paging (first-generation
 * VT-x) and a virtio-blk disk, built from the packages in a few lines, and
 * the typed error an invalid combination gets. Keep the two in step.
 */
import { hvkitBootargs } from "@hvkit/guests";
import { readHvkitImage } from "@hvkit/guests/node";
import { hardwareAssisted } from "@hvkit/hardware-assisted";
import { HypervisorError, Vm } from "@hvkit/hypervisor";
import { MemoryDisk, VirtioBlk, virtioMmio } from "@hvkit/virtio";
import { describe, expect, it } from "vitest";

describe("the README's composed hypervisor", () => {
  it("runs the io workload on hardware-assisted + shadow paging + virtio-blk", () => {
    // --- as in README.md ---
    const myHypervisor = hardwareAssisted({ memory: "shadow", shadow: "write-protect", name: "vtx1+virtio" });
    const disk = new VirtioBlk({ backend: new MemoryDisk(4 << 20) });
    const vm = Vm.create(myHypervisor, {
      kernel: readHvkitImage("hvkit-kernel.elf"),
      cmdline: hvkitBootargs({ workloads: ["io"], sizes: { io: 64 } }),
      devices: [virtioMmio(disk)],
      costProfile: "p4-2006",
    });
    let console = "";
    vm.onOutput((bytes) => {
      console += new TextDecoder().decode(bytes);
    });
    const result = vm.run({ steps: 1e9 });
    const { exits, cycles } = vm.stats;
    // --- end ---
    expect(result).toMatchObject({ stop: "poweroff", exitStatus: 0 });
    expect(console).toMatch(/CHECK io n=64 .* ok/);
    expect(vm.stats.strategy).toBe("vtx1+virtio");
    expect(exits.byReason["shadow-fault"]).toBeGreaterThan(0);
    expect(exits.byReason.mmio).toBeGreaterThan(0);
    expect(cycles.profile).toBe("p4-2006");
  });

  it("refuses an invalid combination with a typed error", () => {
    let error: unknown;
    try {
      hardwareAssisted({ memory: "shadow", gstagePageSize: "2m" }); // no G-stage with shadow paging
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HypervisorError);
    expect((error as HypervisorError).code).toBe("HV_INVALID_COMBINATION");
    expect((error as Error).message).toMatch(/shadow/);
  });
});
