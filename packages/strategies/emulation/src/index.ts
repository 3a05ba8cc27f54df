/**
 * @hvkit/emulation — the baseline strategy. The guest owns the whole
 * simulated machine: guest S-mode is real S-mode, its page tables are the
 * hart's, its device accesses go straight to the devices. It stands in for
 * "native" when other strategies are compared against it. SBI comes from the
 * built-in host firmware (an exit per call) or from real OpenSBI running in
 * M-mode on the hart (no exits at all).
 */
import type { StrategyDefinition } from "@hvkit/hypervisor";

/** The emulation strategy definition: register it with `registerStrategy(emulation)`. */
export const emulation: StrategyDefinition = {
  name: "emulation",
  description: "full emulation: the guest owns the simulated machine (the baseline standing in for native)",
  techniques: { cpu: "emulation", memory: "native", io: ["emulated", "virtio", "passthrough"] },
  create() {
    return {
      // Nothing to program: the VMM core already routes SBI calls (built-in firmware) and WFI.
      start() {},
      // Every other exit would be a bug: emulation asks for none.
      handleExit: () => false,
      counters: () => ({}),
    };
  },
};
