/**
 * Strategies for `pnpm bench --with` in tests: emulation under another name,
 * and one that refuses every VM (its cells must fail loudly). Imported by the
 * test process and by the measuring child processes alike.
 */
import { HypervisorError, type StrategyDefinition } from "@hvkit/hypervisor";
import { benchStrategy } from "../src/strategies.js";

const emulation = benchStrategy("emulation");

/** Emulation registered under another name. */
export const emulationCopy: StrategyDefinition = {
  ...emulation,
  name: "emulation-copy",
  description: "emulation under another name (bench tests)",
};

/** Refuses every configuration, as a strategy would refuse an invalid combination. */
export const refusesEverything: StrategyDefinition = {
  ...emulation,
  name: "refuses-everything",
  description: "refuses every VM (bench tests)",
  validate() {
    throw new HypervisorError("HV_UNSUPPORTED", "this test strategy refuses every VM");
  },
};
