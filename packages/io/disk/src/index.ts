/**
 * @hvkit/disk — disk images for hvkit's block devices: a synchronous
 * block-store interface with an in-memory adapter (a Node file adapter is in
 * `@hvkit/disk/node`), raw images, and qcow2 images (version 3, version 2
 * read and write) with copy-on-write overlays over backing images, zero and
 * compressed clusters, crash-safe write ordering and a consistency checker
 * that follows `qemu-img check`.
 */
export { DiskError, type DiskErrorCode } from "./errors.js";
export { checkRequest, type DiskFormat, type DiskImage, SECTOR_SIZE, sectorCount } from "./image.js";
export {
  type BackingResolver,
  DEFAULT_MAX_CHAIN_LENGTH,
  type OpenDiskImageOptions,
  openDiskImage,
  type ResolvedBacking,
} from "./open.js";
export { checkQcow2, type Qcow2CheckResult } from "./qcow2/check.js";
export { createOverlay, createQcow2, type OverlayOptions, type Qcow2CreateOptions } from "./qcow2/create.js";
export {
  isQcow2,
  type Qcow2BitmapsExtension,
  type Qcow2Extension,
  type Qcow2FeatureName,
  type Qcow2Snapshot,
} from "./qcow2/format.js";
export {
  type BackingOpener,
  featureSummary,
  Qcow2Image,
  type Qcow2Info,
  type Qcow2OpenOptions,
} from "./qcow2/image.js";
export { RawImage, type RawImageOptions } from "./raw.js";
export { type BlockStore, checkStoreRange, isZero, MemoryStore, type MemoryStoreOptions } from "./store.js";
