/**
 * @hvkit/shadow-paging — shadow page tables for strategies that run the
 * guest kernel deprivileged (trap-and-emulate, or hardware-assisted without
 * nested paging): the VMM's own Sv39/Sv48 tables mapping guest-virtual to
 * host-physical addresses, built from the guest's tables in VMM-private RAM,
 * one tree per guest address space and view (guest user, guest kernel,
 * guest kernel with SUM), synced on SFENCE.VMA or by write-protecting the
 * guest's page-table pages.
 */
export {
  type ShadowCounters,
  type ShadowOptions,
  ShadowPageTables,
  type ShadowSyncPolicy,
} from "./shadow.js";
export { Access, accessFaultCause, accessOfCause, FaultCause, pageFaultCause, Walk } from "./walk.js";
