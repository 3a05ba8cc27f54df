import { describe, expect, it } from "vitest";
import { describeKernelImage, EM_RISCV, inspectKernelImage, parseRiscvImageHeader } from "../src/index.js";
import { imageHeader } from "./helpers.js";

describe("inspectKernelImage", () => {
  it("recognises an EFI-capable RISC-V Image and reads its header", () => {
    const info = inspectKernelImage(imageHeader({ efi: true }));
    expect(info).toMatchObject({
      format: "riscv-image",
      efi: true,
      header: {
        textOffset: 0x200000,
        imageSize: 0x1e6b000,
        flags: 0,
        version: { major: 0, minor: 2 },
        hasMagic: true,
        hasMagic2: true,
        peOffset: 0x40,
      },
    });
    expect(describeKernelImage(info)).toBe(
      "RISC-V Image (PE/EFI application, PE header at 0x40), header v0.2, text_offset 0x200000, " +
        "image_size 0x1e6b000 (31895552 bytes), little-endian",
    );
  });

  it("recognises a flat Image, and one with only the old magic", () => {
    expect(inspectKernelImage(imageHeader({ efi: false }))).toMatchObject({
      format: "riscv-image",
      efi: false,
    });
    const old = parseRiscvImageHeader(imageHeader({ efi: false, magic2: false }));
    expect(old).toMatchObject({ hasMagic: true, hasMagic2: false, peOffset: 0 });
  });

  it("recognises gzip, ELF and EFI zboot, and admits what it does not know", () => {
    expect(inspectKernelImage(new Uint8Array([0x1f, 0x8b, 8, 0]))).toEqual({ format: "gzip" });
    const elf = new Uint8Array(64);
    elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    new DataView(elf.buffer).setUint16(18, EM_RISCV, true);
    expect(inspectKernelImage(elf)).toEqual({ format: "elf", elfClass: 64, machine: EM_RISCV });
    const zboot = new Uint8Array(64);
    zboot.set(new TextEncoder().encode("MZ\0\0zimg"));
    new DataView(zboot.buffer).setUint32(8, 0x1000, true);
    new DataView(zboot.buffer).setUint32(12, 0x123456, true);
    zboot.set(new TextEncoder().encode("zstd\0"), 24);
    expect(inspectKernelImage(zboot)).toEqual({
      format: "efi-zboot",
      compression: "zstd",
      payloadOffset: 0x1000,
      payloadSize: 0x123456,
    });
    expect(inspectKernelImage(new Uint8Array(64))).toEqual({ format: "unknown" });
    expect(inspectKernelImage(new Uint8Array(3))).toEqual({ format: "unknown" });
  });
});
