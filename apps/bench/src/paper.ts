/**
 * Published figures the report sets hvkit's results beside (docs FACTS.md).
 * They are measurements of real x86 machines, for orientation: hvkit's
 * modeled cycles come from cost profiles anchored on some of them, never from
 * these tables directly.
 */

/** One nanobenchmark of Adams & Agesen (ASPLOS 2006), figure 4 and its raw-data appendix. */
export interface PaperNanobenchmark {
  /** The hvkit-kernel workload that does the same thing. */
  readonly workload: string;
  /** The paper's name for the test. */
  readonly test: string;
  /** Cycles on the 3.8 GHz Pentium 4 672, natively. */
  readonly native: number;
  /** Cycles under VMware's binary-translating VMM. */
  readonly bt: number;
  /** Cycles under the hardware VMM (first-generation VT-x, no nested paging). */
  readonly vt: number;
}

/** Adams & Agesen, "A Comparison of Software and Hardware Techniques for x86 Virtualization", ASPLOS 2006. */
export const ADAMS_AGESEN_SOURCE = "Adams & Agesen, ASPLOS 2006 (Pentium 4 672, first-generation VT-x)";
/** The full reference, for the report's method section. */
export const ADAMS_AGESEN_REFERENCE =
  'K. Adams and O. Agesen, "A Comparison of Software and Hardware Techniques for x86 Virtualization", ASPLOS 2006; measured on a 3.8 GHz Pentium 4 672 with first-generation VT-x (no nested paging)';
/** Barham et al., SOSP 2003. */
export const BARHAM_REFERENCE = 'P. Barham et al., "Xen and the Art of Virtualization", SOSP 2003';

/** Figure 4: native / BT / VT cycles per test, in the paper's order. */
export const ADAMS_AGESEN_NANO: readonly PaperNanobenchmark[] = [
  { workload: "syscall", test: "syscall", native: 242, bt: 2308, vt: 246 },
  { workload: "mmio-read", test: "in", native: 3209, bt: 216, vt: 15826 },
  { workload: "csr-write", test: "cr8wr", native: 150, bt: 35, vt: 177 },
  { workload: "call-ret", test: "call/ret", native: 11, bt: 51, vt: 11 },
  { workload: "pgfault", test: "pgfault", native: 1093, bt: 3927, vt: 11242 },
  { workload: "trap", test: "divzero", native: 889, bt: 3223, vt: 1014 },
  { workload: "ptemod", test: "ptemod", native: 1, bt: 391, vt: 12733 },
];

/** The paper's forkwait macrobenchmark: 40,000 fork/wait pairs, seconds. */
export const ADAMS_AGESEN_FORKWAIT = {
  operations: 40_000,
  pentium4: { native: 6.0, bt: 36.9, vt: 106.4 },
  core2: { native: 2.62, bt: 18.43, vt: 38.89 },
} as const;

/** Barham et al., "Xen and the Art of Virtualization", SOSP 2003: lmbench fork, microseconds. */
export const BARHAM_FORK_US = { native: 110, xen: 198, vmware: 874 } as const;

/** Barham et al.: one page-table-update hypercall batches up to this many updates. */
export const XEN_MMU_UPDATE_BATCH = 2048;

/** The paper's figure for a workload, if it has one. */
export function paperNano(workload: string): PaperNanobenchmark | undefined {
  return ADAMS_AGESEN_NANO.find((p) => p.workload === workload);
}
