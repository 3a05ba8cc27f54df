/**
 * The hvkit paravirtual hypercall ABI, version 1.0: the numbers of ABI.md
 * (this package) and of the guest's C binding
 * (packages/guests/kernel/include/hvkit_pv.h), which must agree with these.
 */

/** The extension ID in the SBI's vendor-specific range (0x09000000-0x09FFFFFF): 0x09 then "HVP". */
export const PV_EID = 0x09485650;
/** ABI version returned by PV_GET_VERSION: major << 16 | minor. */
export const PV_ABI_VERSION = 0x00010000;

/** Function IDs (a6). */
export const PvCall = {
  GET_VERSION: 0,
  SET_SHARED: 1,
  SET_TRAP: 2,
  SET_ROOT: 3,
  MMU_UPDATE: 4,
  TLB_FLUSH: 5,
  TABLE_RELEASE: 6,
  IRQ_CHECK: 7,
  IRQ_CLEAR: 8,
  SET_TIMER: 9,
  CONSOLE_WRITE: 10,
  IDLE: 11,
  YIELD: 12,
  SHUTDOWN: 13,
  BLK_NOTIFY: 14,
  TRAP_RETURN: 15,
} as const;

/** Names of the function IDs, for `vm.stats.hypercalls` ("pv.<name>"). */
export const PV_CALL_NAMES = [
  "get_version",
  "set_shared",
  "set_trap",
  "set_root",
  "mmu_update",
  "tlb_flush",
  "table_release",
  "irq_check",
  "irq_clear",
  "set_timer",
  "console_write",
  "idle",
  "yield",
  "shutdown",
  "blk_notify",
  "trap_return",
] as const;

/** Flush operations of MMU_UPDATE (after the updates) and TLB_FLUSH. */
export const PvFlush = { NONE: 0, ALL: 1, PAGE: 2, ASID: 3 } as const;

/** Most requests in one MMU_UPDATE (Xen's mmu_update batches up to 2048 too: FACTS.md). */
export const PV_MMU_BATCH_MAX = 2048;
/** Bytes of one MMU_UPDATE request: { u64 ptr; u64 val }. */
export const PV_MMU_REQUEST_BYTES = 16;
/** Most bytes one CONSOLE_WRITE sends. */
export const PV_CONSOLE_MAX = 4096;

/** Byte offsets of the shared page's fields (struct pv_shared). */
export const PvShared = {
  IRQ_ENABLED: 0,
  IRQ_MASK: 4,
  IRQ_PENDING: 8,
  IRQ_TOGGLES: 12,
  HYPERCALLS: 16,
  TRAP_CAUSE: 24,
  TRAP_EPC: 32,
  TRAP_TVAL: 40,
  TRAP_STATUS: 48,
  KERNEL_SP: 56,
  USER_SP: 64,
  RET_A6: 72,
  RET_A7: 80,
} as const;

/** Interrupt bits of the shared page's mask and pending words (sie / sip positions). */
export const PvIrq = { SOFT: 1 << 1, TIMER: 1 << 5, EXTERNAL: 1 << 9 } as const;

/** Why an update or call was refused, for the counters (`pv.rejected.<reason>`). */
export const PV_REJECT_REASONS = [
  /** Reserved PTE bits set, W without R, a misaligned superpage, a link at level 0. */
  "malformed",
  /** A PTE, a request array or a buffer in the VMM's private memory right above guest RAM. */
  "vmm-memory",
  /** An address that is neither this VM's RAM nor one of its devices. */
  "foreign",
  /** A 4 KiB user leaf (U and W) that would make a page-table page writable from user mode. */
  "pt-writable",
  /** A direct guest store to a page-table page (they are read-only to the guest). */
  "pt-store",
  /** A table linked at two different levels. */
  "level-conflict",
  /** More than PV_MMU_BATCH_MAX requests in one call. */
  "batch-too-large",
  /** A root, shared page or device that is not acceptable (misaligned, in use, not a virtio slot). */
  "bad-argument",
  /** Releasing the current root, or a page that is not a page table. */
  "bad-release",
] as const;
