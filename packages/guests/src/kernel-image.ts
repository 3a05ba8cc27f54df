/**
 * Recognises the forms a RISC-V Linux kernel ships in and parses the RISC-V
 * Image header (Documentation/arch/riscv/boot-image-header.rst), which tells
 * a loader where in RAM the Image goes (`text_offset` above a 2 MiB aligned
 * base) and how much memory it occupies (`image_size`, BSS included).
 */

/** The 64-byte RISC-V Image header at the start of an `Image` (flat or EFI). */
export interface RiscvImageHeader {
  /** First instruction word (in an EFI Image, "MZ" plus a harmless instruction). */
  code0: number;
  /** Second instruction word (a jump to the real entry). */
  code1: number;
  /** Offset from a 2 MiB aligned RAM base at which the Image must be loaded. */
  textOffset: number;
  /** Bytes of memory the loaded kernel occupies, BSS included; 0 in very old kernels. */
  imageSize: number;
  /** Kernel flags; bit 0 is the kernel's endianness (0 = little). */
  flags: number;
  /** Header version, major in the high 16 bits. */
  version: { major: number; minor: number };
  /** Whether the deprecated 64-bit magic "RISCV\0\0\0" is present. */
  hasMagic: boolean;
  /** Whether magic2 "RSC\x05" (header version 0.2 and later) is present. */
  hasMagic2: boolean;
  /** Offset of the PE/COFF header ("PE\0\0"), or 0 when there is none. */
  peOffset: number;
}

/** What `inspectKernelImage` found. */
export type KernelImageInfo =
  | {
      /** A bootable RISC-V `Image`, flat or doubling as an EFI application. */
      format: "riscv-image";
      /** Whether it is also a PE/COFF EFI application ("MZ" at 0, "PE\0\0" at peOffset). */
      efi: boolean;
      /** The parsed Image header. */
      header: RiscvImageHeader;
    }
  | {
      /** An EFI zboot image: a small EFI stub around a compressed Image. */
      format: "efi-zboot";
      /** Compression of the payload as the header names it ("gzip", "zstd", ...). */
      compression: string;
      /** Offset of the compressed payload in the file. */
      payloadOffset: number;
      /** Size of the compressed payload. */
      payloadSize: number;
    }
  | {
      /** A gzip stream (for example Image.gz); decompress before loading. */
      format: "gzip";
    }
  | {
      /** An ELF file (for example an unstripped vmlinux). */
      format: "elf";
      /** 32 or 64 from e_ident[EI_CLASS]. */
      elfClass: 32 | 64;
      /** e_machine; 243 is RISC-V. */
      machine: number;
    }
  | {
      /** Nothing recognised. */
      format: "unknown";
    };

/** "RISCV\0\0\0" read as a little-endian u64 (the header's deprecated magic). */
const IMAGE_MAGIC = 0x5643534952n;
/** "RSC\x05" read as a little-endian u32 (magic2). */
const IMAGE_MAGIC2 = 0x05435352;
/** e_machine of RISC-V (ELF psABI). */
export const EM_RISCV = 243;

function u64(view: DataView, at: number): number {
  const v = view.getBigUint64(at, true);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Number.NaN;
}

/** Parses the RISC-V Image header, or returns undefined when neither magic is present. */
export function parseRiscvImageHeader(bytes: Uint8Array): RiscvImageHeader | undefined {
  if (bytes.length < 64) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hasMagic = view.getBigUint64(48, true) === IMAGE_MAGIC;
  const hasMagic2 = view.getUint32(56, true) === IMAGE_MAGIC2;
  if (!hasMagic && !hasMagic2) return undefined;
  const version = view.getUint32(32, true);
  const peOffset = view.getUint32(60, true);
  const pe =
    peOffset !== 0 &&
    peOffset + 4 <= bytes.length &&
    bytes[peOffset] === 0x50 &&
    bytes[peOffset + 1] === 0x45 &&
    bytes[peOffset + 2] === 0 &&
    bytes[peOffset + 3] === 0;
  return {
    code0: view.getUint32(0, true),
    code1: view.getUint32(4, true),
    textOffset: u64(view, 8),
    imageSize: u64(view, 16),
    flags: u64(view, 24),
    version: { major: version >>> 16, minor: version & 0xffff },
    hasMagic,
    hasMagic2,
    peOffset: pe ? peOffset : 0,
  };
}

/** Recognises a kernel file from its first bytes (64 are enough for every format here). */
export function inspectKernelImage(bytes: Uint8Array): KernelImageInfo {
  const b = (i: number) => bytes[i] ?? -1;
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (b(0) === 0x7f && ascii(1, 4) === "ELF") {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const little = b(5) !== 2;
    return {
      format: "elf",
      elfClass: b(4) === 1 ? 32 : 64,
      machine: bytes.length >= 20 ? view.getUint16(18, little) : 0,
    };
  }
  if (b(0) === 0x1f && b(1) === 0x8b) return { format: "gzip" };
  if (b(0) === 0x4d && b(1) === 0x5a && ascii(4, 8) === "zimg" && bytes.length >= 40) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const type = bytes.subarray(24, 40);
    const nul = type.indexOf(0);
    return {
      format: "efi-zboot",
      compression: String.fromCharCode(...type.subarray(0, nul === -1 ? type.length : nul)),
      payloadOffset: view.getUint32(8, true),
      payloadSize: view.getUint32(12, true),
    };
  }
  const header = parseRiscvImageHeader(bytes);
  if (header !== undefined) {
    return { format: "riscv-image", efi: b(0) === 0x4d && b(1) === 0x5a && header.peOffset !== 0, header };
  }
  return { format: "unknown" };
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** A one-line human description, e.g. "RISC-V Image (PE/EFI), header v0.2, text_offset 0x200000, ...". */
export function describeKernelImage(info: KernelImageInfo): string {
  switch (info.format) {
    case "riscv-image": {
      const h = info.header;
      const kind = info.efi ? `PE/EFI application, PE header at ${hex(h.peOffset)}` : "flat";
      return (
        `RISC-V Image (${kind}), ` +
        `header v${h.version.major}.${h.version.minor}, text_offset ${hex(h.textOffset)}, ` +
        `image_size ${hex(h.imageSize)} (${h.imageSize} bytes), ${h.flags & 1 ? "big" : "little"}-endian`
      );
    }
    case "efi-zboot":
      return `EFI zboot image (${info.compression} payload of ${info.payloadSize} bytes at ${hex(info.payloadOffset)})`;
    case "gzip":
      return "gzip-compressed (decompress to get the Image)";
    case "elf":
      return `ELF${info.elfClass} (e_machine ${info.machine}${info.machine === EM_RISCV ? ", RISC-V" : ""})`;
    case "unknown":
      return "unrecognised format";
  }
}
