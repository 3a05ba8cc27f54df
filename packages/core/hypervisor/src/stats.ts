/**
 * VM statistics: one schema for every strategy, so runs can be compared side
 * by side (and merged across machines and commits: the schema is versioned).
 */

/** Privilege modes instructions are counted by. */
export type GuestMode = "M" | "S" | "U" | "VS" | "VU";

/** The statistics of a VM run. */
export interface VmStats {
  /** Schema identifier and version. */
  schema: "hvkit.vm-stats/1";
  /** The strategy that ran the guest. */
  strategy: string;
  /** The techniques it composes. */
  techniques: { cpu: string; memory: string; io: string[] };
  /** Guest instructions retired, in total and by the mode the guest was in (its own view of its modes). */
  instructions: { total: number; byMode: Partial<Record<GuestMode, number>> };
  /** Steps of the deterministic clock (instructions plus traps taken). */
  steps: number;
  /** Exits to the VMM by reason ("sbi", "wfi", "mmio", "csr", ...). */
  exits: { total: number; byReason: Record<string, number> };
  /** Hypercalls (SBI and paravirtual) by name. */
  hypercalls: { total: number; byName: Record<string, number> };
  /** Modeled cycles by event category, with the profile used. */
  cycles: { profile: string; total: number; byCategory: Record<string, number> };
  /** Host wall-clock seconds spent running the guest. */
  wallSeconds: number;
  /** Strategy-specific counters (basic-block cache, shadow paging, two-stage walks, virtqueues...). */
  counters: Record<string, number>;
}
