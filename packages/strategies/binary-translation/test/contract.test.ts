/**
 * The contract suite: every guest gives the emulation baseline's console
 * output and exit status under binary translation, with both shadow sync
 * policies: the built-in S-mode guests, hvkit's own kernel (every workload)
 * and bare-metal programs. One more configuration translates everything at
 * first sight (no hotness threshold, no profile), so the guests run almost
 * entirely as translated code whatever their size.
 */
import { emulation } from "@hvkit/emulation";
import { hvkitBareMetalGuests, hvkitKernelGuests } from "@hvkit/guests/node";
import { builtinGuests, contractSuite } from "@hvkit/hypervisor/testing";
import { binaryTranslation, binaryTranslationSfence, binaryTranslationWriteProtect } from "../src/index.js";

contractSuite({
  baseline: emulation,
  strategies: [
    binaryTranslationSfence,
    binaryTranslationWriteProtect,
    binaryTranslation({
      name: "binary-translation (translate at once)",
      translation: { threshold: 0, missThreshold: 1, profileSteps: 0, discovery: "static" },
    }),
  ],
  guests: [...builtinGuests(), ...hvkitBareMetalGuests(), ...hvkitKernelGuests()],
});
