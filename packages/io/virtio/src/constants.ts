/**
 * Numbers from the virtio 1.2 specification (OASIS, 2022): the virtio-mmio
 * register map (4.2.2), device status bits (2.1), reserved feature bits (6),
 * split-virtqueue flags (2.7) and device IDs (5).
 */

/** virtio-mmio register offsets (4.2.2, table "MMIO Device Register Layout"). */
export const MMIO = {
  MAGIC_VALUE: 0x000,
  VERSION: 0x004,
  DEVICE_ID: 0x008,
  VENDOR_ID: 0x00c,
  DEVICE_FEATURES: 0x010,
  DEVICE_FEATURES_SEL: 0x014,
  DRIVER_FEATURES: 0x020,
  DRIVER_FEATURES_SEL: 0x024,
  QUEUE_SEL: 0x030,
  QUEUE_NUM_MAX: 0x034,
  QUEUE_NUM: 0x038,
  QUEUE_READY: 0x044,
  QUEUE_NOTIFY: 0x050,
  INTERRUPT_STATUS: 0x060,
  INTERRUPT_ACK: 0x064,
  STATUS: 0x070,
  QUEUE_DESC_LOW: 0x080,
  QUEUE_DESC_HIGH: 0x084,
  QUEUE_DRIVER_LOW: 0x090,
  QUEUE_DRIVER_HIGH: 0x094,
  QUEUE_DEVICE_LOW: 0x0a0,
  QUEUE_DEVICE_HIGH: 0x0a4,
  SHM_SEL: 0x0ac,
  SHM_LEN_LOW: 0x0b0,
  SHM_LEN_HIGH: 0x0b4,
  SHM_BASE_LOW: 0x0b8,
  SHM_BASE_HIGH: 0x0bc,
  QUEUE_RESET: 0x0c0,
  CONFIG_GENERATION: 0x0fc,
  CONFIG: 0x100,
} as const;

/** Device status bits (2.1). Writing 0 resets the device. */
export const STATUS = {
  ACKNOWLEDGE: 1,
  DRIVER: 2,
  DRIVER_OK: 4,
  FEATURES_OK: 8,
  DEVICE_NEEDS_RESET: 64,
  FAILED: 128,
} as const;

/** InterruptStatus bits (4.2.2). */
export const INTERRUPT = {
  /** The device used a buffer in at least one queue. */
  USED_BUFFER: 1,
  /** The configuration changed (also: the device needs a reset). */
  CONFIG_CHANGE: 2,
} as const;

/** Reserved feature bits (6) the transport deals with. */
export const FEATURE = {
  RING_INDIRECT_DESC: 28,
  RING_EVENT_IDX: 29,
  VERSION_1: 32,
  ACCESS_PLATFORM: 33,
  RING_PACKED: 34,
} as const;

/** Split virtqueue descriptor flags (2.7.5). */
export const VIRTQ_DESC_F = { NEXT: 1, WRITE: 2, INDIRECT: 4 } as const;
/** avail.flags: the driver asks for no used-buffer notifications (without EVENT_IDX). */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** used.flags: the device asks for no available-buffer notifications (without EVENT_IDX). */
export const VIRTQ_USED_F_NO_NOTIFY = 1;

/** Device IDs (5). */
export const DEVICE_ID = {
  NET: 1,
  BLOCK: 2,
  CONSOLE: 3,
  ENTROPY: 4,
} as const;

/** The largest split-virtqueue size (2.7: Queue Size is at most 32768). */
export const MAX_QUEUE_SIZE = 32768;
