/**
 * Putting guest software into RAM: ELF executables by physical address,
 * RISC-V Linux Images (Documentation/arch/riscv/boot-image-header.rst), raw
 * binaries, and placing an initrd and a devicetree high in RAM.
 *
 * Every loader checks the whole input before writing a byte, and reports bad
 * input with a {@link MachineError}: `MACHINE_IMAGE_MALFORMED` (corrupt or
 * truncated), `MACHINE_NOT_RISCV` (another architecture),
 * `MACHINE_IMAGE_UNSUPPORTED` (a valid variant we do not load),
 * `MACHINE_IMAGE_TOO_LARGE` / `MACHINE_IMAGE_OUTSIDE_RAM` / `MACHINE_NO_SPACE`.
 * Physical addresses are numbers below 2^32.
 */
import { EM_RISCV, ET_REL, IsaError, PT_LOAD, readElf } from "@hvkit/isa";
import { Inflate } from "fflate";
import { hex, MachineError } from "./errors.js";

/** A physical address range [start, end). */
export interface Region {
  start: number;
  end: number;
}

const MIB = 1024 * 1024;
/** Alignment of a 64-bit kernel's load address (one Sv39/Sv48 megapage). */
export const KERNEL_ALIGN = 2 * MIB;
/** Alignment of a placed devicetree (QEMU uses 2 MiB so early fixmap code sees one megapage). */
export const DTB_ALIGN = 2 * MIB;
/** Alignment of a placed initrd. */
export const INITRD_ALIGN = 4096;

const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;
const alignDown = (v: number, a: number): number => Math.floor(v / a) * a;

function ramRange(ram: Uint8Array, ramBase: number): string {
  return `${hex(ramBase)}..${hex(ramBase + ram.length)}`;
}

/** Check [start, start+size) lies in RAM, with a typed error naming `what`. */
function checkInRam(ram: Uint8Array, ramBase: number, start: number, size: number, what: string): void {
  if (size > ram.length) {
    throw new MachineError(
      "MACHINE_IMAGE_TOO_LARGE",
      `${what} needs ${size} bytes but RAM is ${ram.length} bytes; give the machine more memory`,
    );
  }
  if (start < ramBase || start + size > ramBase + ram.length) {
    throw new MachineError(
      "MACHINE_IMAGE_OUTSIDE_RAM",
      `${what} at ${hex(start)}..${hex(start + size)} is outside RAM ${ramRange(ram, ramBase)}; link it for addresses inside RAM or give the machine more memory`,
    );
  }
}

// ---------------------------------------------------------------------------
// ELF.

/** What {@link loadElfImage} loaded. */
export interface ElfLoad {
  /** Physical entry point (the ELF entry translated through the segment that holds it). */
  entry: number;
  /** The ELF entry as written (a virtual address for a linked kernel). */
  virtualEntry: bigint;
  /** Lowest loaded physical address. */
  start: number;
  /** End of the highest loaded segment (exclusive). */
  end: number;
  /** Each PT_LOAD segment's physical range. */
  segments: Region[];
}

/** The e_machine of an ELF file (either class, either byte order), or -1 when not ELF. */
function elfMachine(bytes: Uint8Array): number {
  if (bytes.length < 20 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    return -1;
  }
  return bytes[5] === 2 ? (bytes[18]! << 8) | bytes[19]! : bytes[18]! | (bytes[19]! << 8);
}

const ELF_MACHINES: Readonly<Record<number, string>> = {
  3: "x86 (i386)",
  8: "MIPS",
  20: "PowerPC",
  21: "PowerPC64",
  22: "s390",
  40: "ARM",
  62: "x86-64",
  183: "AArch64",
  258: "LoongArch",
};

/** True when `bytes` start with the ELF magic. */
export function isElf(bytes: Uint8Array): boolean {
  return elfMachine(bytes) >= 0;
}

/**
 * Load an ELF executable's PT_LOAD segments at their physical addresses
 * (p_paddr), zero-filling each segment's tail past its file size.
 */
export function loadElfImage(ram: Uint8Array, ramBase: number, bytes: Uint8Array): ElfLoad {
  const machine = elfMachine(bytes);
  if (machine < 0) {
    throw new MachineError(
      "MACHINE_IMAGE_MALFORMED",
      "not an ELF file (no \\x7fELF magic); for a Linux Image use loadLinuxImage, for a flat binary loadRaw",
    );
  }
  if (machine !== EM_RISCV) {
    throw new MachineError(
      "MACHINE_NOT_RISCV",
      `the ELF file is for ${ELF_MACHINES[machine] ?? `machine ${machine}`}, not RISC-V; build it for riscv64`,
    );
  }
  if (bytes[4] === 1) {
    throw new MachineError(
      "MACHINE_NOT_RISCV",
      "the ELF file is 32-bit (RV32); this machine is RV64: build for riscv64",
    );
  }
  let elf: ReturnType<typeof readElf>;
  try {
    elf = readElf(bytes);
  } catch (e) {
    if (e instanceof IsaError) {
      const code = e.code === "ISA_ELF_UNSUPPORTED" ? "MACHINE_IMAGE_UNSUPPORTED" : "MACHINE_IMAGE_MALFORMED";
      throw new MachineError(code, `ELF: ${e.message}`, { cause: e });
    }
    throw e;
  }
  if (elf.type === ET_REL) {
    throw new MachineError(
      "MACHINE_IMAGE_UNSUPPORTED",
      "the ELF file is a relocatable object (ET_REL); link it into an executable first",
    );
  }
  const loads = elf.segments.filter((s) => s.type === PT_LOAD && s.memSize > 0);
  if (loads.length === 0) {
    throw new MachineError(
      "MACHINE_IMAGE_MALFORMED",
      "the ELF file has no PT_LOAD segment with contents: nothing to load",
    );
  }
  const segments: Region[] = [];
  for (const s of loads) {
    if (s.paddr >= 1n << 32n) {
      throw new MachineError(
        "MACHINE_IMAGE_OUTSIDE_RAM",
        `ELF segment at physical ${hex(s.paddr)} is outside RAM ${ramRange(ram, ramBase)} (physical addresses end at 4 GiB); link it for RAM`,
      );
    }
    if (s.fileSize > s.memSize) {
      throw new MachineError(
        "MACHINE_IMAGE_MALFORMED",
        `ELF segment at ${hex(s.paddr)}: p_filesz ${s.fileSize} exceeds p_memsz ${s.memSize}`,
      );
    }
    const pa = Number(s.paddr);
    checkInRam(ram, ramBase, pa, s.memSize, `ELF segment at ${hex(pa)} (${s.memSize} bytes)`);
    segments.push({ start: pa, end: pa + s.memSize });
  }
  for (const s of loads) {
    const off = Number(s.paddr) - ramBase;
    ram.set(s.data.subarray(0, s.fileSize), off);
    ram.fill(0, off + s.fileSize, off + s.memSize);
  }
  // The physical entry: translate through the segment whose virtual range holds it.
  let entry = -1;
  for (const s of loads) {
    if (elf.entry >= s.vaddr && elf.entry < s.vaddr + BigInt(s.memSize)) {
      entry = Number(s.paddr + (elf.entry - s.vaddr));
      break;
    }
  }
  if (entry < 0) {
    if (elf.entry >= 1n << 32n) {
      throw new MachineError(
        "MACHINE_IMAGE_MALFORMED",
        `ELF entry ${hex(elf.entry)} lies in no loaded segment and is not a physical address`,
      );
    }
    entry = Number(elf.entry);
  }
  return {
    entry,
    virtualEntry: elf.entry,
    start: Math.min(...segments.map((r) => r.start)),
    end: Math.max(...segments.map((r) => r.end)),
    segments,
  };
}

// ---------------------------------------------------------------------------
// gzip.

/** Bytes fed to the inflater at a time (so an oversized output is caught early). */
const INFLATE_CHUNK = 64 * 1024;

/**
 * Decompress one gzip member (RFC 1952), refusing output beyond `maxSize`.
 * With `checkSize`, the trailer's ISIZE must match (the input is exactly one
 * member); otherwise bytes after the deflate stream are ignored.
 */
export function gunzip(bytes: Uint8Array, maxSize: number, what = "gzip data", checkSize = true): Uint8Array {
  const bad = (msg: string): MachineError => new MachineError("MACHINE_IMAGE_MALFORMED", `${what}: ${msg}`);
  if (bytes.length < 18 || bytes[0] !== 0x1f || bytes[1] !== 0x8b)
    throw bad("not gzip data (no 1f 8b magic)");
  if (bytes[2] !== 8) throw bad(`compression method ${bytes[2]} is not deflate (8)`);
  const flags = bytes[3]!;
  let p = 10;
  if (flags & 4) {
    p += 2 + (bytes[p]! | (bytes[p + 1]! << 8)); // FEXTRA
  }
  for (const bit of [8, 16]) {
    // FNAME, FCOMMENT: NUL-terminated
    if (flags & bit) {
      const nul = bytes.indexOf(0, p);
      if (nul < 0) throw bad("truncated header");
      p = nul + 1;
    }
  }
  if (flags & 2) p += 2; // FHCRC
  if (p >= bytes.length) throw bad("truncated header");
  const chunks: Uint8Array[] = [];
  let total = 0;
  const inflater = new Inflate((chunk) => {
    total += chunk.length;
    if (total > maxSize) {
      throw new MachineError(
        "MACHINE_IMAGE_TOO_LARGE",
        `${what} decompresses to more than ${maxSize} bytes; give the machine more memory`,
      );
    }
    if (chunk.length > 0) chunks.push(chunk);
  });
  try {
    for (let at = p; at < bytes.length; at += INFLATE_CHUNK) {
      const end = Math.min(at + INFLATE_CHUNK, bytes.length);
      inflater.push(bytes.subarray(at, end), end === bytes.length);
    }
  } catch (e) {
    if (e instanceof MachineError) throw e;
    throw bad(`corrupt or truncated deflate stream (${e instanceof Error ? e.message : String(e)})`);
  }
  if (checkSize) {
    const n = bytes.length;
    const isize =
      (bytes[n - 4]! | (bytes[n - 3]! << 8) | (bytes[n - 2]! << 16) | (bytes[n - 1]! << 24)) >>> 0;
    if (isize !== total % 2 ** 32) {
      throw bad(
        `decompressed ${total} bytes but the trailer says ${isize}: the file is corrupt or truncated`,
      );
    }
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

// ---------------------------------------------------------------------------
// Linux Image.

/** Size of the RISC-V Image header. */
export const LINUX_IMAGE_HEADER_SIZE = 64;
const MAGIC2 = 0x05435352; // "RSC\x05"
const ARM64_MAGIC = 0x644d5241; // "ARM\x64"
const PE_MACHINES: Readonly<Record<number, string>> = {
  332: "x86 (i386)",
  34404: "x86-64",
  43620: "AArch64",
  452: "ARM",
  25188: "LoongArch64",
  20530: "RISC-V 32-bit",
};

/** A parsed (and if need be decompressed) RISC-V Linux Image. */
export interface LinuxImage {
  /** Load offset from the start of RAM (text_offset). */
  textOffset: number;
  /** Bytes the kernel occupies once running, including bss (image_size; the file size when 0). */
  imageSize: number;
  /** Header flags (bit 0: big-endian). */
  flags: bigint;
  /** Header version. */
  version: { major: number; minor: number };
  /** True when the Image carries a PE/COFF header for the EFI stub ("MZ" at 0). */
  efiStub: boolean;
  /** How the input was packed. */
  compression: "none" | "gzip" | "zboot-gzip";
  /** The uncompressed Image bytes. */
  data: Uint8Array;
}

/** Options of {@link parseLinuxImage}. */
export interface ParseLinuxImageOptions {
  /** Largest decompressed size accepted (default 1 GiB). */
  maxSize?: number;
}

/** "arm64", "x86", ... when `bytes` look like another architecture's kernel, else undefined. */
function foreignKernel(b: Uint8Array): string | undefined {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length >= 64 && dv.getUint32(56, true) === ARM64_MAGIC) return "an arm64 Linux Image";
  if (b.length >= 0x206 && dv.getUint32(0x202, true) === 0x53726448) return "an x86 bzImage"; // "HdrS"
  if (b.length >= 0x40 && b[0] === 0x4d && b[1] === 0x5a) {
    const pe = dv.getUint32(0x3c, true);
    if (pe + 6 <= b.length && dv.getUint32(pe, true) === 0x00004550) {
      const m = dv.getUint16(pe + 4, true);
      if (m !== 0x5064) return `a PE/EFI image for ${PE_MACHINES[m] ?? `machine ${hex(m)}`}`;
    }
  }
  const m = elfMachine(b);
  if (m >= 0 && m !== EM_RISCV) return `an ELF file for ${ELF_MACHINES[m] ?? `machine ${m}`}`;
  return undefined;
}

/**
 * Parse a RISC-V Linux Image: plain, gzip-compressed (Image.gz), or an EFI
 * zboot image whose payload is gzip ("MZ" then "zimg" at offset 4).
 */
export function parseLinuxImage(bytes: Uint8Array, options: ParseLinuxImageOptions = {}): LinuxImage {
  const maxSize = options.maxSize ?? 1024 * MIB;
  let data = bytes;
  let compression: LinuxImage["compression"] = "none";
  if (isGzip(bytes)) {
    data = gunzip(bytes, maxSize, "gzip-compressed kernel");
    compression = "gzip";
  } else if (
    bytes.length >= 64 &&
    bytes[0] === 0x4d &&
    bytes[1] === 0x5a &&
    bytes[4] === 0x7a && // "zimg"
    bytes[5] === 0x69 &&
    bytes[6] === 0x6d &&
    bytes[7] === 0x67
  ) {
    // EFI zboot (drivers/firmware/efi/libstub/zboot-header.S): payload offset
    // and size at 8 and 12, the compression name at 24.
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const off = dv.getUint32(8, true);
    const size = dv.getUint32(12, true);
    const nul = bytes.indexOf(0, 24);
    const comp = new TextDecoder().decode(bytes.subarray(24, nul < 0 || nul > 56 ? 56 : nul));
    if (comp !== "gzip") {
      throw new MachineError(
        "MACHINE_IMAGE_UNSUPPORTED",
        `EFI zboot kernel compressed with "${comp}"; only gzip is supported: rebuild with CONFIG_KERNEL_GZIP or pass the uncompressed arch/riscv/boot/Image`,
      );
    }
    if (off >= bytes.length || size === 0) {
      throw new MachineError(
        "MACHINE_IMAGE_MALFORMED",
        `EFI zboot kernel: payload at ${off} (${size} bytes) is outside the ${bytes.length}-byte file (truncated?)`,
      );
    }
    data = gunzip(bytes.subarray(off), maxSize, "EFI zboot kernel payload", false);
    compression = "zboot-gzip";
  }

  const foreign = foreignKernel(data);
  if (foreign !== undefined) {
    throw new MachineError("MACHINE_NOT_RISCV", `the kernel is ${foreign}, not RISC-V; use a riscv64 kernel`);
  }
  if (isElf(data)) {
    throw new MachineError(
      "MACHINE_IMAGE_UNSUPPORTED",
      "the kernel is an ELF file (vmlinux), not an Image; load it with loadElfImage or pass arch/riscv/boot/Image",
    );
  }
  if (data.length < LINUX_IMAGE_HEADER_SIZE) {
    throw new MachineError(
      "MACHINE_IMAGE_MALFORMED",
      `a RISC-V Linux Image starts with a 64-byte header; this file has ${data.length} bytes (truncated?)`,
    );
  }
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const magic = new TextDecoder().decode(data.subarray(48, 53));
  if (dv.getUint32(56, true) !== MAGIC2 && magic !== "RISCV") {
    throw new MachineError(
      "MACHINE_IMAGE_MALFORMED",
      'not a RISC-V Linux Image: neither magic2 "RSC\\x05" at offset 56 nor magic "RISCV" at 48; pass arch/riscv/boot/Image or Image.gz',
    );
  }
  const textOffset = dv.getBigUint64(8, true);
  const imageSize = dv.getBigUint64(16, true);
  const flags = dv.getBigUint64(24, true);
  const version = dv.getUint32(32, true);
  if ((flags & 1n) !== 0n) {
    throw new MachineError(
      "MACHINE_IMAGE_UNSUPPORTED",
      "the Image header says the kernel is big-endian (flags bit 0); this machine is little-endian",
    );
  }
  if (textOffset >= 1n << 32n || imageSize >= 1n << 32n) {
    throw new MachineError(
      "MACHINE_IMAGE_MALFORMED",
      `Image header: text_offset ${hex(textOffset)} or image_size ${hex(imageSize)} is beyond 4 GiB (corrupt header)`,
    );
  }
  return {
    textOffset: Number(textOffset),
    imageSize: Math.max(Number(imageSize), data.length),
    flags,
    version: { major: version >>> 16, minor: version & 0xffff },
    efiStub: data[0] === 0x4d && data[1] === 0x5a,
    compression,
    data,
  };
}

/** What {@link loadLinuxImage} loaded. */
export interface LinuxLoad {
  /** Load address = entry point (the first instruction, code0). */
  entry: number;
  /** End of the kernel's footprint (load address + image_size), exclusive. */
  end: number;
  /** The parsed Image. */
  image: LinuxImage;
}

/**
 * Load a RISC-V Linux Image (plain, gzip or zboot) at ramBase + text_offset,
 * rounded up to 2 MiB, and zero the rest of its image_size footprint (bss).
 */
export function loadLinuxImage(ram: Uint8Array, ramBase: number, bytes: Uint8Array | LinuxImage): LinuxLoad {
  const image = bytes instanceof Uint8Array ? parseLinuxImage(bytes, { maxSize: ram.length }) : bytes;
  const entry = alignUp(ramBase + image.textOffset, KERNEL_ALIGN);
  checkInRam(ram, ramBase, entry, image.imageSize, `the kernel (${image.imageSize} bytes at ${hex(entry)})`);
  const off = entry - ramBase;
  ram.set(image.data, off);
  ram.fill(0, off + image.data.length, off + image.imageSize);
  return { entry, end: entry + image.imageSize, image };
}

/** What {@link loadKernel} loaded. */
export interface KernelLoad extends Region {
  /** Physical entry point. */
  entry: number;
  /** The input's format. */
  format: "elf" | "linux-image";
}

/** Load a kernel that is either an ELF executable or a (possibly compressed) Linux Image. */
export function loadKernel(ram: Uint8Array, ramBase: number, bytes: Uint8Array): KernelLoad {
  if (isElf(bytes)) {
    const e = loadElfImage(ram, ramBase, bytes);
    return { entry: e.entry, start: e.start, end: e.end, format: "elf" };
  }
  const l = loadLinuxImage(ram, ramBase, bytes);
  return { entry: l.entry, start: l.entry, end: l.end, format: "linux-image" };
}

// ---------------------------------------------------------------------------
// Raw blobs and placement.

/** Copy `bytes` into RAM at physical `address` (firmware, flat binaries). */
export function loadRaw(ram: Uint8Array, ramBase: number, address: number, bytes: Uint8Array): Region {
  checkInRam(ram, ramBase, address, bytes.length, `the ${bytes.length}-byte blob at ${hex(address)}`);
  ram.set(bytes, address - ramBase);
  return { start: address, end: address + bytes.length };
}

/** Options of {@link placeHigh}, {@link placeInitrd} and {@link placeDtb}. */
export interface PlaceOptions {
  /** Ranges the blob must not overlap (the kernel, other blobs). */
  avoid?: readonly Region[];
  /** Alignment of the start address (a power of two). */
  align?: number;
  /** Place below this address (default: the end of RAM). */
  below?: number;
}

/**
 * The highest `align`-aligned start at which `size` bytes fit in RAM below
 * `below` without overlapping any `avoid` range. Throws `MACHINE_NO_SPACE`.
 */
export function placeHigh(
  ram: Uint8Array,
  ramBase: number,
  size: number,
  options: PlaceOptions = {},
): Region {
  const align = options.align ?? INITRD_ALIGN;
  const avoid = options.avoid ?? [];
  let top = Math.min(options.below ?? ramBase + ram.length, ramBase + ram.length);
  for (;;) {
    const start = alignDown(top - size, align);
    if (start < ramBase) {
      throw new MachineError(
        "MACHINE_NO_SPACE",
        `no room for ${size} bytes (aligned to ${hex(align)}) in RAM ${ramRange(ram, ramBase)} clear of ${avoid.map((r) => `${hex(r.start)}..${hex(r.end)}`).join(", ") || "nothing"}; give the machine more memory`,
      );
    }
    const end = start + size;
    const hit = avoid.find((r) => start < r.end && r.start < end);
    if (hit === undefined) return { start, end };
    top = hit.start;
  }
}

/** Copy an initrd high in RAM (4 KiB aligned, clear of `avoid`) and return where. */
export function placeInitrd(
  ram: Uint8Array,
  ramBase: number,
  initrd: Uint8Array,
  options: PlaceOptions = {},
): Region {
  const r = placeHigh(ram, ramBase, initrd.length, { align: INITRD_ALIGN, ...options });
  ram.set(initrd, r.start - ramBase);
  return r;
}

/** Copy a DTB high in RAM (2 MiB aligned as QEMU does, clear of `avoid`) and return where. */
export function placeDtb(
  ram: Uint8Array,
  ramBase: number,
  dtb: Uint8Array,
  options: PlaceOptions = {},
): Region {
  const r = placeHigh(ram, ramBase, dtb.length, { align: DTB_ALIGN, ...options });
  ram.set(dtb, r.start - ramBase);
  return r;
}
