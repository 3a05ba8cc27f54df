/**
 * @hvkit/machine — the simulated RISC-V `virt` board: a device bus, the
 * CLINT, PLIC, ns16550a UART, SiFive test/syscon and virtio-mmio slots at
 * QEMU's addresses, a flattened-devicetree writer and reader, and loaders for
 * ELF executables and RISC-V Linux Images.
 */
export {
  type BootInfo,
  DEFAULT_RAM_SIZE,
  type DevicetreeOptions,
  RISCV_ISA,
  RISCV_ISA_EXTENSIONS,
  type RunReason,
  type RunResult,
  TIMEBASE_FREQUENCY,
  VIRT_IRQ,
  VIRT_MEMORY_MAP,
  VirtBoard,
  type VirtBoardConfig,
  type VirtBoardCounters,
  type VirtBoardDeviceState,
  type VirtioSlotContext,
  type VirtioSlotFactory,
} from "./board.js";
export { Bus, type BusMapping } from "./bus.js";
export { type AccessSize, type Device, type IrqLine, NO_IRQ, type Stateful } from "./device.js";
export {
  CLINT_MSIP,
  CLINT_MTIME,
  CLINT_MTIMECMP,
  CLINT_SIZE,
  Clint,
  type ClintClock,
  type ClintEvents,
  type ClintOptions,
  type ClintState,
} from "./devices/clint.js";
export {
  PLIC_CONTEXT,
  PLIC_CONTEXT_STRIDE,
  PLIC_ENABLE,
  PLIC_ENABLE_STRIDE,
  PLIC_MAX_PRIORITY,
  PLIC_NDEV,
  PLIC_PENDING,
  PLIC_SIZE,
  Plic,
  type PlicEvents,
  type PlicOptions,
  type PlicState,
} from "./devices/plic.js";
export {
  FINISHER_FAIL,
  FINISHER_PASS,
  FINISHER_RESET,
  type PowerOffStatus,
  SifiveTest,
  type SifiveTestOptions,
  SYSCON_SIZE,
} from "./devices/syscon.js";
export {
  UART_FIFO_SIZE,
  UART_SIZE,
  Uart16550,
  type UartEvents,
  type UartOptions,
  type UartState,
} from "./devices/uart.js";
export {
  VIRTIO_MMIO_MAGIC,
  VIRTIO_MMIO_SIZE,
  VIRTIO_MMIO_VERSION,
  VIRTIO_VENDOR_ID,
  VirtioMmioEmpty,
} from "./devices/virtio-empty.js";
export { MachineError, type MachineErrorCode } from "./errors.js";
export { FDT_MAGIC, type Fdt, FdtBuilder, type FdtBuilderOptions, FdtNode, readDtb } from "./fdt.js";
export {
  DTB_ALIGN,
  type ElfLoad,
  gunzip,
  INITRD_ALIGN,
  isElf,
  KERNEL_ALIGN,
  type KernelLoad,
  LINUX_IMAGE_HEADER_SIZE,
  type LinuxImage,
  type LinuxLoad,
  loadElfImage,
  loadKernel,
  loadLinuxImage,
  loadRaw,
  type ParseLinuxImageOptions,
  type PlaceOptions,
  parseLinuxImage,
  placeDtb,
  placeHigh,
  placeInitrd,
  type Region,
} from "./loaders.js";
