/** The contract suite's snapshot check (`snapshots: true`) over its built-in guests, under every strategy. */
import { emulation } from "@hvkit/emulation";
import { builtinGuests, contractSuite } from "@hvkit/hypervisor/testing";
import { STRATEGIES } from "./helpers.js";

contractSuite({ baseline: emulation, strategies: STRATEGIES, guests: builtinGuests(), snapshots: true });
