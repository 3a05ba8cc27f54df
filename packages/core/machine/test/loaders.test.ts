/**
 * Loaders: ELF by physical address, RISC-V Linux Images (plain, gzip, EFI
 * zboot) at ramBase + text_offset, raw blobs, and high placement of an
 * initrd and a devicetree. Every kind of bad input gets its own typed error.
 */
import { assembleElf } from "@hvkit/isa";
import { gzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import {
  gunzip,
  loadElfImage,
  loadKernel,
  loadLinuxImage,
  loadRaw,
  MachineError,
  parseLinuxImage,
  placeDtb,
  placeHigh,
  placeInitrd,
} from "../src/index.js";

const BASE = 0x8000_0000;
const MIB = 1 << 20;

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof MachineError) return e.code;
    throw e;
  }
  return "no error";
}

/** A synthetic RISC-V Linux Image: header plus `body` bytes of payload. */
function linuxImage(
  opts: { textOffset?: number; imageSize?: number; flags?: number; body?: number; efi?: boolean } = {},
) {
  const body = opts.body ?? 4096;
  const b = new Uint8Array(64 + body);
  const dv = new DataView(b.buffer);
  if (opts.efi) {
    b[0] = 0x4d; // "MZ" + c.li s4, -13 as in the kernel's head.S
    b[1] = 0x5a;
  } else {
    dv.setUint32(0, 0x0340006f, true); // j 0x40 (code0)
  }
  dv.setBigUint64(8, BigInt(opts.textOffset ?? 0x20_0000), true);
  dv.setBigUint64(16, BigInt(opts.imageSize ?? 0x30_0000), true);
  dv.setBigUint64(24, BigInt(opts.flags ?? 0), true);
  dv.setUint32(32, 2, true); // version 0.2
  b.set(new TextEncoder().encode("RISCV\0\0\0"), 48);
  b.set(Uint8Array.of(0x52, 0x53, 0x43, 0x05), 56); // "RSC\x05"
  for (let i = 64; i < b.length; i++) b[i] = i & 0xff;
  return b;
}

/** An EFI zboot wrapper around `payload` (gzip), compression name `comp`. */
function zboot(payload: Uint8Array, comp = "gzip"): Uint8Array {
  const off = 0x200;
  const b = new Uint8Array(off + payload.length + 64); // trailing bytes, like a PE's other sections
  const dv = new DataView(b.buffer);
  b.set([0x4d, 0x5a], 0);
  b.set(new TextEncoder().encode("zimg"), 4);
  dv.setUint32(8, off, true);
  dv.setUint32(12, payload.length - 4, true);
  b.set(new TextEncoder().encode(`${comp}\0`), 24);
  b.set(payload, off);
  return b;
}

describe("loadElfImage", () => {
  const src = `
_start:
  li a0, 1
  j _start
.data
value: .dword 0x1122334455667788
.bss
buf: .zero 64
`;

  it("loads PT_LOAD segments by physical address and zero-fills bss", () => {
    const ram = new Uint8Array(4 * MIB).fill(0xaa);
    const elf = assembleElf(src, { base: BigInt(BASE + 0x1000) });
    const r = loadElfImage(ram, BASE, elf);
    expect(r.entry).toBe(BASE + 0x1000);
    expect(r.start).toBe(BASE + 0x1000);
    expect(r.segments.length).toBeGreaterThanOrEqual(2);
    expect(ram[0]).toBe(0xaa); // untouched below the image
    expect(ram[0x1000]).not.toBe(0xaa);
    const bss = r.segments.reduce((a, s) => (s.end > a.end ? s : a));
    expect(Array.from(ram.subarray(bss.end - BASE - 64, bss.end - BASE))).toEqual(new Array(64).fill(0));
  });

  it("refuses another architecture with MACHINE_NOT_RISCV", () => {
    const elf = assembleElf(src, { base: BigInt(BASE) });
    const x86 = elf.slice();
    x86[18] = 62;
    x86[19] = 0;
    expect(code(() => loadElfImage(new Uint8Array(MIB), BASE, x86))).toBe("MACHINE_NOT_RISCV");
    expect(() => loadElfImage(new Uint8Array(MIB), BASE, x86)).toThrow(/x86-64/);
    const rv32 = elf.slice();
    rv32[4] = 1;
    expect(() => loadElfImage(new Uint8Array(MIB), BASE, rv32)).toThrow(/RV32/);
  });

  it("reports truncated or non-ELF input as MACHINE_IMAGE_MALFORMED", () => {
    const elf = assembleElf(src, { base: BigInt(BASE) });
    expect(code(() => loadElfImage(new Uint8Array(MIB), BASE, elf.subarray(0, 100)))).toBe(
      "MACHINE_IMAGE_MALFORMED",
    );
    expect(code(() => loadElfImage(new Uint8Array(MIB), BASE, linuxImage()))).toBe("MACHINE_IMAGE_MALFORMED");
    const be = elf.slice();
    be[5] = 2;
    expect(code(() => loadElfImage(new Uint8Array(MIB), BASE, be))).toBe("MACHINE_NOT_RISCV"); // e_machine read big-endian
  });

  it("refuses segments outside RAM or larger than RAM, writing nothing", () => {
    const ram = new Uint8Array(MIB);
    expect(code(() => loadElfImage(ram, BASE, assembleElf(src, { base: 0x1000n })))).toBe(
      "MACHINE_IMAGE_OUTSIDE_RAM",
    );
    expect(code(() => loadElfImage(ram, BASE, assembleElf(src, { base: BigInt(BASE + MIB - 8) })))).toBe(
      "MACHINE_IMAGE_OUTSIDE_RAM",
    );
    const big = assembleElf(`${src}\n.bss\nhuge: .zero ${2 * MIB}\n`, { base: BigInt(BASE) });
    expect(code(() => loadElfImage(ram, BASE, big))).toBe("MACHINE_IMAGE_TOO_LARGE");
    expect(ram.every((b) => b === 0)).toBe(true);
  });
});

describe("parseLinuxImage", () => {
  it("reads the header fields", () => {
    const img = parseLinuxImage(linuxImage({ textOffset: 0x20_0000, imageSize: 0x30_0000 }));
    expect(img).toMatchObject({
      textOffset: 0x20_0000,
      imageSize: 0x30_0000,
      flags: 0n,
      version: { major: 0, minor: 2 },
      efiStub: false,
      compression: "none",
    });
    expect(parseLinuxImage(linuxImage({ efi: true })).efiStub).toBe(true);
    // image_size 0 (or smaller than the file): the file size counts.
    expect(parseLinuxImage(linuxImage({ imageSize: 0, body: 1000 })).imageSize).toBe(1064);
  });

  it("accepts gzip-compressed and EFI zboot (gzip) images", () => {
    const raw = linuxImage();
    const gz = parseLinuxImage(gzipSync(raw));
    expect(gz.compression).toBe("gzip");
    expect(gz.data).toEqual(raw);
    const zb = parseLinuxImage(zboot(gzipSync(raw)));
    expect(zb.compression).toBe("zboot-gzip");
    expect(zb.data).toEqual(raw);
    expect(code(() => parseLinuxImage(zboot(gzipSync(raw), "zstd")))).toBe("MACHINE_IMAGE_UNSUPPORTED");
  });

  it("refuses other architectures' kernels with MACHINE_NOT_RISCV", () => {
    const arm64 = linuxImage();
    arm64.set(new TextEncoder().encode("ARM\x64"), 56);
    expect(() => parseLinuxImage(arm64)).toThrow(/arm64/);
    expect(code(() => parseLinuxImage(arm64))).toBe("MACHINE_NOT_RISCV");
    const bz = new Uint8Array(0x1000);
    bz.set(new TextEncoder().encode("HdrS"), 0x202);
    expect(() => parseLinuxImage(bz)).toThrow(/x86 bzImage/);
    const pe = new Uint8Array(0x200);
    pe.set([0x4d, 0x5a]);
    new DataView(pe.buffer).setUint32(0x3c, 0x80, true);
    pe.set([0x50, 0x45, 0, 0, 0x64, 0xaa], 0x80); // "PE\0\0", machine 0xaa64
    expect(() => parseLinuxImage(pe)).toThrow(/AArch64/);
    const x86elf = assembleElf("nop", { base: BigInt(BASE) });
    x86elf[18] = 62;
    expect(code(() => parseLinuxImage(x86elf))).toBe("MACHINE_NOT_RISCV");
    expect(code(() => parseLinuxImage(gzipSync(arm64)))).toBe("MACHINE_NOT_RISCV");
  });

  it("says what to do with a RISC-V vmlinux ELF", () => {
    expect(() => parseLinuxImage(assembleElf("nop", { base: BigInt(BASE) }))).toThrow(/loadElfImage/);
  });

  it("reports truncated and corrupt input as MACHINE_IMAGE_MALFORMED", () => {
    expect(code(() => parseLinuxImage(linuxImage().subarray(0, 40)))).toBe("MACHINE_IMAGE_MALFORMED");
    const nomagic = linuxImage();
    nomagic.fill(0, 48, 64);
    expect(code(() => parseLinuxImage(nomagic))).toBe("MACHINE_IMAGE_MALFORMED");
    const gz = gzipSync(linuxImage({ body: 100_000 }));
    expect(code(() => parseLinuxImage(gz.subarray(0, gz.length >> 1)))).toBe("MACHINE_IMAGE_MALFORMED");
    const corrupt = gz.slice();
    for (let i = 20; i < 60; i++) corrupt[i] ^= 0x5a;
    expect(code(() => parseLinuxImage(corrupt))).toBe("MACHINE_IMAGE_MALFORMED");
    const badSize = gz.slice();
    badSize[badSize.length - 1] ^= 1; // ISIZE
    expect(() => parseLinuxImage(badSize)).toThrow(/trailer/);
    expect(code(() => parseLinuxImage(Uint8Array.of(0x1f, 0x8b, 8, 0)))).toBe("MACHINE_IMAGE_MALFORMED");
    const zb = zboot(gzipSync(linuxImage()));
    new DataView(zb.buffer).setUint32(8, 1 << 30, true);
    expect(code(() => parseLinuxImage(zb))).toBe("MACHINE_IMAGE_MALFORMED");
  });

  it("refuses a big-endian kernel with MACHINE_IMAGE_UNSUPPORTED", () => {
    expect(code(() => parseLinuxImage(linuxImage({ flags: 1 })))).toBe("MACHINE_IMAGE_UNSUPPORTED");
  });

  it("stops decompressing at maxSize with MACHINE_IMAGE_TOO_LARGE (a gzip bomb cannot exhaust the host)", () => {
    const bomb = gzipSync(new Uint8Array(8 * MIB));
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(code(() => parseLinuxImage(bomb, { maxSize: MIB }))).toBe("MACHINE_IMAGE_TOO_LARGE");
    expect(code(() => gunzip(bomb, MIB))).toBe("MACHINE_IMAGE_TOO_LARGE");
  });
});

describe("loadLinuxImage", () => {
  it("places the kernel at ramBase + text_offset and zeroes its bss up to image_size", () => {
    const ram = new Uint8Array(16 * MIB).fill(0xaa);
    const img = linuxImage({ imageSize: 0x30_0000 });
    const r = loadLinuxImage(ram, BASE, img);
    expect(r.entry).toBe(BASE + 0x20_0000);
    expect(r.end).toBe(BASE + 0x50_0000);
    expect(ram.subarray(0x20_0000, 0x20_0000 + img.length)).toEqual(img);
    expect(ram.subarray(0x20_0000 + img.length, 0x50_0000).every((b) => b === 0)).toBe(true);
    expect(ram[0x50_0000]).toBe(0xaa);
    expect(ram[0x1f_ffff]).toBe(0xaa);
  });

  it("rounds a load address up to 2 MiB", () => {
    const r = loadLinuxImage(new Uint8Array(16 * MIB), BASE, linuxImage({ textOffset: 0x1000 }));
    expect(r.entry).toBe(BASE + 0x20_0000);
  });

  it("refuses a kernel whose image_size does not fit with MACHINE_IMAGE_TOO_LARGE or _OUTSIDE_RAM", () => {
    expect(
      code(() => loadLinuxImage(new Uint8Array(2 * MIB), BASE, linuxImage({ imageSize: 4 * MIB }))),
    ).toBe("MACHINE_IMAGE_TOO_LARGE");
    expect(
      code(() => loadLinuxImage(new Uint8Array(4 * MIB), BASE, linuxImage({ imageSize: 3 * MIB }))),
    ).toBe("MACHINE_IMAGE_OUTSIDE_RAM");
  });

  it("loadKernel dispatches on the format", () => {
    const ram = new Uint8Array(16 * MIB);
    expect(loadKernel(ram, BASE, gzipSync(linuxImage()))).toMatchObject({
      format: "linux-image",
      entry: BASE + 0x20_0000,
    });
    expect(loadKernel(ram, BASE, assembleElf("nop", { base: BigInt(BASE + 0x1000) }))).toMatchObject({
      format: "elf",
      entry: BASE + 0x1000,
    });
  });
});

describe("raw blobs and placement", () => {
  it("loadRaw copies at an address inside RAM and refuses one outside", () => {
    const ram = new Uint8Array(MIB);
    expect(loadRaw(ram, BASE, BASE + 16, Uint8Array.of(1, 2))).toEqual({ start: BASE + 16, end: BASE + 18 });
    expect(ram[17]).toBe(2);
    expect(code(() => loadRaw(ram, BASE, BASE - 1, Uint8Array.of(1)))).toBe("MACHINE_IMAGE_OUTSIDE_RAM");
    expect(code(() => loadRaw(ram, BASE, BASE + MIB - 1, Uint8Array.of(1, 2)))).toBe(
      "MACHINE_IMAGE_OUTSIDE_RAM",
    );
  });

  it("placeDtb puts the blob at the top of RAM, 2 MiB aligned", () => {
    const ram = new Uint8Array(64 * MIB);
    const r = placeDtb(ram, BASE, new Uint8Array(5000).fill(7));
    expect(r).toEqual({ start: BASE + 62 * MIB, end: BASE + 62 * MIB + 5000 });
    expect(ram[62 * MIB]).toBe(7);
  });

  it("placeInitrd goes as high as it can, 4 KiB aligned, clear of the ranges to avoid", () => {
    const ram = new Uint8Array(64 * MIB);
    const top = { start: BASE + 63 * MIB, end: BASE + 64 * MIB };
    const r = placeInitrd(ram, BASE, new Uint8Array(10_000).fill(9), { avoid: [top] });
    expect(r.start % 4096).toBe(0);
    expect(r.end).toBeLessThanOrEqual(top.start);
    expect(top.start - r.end).toBeLessThan(4096);
    expect(ram[r.start - BASE]).toBe(9);
    // Free room above a small blob is used: nothing overlaps.
    const dtb = { start: BASE + 62 * MIB, end: BASE + 62 * MIB + 5000 };
    const r1 = placeHigh(ram, BASE, 10_000, { avoid: [dtb] });
    expect(r1.start).toBeGreaterThanOrEqual(dtb.end);
    // A kernel in the way pushes it below the kernel.
    const kernel = { start: BASE + 40 * MIB, end: BASE + 62 * MIB };
    const r2 = placeHigh(ram, BASE, 3 * MIB, { avoid: [dtb, kernel] });
    expect(r2.end).toBeLessThanOrEqual(kernel.start);
  });

  it("MACHINE_NO_SPACE when nothing fits", () => {
    const ram = new Uint8Array(4 * MIB);
    expect(
      code(() =>
        placeInitrd(ram, BASE, new Uint8Array(3 * MIB), {
          avoid: [{ start: BASE + MIB, end: BASE + 2 * MIB }],
        }),
      ),
    ).toBe("MACHINE_NO_SPACE");
    expect(code(() => placeDtb(ram, BASE, new Uint8Array(5 * MIB)))).toBe("MACHINE_NO_SPACE");
  });
});
