/**
 * The emulation baseline runs the contract suite against itself: it must
 * finish every guest with the expected output, and two runs must agree byte
 * for byte (determinism).
 */
import { builtinGuests, contractSuite } from "@hvkit/hypervisor/testing";
import { emulation } from "../src/index.js";

contractSuite({ baseline: emulation, strategies: [emulation], guests: builtinGuests() });
