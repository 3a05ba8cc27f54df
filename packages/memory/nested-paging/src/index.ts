/**
 * @hvkit/nested-paging — nested paging for hardware-assisted strategies: the
 * VMM's G-stage tables (Sv39x4 or Sv48x4, 4 KiB pages or 2 MiB megapages) in
 * VMM-private RAM, mapping guest-physical RAM to the same host-physical RAM
 * and leaving device pages unmapped (MMIO exits), with single-page windows
 * for a VMM that single-steps one access to a device.
 */
export {
  type GStageMode,
  type GStagePageSize,
  type NestedCounters,
  NestedPageTables,
  type NestedPagingOptions,
} from "./nested.js";
