/**
 * The contract suite: every guest gives the emulation baseline's console
 * output and exit status under hardware-assisted virtualization, with
 * nested paging and with shadow paging (both sync policies): the built-in
 * S-mode guests, hvkit's own kernel (every workload) and bare-metal programs.
 */
import { emulation } from "@hvkit/emulation";
import { hvkitBareMetalGuests, hvkitKernelGuests } from "@hvkit/guests/node";
import { builtinGuests, contractSuite } from "@hvkit/hypervisor/testing";
import {
  hardwareAssistedNested,
  hardwareAssistedShadow,
  hardwareAssistedShadowWriteProtect,
} from "../src/index.js";

contractSuite({
  baseline: emulation,
  strategies: [hardwareAssistedNested, hardwareAssistedShadow, hardwareAssistedShadowWriteProtect],
  guests: [...builtinGuests(), ...hvkitBareMetalGuests(), ...hvkitKernelGuests()],
});
