/**
 * Codes shared by the guest walker and the shadow tables.
 */

/** Kinds of access, as the hart's translation distinguishes them. */
export const Access = {
  /** Instruction fetch. */
  FETCH: 0,
  /** Load (and LR). */
  LOAD: 1,
  /** Store (and SC, AMOs). */
  STORE: 2,
} as const;

/** What {@link ShadowPageTables.fill} and {@link ShadowPageTables.translate} found. */
export const Walk = {
  /** The guest's translation allows the access and reaches guest RAM (fill: a shadow entry now maps it). */
  RAM: 0,
  /** The guest's own translation faults: the cause is in `faultCause`, to be reflected to the guest. */
  GUEST_FAULT: 1,
  /** The guest's translation allows the access but reaches no RAM (`gpa`): a device (MMIO) or a hole. */
  NOT_RAM: 2,
  /** A store to a write-protected guest page-table page (`gpa`): the VMM emulates it and calls `pteWritten`. */
  PT_WRITE: 3,
} as const;

/** Exception causes (privileged spec table 3.6) the walker reports. */
export const FaultCause = {
  FETCH_ACCESS: 1,
  LOAD_ACCESS: 5,
  STORE_ACCESS: 7,
  FETCH_PAGE_FAULT: 12,
  LOAD_PAGE_FAULT: 13,
  STORE_PAGE_FAULT: 15,
} as const;

/** The access-fault cause for an access kind. */
export function accessFaultCause(acc: number): number {
  return acc === Access.FETCH
    ? FaultCause.FETCH_ACCESS
    : acc === Access.LOAD
      ? FaultCause.LOAD_ACCESS
      : FaultCause.STORE_ACCESS;
}

/** The page-fault cause for an access kind. */
export function pageFaultCause(acc: number): number {
  return acc === Access.FETCH
    ? FaultCause.FETCH_PAGE_FAULT
    : acc === Access.LOAD
      ? FaultCause.LOAD_PAGE_FAULT
      : FaultCause.STORE_PAGE_FAULT;
}

/** The access kind a page-fault or access-fault cause reports. */
export function accessOfCause(cause: number): number {
  switch (cause) {
    case FaultCause.FETCH_ACCESS:
    case FaultCause.FETCH_PAGE_FAULT:
      return Access.FETCH;
    case FaultCause.LOAD_ACCESS:
    case FaultCause.LOAD_PAGE_FAULT:
      return Access.LOAD;
    default:
      return Access.STORE;
  }
}
