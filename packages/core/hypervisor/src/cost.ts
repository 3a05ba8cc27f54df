/**
 * Cost models. Wall time measures this simulator; modeled cycles measure the
 * virtualization technique: every event a strategy causes has a cost in a
 * named profile, and reports say which profile they used. The two figures are
 * always reported side by side, never mixed.
 */

/** The events a strategy can be charged for. */
export interface CostTable {
  /** One guest instruction retired (the modeled CPI). */
  instruction: number;
  /** An exception or interrupt delivered inside the guest (trap entry). */
  trap: number;
  /** A trap return inside the guest (mret/sret). */
  trapReturn: number;
  /** Leaving guest mode for the VMM (VM exit, or a trap into a software VMM). */
  vmExit: number;
  /** Re-entering the guest (VM entry, or the software VMM's return to the guest). */
  vmEntry: number;
  /** A VMM read of a VM control structure field (VMCS/VMCB read). */
  exitControlRead: number;
  /** A VMM write of a VM control structure field. */
  exitControlWrite: number;
  /** A privileged instruction emulated by a trap-and-emulate VMM (decode + emulate, beyond exit/entry). */
  emulateInstruction: number;
  /** A binary-translation callout into the VMM. */
  callout: number;
  /** A sensitive instruction emulated inline in translated code. */
  inCacheEmulation: number;
  /** Translating one guest instruction. */
  translatePerInstruction: number;
  /** Updating one shadow page-table entry. */
  shadowSyncPte: number;
  /** One step of a two-stage (nested) page walk beyond the native walk. */
  twoStageWalkStep: number;
  /** Emulating one device register access in the VMM (beyond the exit). */
  mmioEmulation: number;
  /** One virtqueue notification (kick) handled by the backend. */
  virtqueueNotify: number;
  /** One hypercall handled by the VMM (beyond the exit). */
  hypercall: number;
}

/** A named set of event costs with its sources. */
export interface CostProfile {
  /** Name used on the command line and in reports. */
  readonly name: string;
  /** What machine the figures describe. */
  readonly description: string;
  /** Where each figure comes from (see FACTS.md); estimates say so. */
  readonly sources: readonly string[];
  /** Cycles per event. */
  readonly cycles: Readonly<CostTable>;
}

/**
 * The 3.8 GHz Pentium 4 672 of Adams & Agesen (ASPLOS 2006): first-generation
 * VT-x, no nested paging. Their measured figures where they exist.
 */
export const PENTIUM4_2006: CostProfile = {
  name: "p4-2006",
  description: "Pentium 4 672, 3.8 GHz, first-generation VT-x (Adams & Agesen, ASPLOS 2006)",
  sources: [
    "instruction: 1 cycle (modeled CPI; call/ret natively 11 cycles for ~4 instructions)",
    "trap + trapReturn: native syscall round trip 242 cycles, split evenly",
    "vmExit: page-fault VM exit 1931 cycles; vmEntry: VM entry 2409 cycles",
    "exitControlRead/Write: VMCB read 178 / write 171 cycles",
    "emulateInstruction: rdtsc by trap-and-emulate 2030 cycles, less one exit+entry of a software VMM (~1000 cycles, estimate)",
    "callout: rdtsc by callout-and-emulate 1254 cycles; inCacheEmulation: rdtsc in the translation cache 216 cycles",
    "translatePerInstruction: estimate (the paper gives none): 200 cycles",
    "shadowSyncPte: ptemod under BT 391 cycles (one PTE write traced and synced)",
    "twoStageWalkStep: not applicable to this machine (no nested paging); 30-cycle estimate for comparison runs",
    "mmioEmulation: 'in' under VT 15826 cycles less one exit+entry (~11500, estimate)",
    "virtqueueNotify, hypercall: estimates from the exit cost (1000, 300)",
  ],
  cycles: {
    instruction: 1,
    trap: 121,
    trapReturn: 121,
    vmExit: 1931,
    vmEntry: 2409,
    exitControlRead: 178,
    exitControlWrite: 171,
    emulateInstruction: 1030,
    callout: 1254,
    inCacheEmulation: 216,
    translatePerInstruction: 200,
    shadowSyncPte: 391,
    twoStageWalkStep: 30,
    mmioEmulation: 11500,
    virtqueueNotify: 1000,
    hypercall: 300,
  },
};

/** A modern core with hardware virtualization: VM exit round trip ~500-600 cycles. */
export const MODERN: CostProfile = {
  name: "modern",
  description:
    "A Skylake/Cascade Lake-class core: exit+entry round trip ~550 cycles (vmlatency measurements)",
  sources: [
    "vmExit + vmEntry: vmlatency round trip Skylake ~610-630, Cascade Lake ~440-518 cycles: 275 + 275",
    "trap + trapReturn: ~100 cycles round trip for a native system call (estimate)",
    "exitControlRead/Write: Core 2 VMCB read 52 / write 44 cycles, taken as an upper bound",
    "other figures scaled from the 2006 profile by the ratio of exit costs (estimates)",
  ],
  cycles: {
    instruction: 1,
    trap: 50,
    trapReturn: 50,
    vmExit: 275,
    vmEntry: 275,
    exitControlRead: 52,
    exitControlWrite: 44,
    emulateInstruction: 300,
    callout: 400,
    inCacheEmulation: 60,
    translatePerInstruction: 100,
    shadowSyncPte: 150,
    twoStageWalkStep: 20,
    mmioEmulation: 2000,
    virtqueueNotify: 300,
    hypercall: 100,
  },
};

/** Built-in profiles by name. */
export const COST_PROFILES: Readonly<Record<string, CostProfile>> = {
  [PENTIUM4_2006.name]: PENTIUM4_2006,
  [MODERN.name]: MODERN,
};

/** The profile used when a VmConfig names none. */
export const DEFAULT_COST_PROFILE = MODERN;

/** Counts of chargeable events, accumulated by the VMM core and the strategy. */
export type CostEvents = { [K in keyof CostTable]: number };

/** A zeroed event count. */
export function emptyCostEvents(): CostEvents {
  return {
    instruction: 0,
    trap: 0,
    trapReturn: 0,
    vmExit: 0,
    vmEntry: 0,
    exitControlRead: 0,
    exitControlWrite: 0,
    emulateInstruction: 0,
    callout: 0,
    inCacheEmulation: 0,
    translatePerInstruction: 0,
    shadowSyncPte: 0,
    twoStageWalkStep: 0,
    mmioEmulation: 0,
    virtqueueNotify: 0,
    hypercall: 0,
  };
}

/** Modeled cycles by category (event count x cost) and their total. */
export function modeledCycles(
  events: CostEvents,
  profile: CostProfile,
): { byCategory: CostEvents; total: number } {
  const byCategory = emptyCostEvents();
  let total = 0;
  for (const k of Object.keys(byCategory) as (keyof CostTable)[]) {
    const c = events[k] * profile.cycles[k];
    byCategory[k] = c;
    total += c;
  }
  return { byCategory, total };
}
