/**
 * Snapshots under paravirt: a guest in hybrid mode (the native build: no
 * shared page, no pinned tables) snapshots and restores as under
 * trap-and-emulate and continues exactly; the paravirtual build, whose VMM
 * state snapshots do not carry, is refused with a typed error.
 */
import { hvkitBootargs } from "@hvkit/guests";
import { readHvkitImage } from "@hvkit/guests/node";
import { SnapshotError, Vm } from "@hvkit/hypervisor";
import { describe, expect, it } from "vitest";
import { paravirt } from "../src/index.js";

const config = (image: "hvkit-kernel.elf" | "hvkit-kernel-pv.elf") => ({
  kernel: readHvkitImage(image),
  cmdline: hvkitBootargs({ workloads: ["syscall"], sizes: { syscall: 300 } }),
  memory: 32 * 1024 * 1024,
});

function captured(vm: Vm): { text: string } {
  const out = { text: "" };
  const decoder = new TextDecoder();
  vm.onOutput((b) => {
    out.text += decoder.decode(b, { stream: true });
  });
  return out;
}

describe("snapshots under paravirt", () => {
  it("the native build (hybrid mode) restores at N and continues exactly", () => {
    const whole = Vm.create(paravirt, config("hvkit-kernel.elf"));
    const wholeOut = captured(whole);
    expect(whole.run({ steps: 2e9 })).toMatchObject({ stop: "poweroff", exitStatus: 0 });
    const at = Math.floor(whole.hart.cycles * 0.4);

    const vm = Vm.create(paravirt, config("hvkit-kernel.elf"));
    const out = captured(vm);
    expect(vm.run({ steps: at }).stop).toBe("limit");
    const restored = Vm.restore(vm.snapshot(), { strategy: paravirt });
    const rest = captured(restored);
    expect(restored.run({ steps: 2e9 })).toMatchObject({ stop: "poweroff", exitStatus: 0 });
    expect(out.text + rest.text).toBe(wholeOut.text);
    expect(restored.hart.cycles).toBe(whole.hart.cycles);
  });

  it("the paravirtual build is refused once it uses the interface", () => {
    const vm = Vm.create(paravirt, config("hvkit-kernel-pv.elf"));
    expect(vm.run({ steps: 500_000 }).stop).toBe("limit"); // booted: shared page and root registered
    let error: unknown;
    try {
      vm.snapshot();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SnapshotError);
    expect((error as SnapshotError).code).toBe("SNAPSHOT_UNSUPPORTED");
    expect(vm.run({ steps: 2e9 })).toMatchObject({ stop: "poweroff", exitStatus: 0 }); // unharmed
  });
});
