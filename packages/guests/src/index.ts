/**
 * @hvkit/guests — guest payloads for hvkit: hvkit-kernel's workload
 * interface and output format, a deterministic cpio "newc" writer and
 * reader, a busybox initramfs layout, and RISC-V kernel Image inspection.
 * Isomorphic; the images, the image builder, the Node-only fetcher and file
 * helpers are in "@hvkit/guests/node".
 */
export {
  type CpioEntry,
  type CpioRecord,
  type CpioWriteOptions,
  normalizeCpioPath,
  readCpio,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
  writeCpio,
} from "./cpio.js";
export { GuestsError, type GuestsErrorCode } from "./errors.js";
export {
  HVKIT_NANOBENCHMARKS,
  HVKIT_WORKLOADS,
  type HvkitBootargsOptions,
  type HvkitCheck,
  type HvkitMeasure,
  type HvkitOutput,
  type HvkitWorkload,
  type HvkitWorkloadKind,
  type HvkitWorkloadMode,
  hvkitBootargs,
  normalizeHvkitOutput,
  parseHvkitOutput,
} from "./hvkit-kernel.js";
export {
  type BusyboxInitramfsOptions,
  buildBusyboxInitramfs,
  busyboxAppletNames,
  busyboxInitramfsEntries,
  DEFAULT_INIT_SCRIPT,
  FALLBACK_APPLETS,
  gzipInitramfs,
  INIT_MODULE_DIR,
  INIT_SCRIPT_PATH,
  type InitramfsModule,
  initProgram,
} from "./initramfs.js";
export {
  describeKernelImage,
  EM_RISCV,
  inspectKernelImage,
  type KernelImageInfo,
  parseRiscvImageHeader,
  type RiscvImageHeader,
} from "./kernel-image.js";
