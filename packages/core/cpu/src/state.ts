/**
 * Where each piece of architectural CSR state lives in the hart's `csr`
 * Int32Array. 64-bit registers take two slots (low word first). Keeping the
 * state in one typed array makes snapshots a copy and keeps the hot path free
 * of object shapes.
 */
export const S = {
  MSTATUS: 0, // low word of mstatus (sstatus is a view of it)
  MSTATUS_HI: 1, // high word: only MPV (bit 39) and GVA (bit 38) are stored; SXL/UXL/SD are derived
  MEDELEG: 2,
  MIDELEG: 3,
  MIE: 4,
  MIP_SW: 5, // mip bits written by software (SSIP, STIP without Sstc, SEIP) and hvip (VSSIP, VSTIP, VSEIP)
  MIP_HW: 6, // mip bits driven by devices (MSIP, MTIP, MEIP, SEIP line)
  MCOUNTEREN: 7,
  MTVEC: 8,
  STVEC: 10,
  MEPC: 12,
  SEPC: 14,
  MTVAL: 16,
  STVAL: 18,
  MSCRATCH: 20,
  SSCRATCH: 22,
  MCAUSE: 24, // low: exception code; high: bit 31 = interrupt
  SCAUSE: 26,
  SATP: 28,
  SCOUNTEREN: 30,
  MCOUNTINHIBIT: 31,
  MENVCFG: 32,
  SENVCFG: 34,
  STIMECMP: 36,
  PMPCFG: 40, // 16 one-byte configurations, one per slot
  PMPADDR: 56, // 16 64-bit addresses
  // Hypervisor extension.
  HSTATUS: 88,
  HEDELEG: 90,
  HIDELEG: 91,
  HIE: 92, // unused: hie is a view of the VS bits of MIE
  HVIP: 93, // unused: hvip is kept in MIP_SW, where mip, hip and vsip see it
  HCOUNTEREN: 94,
  HGEIE: 95, // unused: GEILEN = 0, so hgeie is read-only zero
  HTVAL: 96,
  HTINST: 98,
  HGATP: 100,
  HENVCFG: 102,
  HTIMEDELTA: 104,
  MTVAL2: 106,
  MTINST: 108,
  VSSTATUS: 110,
  VSTVEC: 112,
  VSSCRATCH: 114,
  VSEPC: 116,
  VSCAUSE: 118,
  VSTVAL: 120,
  VSATP: 122,
  VSTIMECMP: 124,
  /** Number of slots. */
  SIZE: 128,
} as const;

/** Counter slots in the hart's `counters` Float64Array (exact up to 2^53). */
export const K = {
  /** Steps executed (instructions retired plus traps taken): the clock of the deterministic timebase. */
  CYCLES: 0,
  /** Instructions retired. */
  INSTRET: 1,
  /** Value subtracted from CYCLES to read mcycle (set by writes to mcycle). */
  MCYCLE_OFFSET: 2,
  /** Value subtracted from INSTRET to read minstret. */
  MINSTRET_OFFSET: 3,
  /** Ticks added to the derived time (WFI skips, restore). */
  TIME_OFFSET: 4,
  /** Instructions retired in U-mode (for per-mode statistics). */
  INSTRET_U: 5,
  /** Instructions retired in S-mode. */
  INSTRET_S: 6,
  /** Instructions retired in M-mode. */
  INSTRET_M: 7,
  /** Instructions retired in VU-mode (H extension; U-mode counts only V=0). */
  INSTRET_VU: 8,
  /** Instructions retired in VS-mode (S-mode counts only HS-mode). */
  INSTRET_VS: 9,
  /** Number of slots. */
  SIZE: 10,
} as const;
