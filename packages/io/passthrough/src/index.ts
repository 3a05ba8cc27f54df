/**
 * @hvkit/passthrough: direct device assignment. A host device given to one
 * VM: its registers mapped straight into the guest (no exit per access), its
 * DMA translated and confined by a per-VM IOMMU domain.
 */
export {
  AssignedDevice,
  IommuMemory,
  PassthroughBlk,
  type PassthroughBlkOptions,
  passthrough,
} from "./assigned.js";
export { PassthroughError, type PassthroughErrorCode } from "./errors.js";
export {
  IOMMU_FAULT,
  IOMMU_FAULT_LOG,
  type IommuCounters,
  IommuDomain,
  type IommuDomainOptions,
  type IommuFault,
} from "./iommu.js";
