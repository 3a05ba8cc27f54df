/** Privilege levels (privileged spec 1.2). With the H extension these are nominal levels: VU and VS are U and S with V=1. */
export const PRV_U = 0;
/** Supervisor mode (HS-mode when the H extension is present). */
export const PRV_S = 1;
/** Machine mode. */
export const PRV_M = 3;

/** Synchronous exception causes (privileged spec, table "mcause values after trap"). */
export const Cause = {
  MISALIGNED_FETCH: 0,
  FETCH_ACCESS: 1,
  ILLEGAL_INSTRUCTION: 2,
  BREAKPOINT: 3,
  MISALIGNED_LOAD: 4,
  LOAD_ACCESS: 5,
  MISALIGNED_STORE: 6,
  STORE_ACCESS: 7,
  ECALL_U: 8,
  ECALL_S: 9,
  ECALL_VS: 10,
  ECALL_M: 11,
  FETCH_PAGE_FAULT: 12,
  LOAD_PAGE_FAULT: 13,
  STORE_PAGE_FAULT: 15,
  FETCH_GUEST_PAGE_FAULT: 20,
  LOAD_GUEST_PAGE_FAULT: 21,
  VIRTUAL_INSTRUCTION: 22,
  STORE_GUEST_PAGE_FAULT: 23,
} as const;

/** Interrupt numbers (bit positions in mip/mie). */
export const Irq = {
  SSI: 1,
  VSSI: 2,
  MSI: 3,
  STI: 5,
  VSTI: 6,
  MTI: 7,
  SEI: 9,
  VSEI: 10,
  MEI: 11,
  SGEI: 12,
} as const;

/** mstatus / sstatus fields (low word). */
export const MSTATUS = {
  SIE: 1 << 1,
  MIE: 1 << 3,
  SPIE: 1 << 5,
  UBE: 1 << 6,
  MPIE: 1 << 7,
  SPP: 1 << 8,
  VS: 3 << 9,
  MPP: 3 << 11,
  FS: 3 << 13,
  XS: 3 << 15,
  MPRV: 1 << 17,
  SUM: 1 << 18,
  MXR: 1 << 19,
  TVM: 1 << 20,
  TW: 1 << 21,
  TSR: 1 << 22,
} as const;

/** mstatus fields of the high word (bits 63:32) that the hart stores: H extension. */
export const MSTATUS_HI = {
  /** Bit 38: the trap into M-mode wrote a guest virtual address to mtval. */
  GVA: 1 << 6,
  /** Bit 39: the virtualization mode V before the trap into M-mode. */
  MPV: 1 << 7,
} as const;

/** hstatus fields (H extension 1.0, "Hypervisor Status Register"), low word; VSXL (bits 33:32) reads 2. */
export const HSTATUS = {
  /** Endianness of VS-mode accesses: read-only 0 (little-endian). */
  VSBE: 1 << 5,
  /** The trap into HS-mode wrote a guest virtual address to stval. */
  GVA: 1 << 6,
  /** V before the trap into HS-mode; sret from HS-mode returns to this V. */
  SPV: 1 << 7,
  /** Nominal privilege before the last trap from V=1: the privilege of hlv/hlvx/hsv. */
  SPVP: 1 << 8,
  /** hlv/hlvx/hsv are allowed in U-mode. */
  HU: 1 << 9,
  /** Guest external interrupt selected for VSEIP: read-only 0 (GEILEN = 0). */
  VGEIN: 0x3f << 12,
  /** sfence.vma and satp accesses in VS-mode raise virtual-instruction exceptions. */
  VTVM: 1 << 20,
  /** wfi in VS-mode raises a virtual-instruction exception. */
  VTW: 1 << 21,
  /** sret in VS-mode raises a virtual-instruction exception. */
  VTSR: 1 << 22,
} as const;

/** Why `hart.run()` returned. */
export const ExitReason = {
  /** The instruction budget ran out. */
  BUDGET: 0,
  /** The hart executed WFI with no interrupt pending: the host may skip time ahead. */
  WFI: 1,
  /** A synchronous exception selected by the exit controls; it was not delivered. */
  TRAP: 2,
  /** An interrupt became takeable and interrupts are set to exit; it was not delivered. */
  INTERRUPT: 3,
  /** The host (a device, a debugger) asked the hart to stop. */
  HALT: 4,
  /** A guest (V=1) CSR access selected by the CSR-access bitmap: `exit.csr`, `read`, `write`; not performed. */
  CSR: 5,
  /** A guest instruction selected by the per-instruction exit controls (`exit.cause` is a GuestInstruction); not executed. */
  INSTRUCTION: 6,
  /** A guest load or store to a guest-physical MMIO range (`exit.gpa`, `size`, `write`, `data`); not performed. */
  MMIO: 7,
} as const;

/** Names of the exit reasons, indexed by value. */
export const EXIT_REASON_NAMES: readonly string[] = [
  "budget",
  "wfi",
  "trap",
  "interrupt",
  "halt",
  "csr",
  "instruction",
  "mmio",
];

/** Human-readable names of exception causes, indexed by cause. */
export const CAUSE_NAMES: readonly string[] = [
  "instruction address misaligned",
  "instruction access fault",
  "illegal instruction",
  "breakpoint",
  "load address misaligned",
  "load access fault",
  "store/AMO address misaligned",
  "store/AMO access fault",
  "environment call from U-mode",
  "environment call from S-mode",
  "environment call from VS-mode",
  "environment call from M-mode",
  "instruction page fault",
  "load page fault",
  "reserved (14)",
  "store/AMO page fault",
  "reserved (16)",
  "reserved (17)",
  "reserved (18)",
  "reserved (19)",
  "instruction guest-page fault",
  "load guest-page fault",
  "virtual instruction",
  "store/AMO guest-page fault",
];
