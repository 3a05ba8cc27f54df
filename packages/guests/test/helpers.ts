/** A stand-in busybox: some bytes, a version banner and an applet name table as busybox stores it. */
export function fakeBusybox(applets: readonly string[] = defaultFakeApplets): Uint8Array {
  const enc = new TextEncoder();
  const parts = [
    new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]),
    enc.encode("\0junk [ not a table\0BusyBox v1.37.0 (Debian 1:1.37.0-6+b9) multi-call binary.\0\0"),
    enc.encode(`${applets.join("\0")}\0\0`),
    new Uint8Array(64).fill(0xaa),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Sorted like busybox's own table: "[" and "[[" first. */
export const defaultFakeApplets: readonly string[] =
  "[ [[ ash busybox cat dmesg echo insmod ls mkdir mount poweroff sh sleep true umount uname".split(" ");

/** A RISC-V Image header laid out as Documentation/arch/riscv/boot-image-header.rst describes. */
export function imageHeader(opts: {
  efi: boolean;
  textOffset?: number;
  imageSize?: number;
  magic2?: boolean;
}): Uint8Array {
  const b = new Uint8Array(256);
  const v = new DataView(b.buffer);
  if (opts.efi)
    v.setUint32(0, 0x10_6f_5a_4d, true); // "MZ" + c.li s4,-13 ... as Linux emits
  else v.setUint32(0, 0x0000_006f, true);
  v.setUint32(4, 0x00010d60, true);
  v.setBigUint64(8, BigInt(opts.textOffset ?? 0x200000), true);
  v.setBigUint64(16, BigInt(opts.imageSize ?? 0x1e6b000), true);
  v.setBigUint64(24, 0n, true);
  v.setUint32(32, 0x00000002, true); // version 0.2
  b.set(new TextEncoder().encode("RISCV\0\0\0"), 48);
  if (opts.magic2 !== false) b.set(new TextEncoder().encode("RSC\x05"), 56);
  if (opts.efi) {
    v.setUint32(60, 0x40, true);
    b.set(new TextEncoder().encode("PE\0\0"), 0x40);
  }
  return b;
}
