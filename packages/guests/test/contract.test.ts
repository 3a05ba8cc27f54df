/**
 * hvkit's own guests through the hypervisor contract suite, with emulation
 * as both baseline and strategy: every guest must finish with its expected
 * output, and a second run must reproduce the first (after normalize(),
 * which drops only the MEASURE lines).
 */
import { contractSuite } from "@hvkit/hypervisor/testing";
// A path, not the package: see hvkit-kernel.test.ts.
import { emulation } from "../../strategies/emulation/src/index.js";
import { hvkitBareMetalGuests, hvkitKernelGuests } from "../src/node/index.js";

contractSuite({
  baseline: emulation,
  strategies: [emulation],
  guests: [
    ...hvkitKernelGuests(),
    ...hvkitKernelGuests({ build: "pv", workloads: ["selftest", "forkwait"] }),
    ...hvkitBareMetalGuests(),
  ],
});
