/**
 * The contract suite: every guest gives the emulation baseline's console
 * output and exit status under trap-and-emulate, with both shadow sync
 * policies: the built-in S-mode guests, hvkit's own kernel (every workload)
 * and bare-metal programs.
 */
import { emulation } from "@hvkit/emulation";
import { hvkitBareMetalGuests, hvkitKernelGuests } from "@hvkit/guests/node";
import { builtinGuests, contractSuite } from "@hvkit/hypervisor/testing";
import { trapAndEmulateSfence, trapAndEmulateWriteProtect } from "../src/index.js";

contractSuite({
  baseline: emulation,
  strategies: [trapAndEmulateSfence, trapAndEmulateWriteProtect],
  guests: [...builtinGuests(), ...hvkitBareMetalGuests(), ...hvkitKernelGuests()],
});
