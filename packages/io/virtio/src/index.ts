/**
 * @hvkit/virtio — paravirtual split drivers: the virtio-mmio transport
 * (virtio 1.2, 4.2, version 2), split virtqueues hardened against hostile
 * guests (2.7), and the block, console, network and entropy devices with
 * host backends. Put a device in a VM with
 * `Vm.create(strategy, { ..., devices: [virtioMmio(new VirtioBlk({ backend }))] })`.
 */
export {
  DEVICE_ID,
  FEATURE,
  INTERRUPT,
  MAX_QUEUE_SIZE,
  MMIO,
  STATUS,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F,
  VIRTQ_USED_F_NO_NOTIFY,
} from "./constants.js";
export { emptyCounters, type VirtioCounters, type VirtioDevice, type VirtioHost } from "./device.js";
export { HOLD, VirtioDeviceBase } from "./device-base.js";
export {
  type BlockBackend,
  MemoryDisk,
  SECTOR_SIZE,
  VIRTIO_BLK_F,
  VIRTIO_BLK_ID_BYTES,
  VIRTIO_BLK_S,
  VIRTIO_BLK_T,
  VirtioBlk,
  type VirtioBlkCounters,
  type VirtioBlkOptions,
} from "./devices/blk.js";
export {
  VirtioConsole,
  type VirtioConsoleCounters,
  type VirtioConsoleOptions,
  type VirtioConsoleState,
} from "./devices/console.js";
export {
  connectNet,
  MAX_FRAME_BYTES,
  type NetBackend,
  netLoopback,
  VIRTIO_NET_F,
  VIRTIO_NET_HDR_BYTES,
  VIRTIO_NET_S_LINK_UP,
  VirtioNet,
  type VirtioNetCounters,
  type VirtioNetOptions,
  type VirtioNetState,
} from "./devices/net.js";
export {
  RNG_MAX_REQUEST_BYTES,
  VirtioRng,
  type VirtioRngOptions,
  type VirtioRngState,
} from "./devices/rng.js";
export { VirtioError, type VirtioErrorCode } from "./errors.js";
export { GuestMemory } from "./memory.js";
export { DescriptorChain, SplitQueue } from "./queue.js";
export {
  type VirtioEvents,
  VirtioMmio,
  type VirtioMmioOptions,
  type VirtioMmioState,
  type VirtioQueueState,
  virtioMmio,
} from "./transport.js";
