/**
 * A check the loaders cannot make: whether an EFI-stub Linux Image is whole.
 * The Image header's image_size counts BSS, so a short file looks like a
 * valid Image and would boot into zeros; the PE/COFF section table says how
 * many bytes the file must have (the end of the last section's raw data).
 */
import { CliError } from "./io.js";

/** PE/COFF: e_lfanew, the offset of "PE\0\0" (the Image header's res4 field, at the same place). */
const E_LFANEW = 0x3c;
/** Signature plus COFF file header. */
const PE_HEADERS = 4 + 20;
/** Bytes per section table entry. */
const SECTION_ENTRY = 40;

/**
 * Throw CLI_KERNEL_TRUNCATED when `bytes` is an EFI-stub RISC-V Image ("MZ",
 * Image magic) shorter than its own PE/COFF headers say. Anything else is
 * left to the loader, which names what it is not.
 */
export function checkKernelImageComplete(bytes: Uint8Array, path: string): void {
  if (bytes.length < 64 || bytes[0] !== 0x4d || bytes[1] !== 0x5a) return;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic2 = view.getUint32(56, true) === 0x05435352; // "RSC\x05"
  const magic = new TextDecoder().decode(bytes.subarray(48, 53)) === "RISCV";
  if (!magic && !magic2) return;
  const truncated = (needed: number, what: string): CliError =>
    new CliError(
      "CLI_KERNEL_TRUNCATED",
      `${path}: the Linux Image is truncated: its ${what} needs ${needed} bytes, the file has ${bytes.length}; copy the kernel again (compare its size and checksum with the original)`,
    );
  const pe = view.getUint32(E_LFANEW, true);
  if (pe === 0) return;
  if (pe + PE_HEADERS > bytes.length) throw truncated(pe + PE_HEADERS, "PE/COFF header");
  if (view.getUint32(pe, true) !== 0x00004550) return; // no "PE\0\0": a flat Image after all
  const sections = view.getUint16(pe + 6, true);
  const table = pe + PE_HEADERS + view.getUint16(pe + 20, true);
  const tableEnd = table + sections * SECTION_ENTRY;
  if (tableEnd > bytes.length) throw truncated(tableEnd, "PE/COFF section table");
  let end = 0;
  for (let at = table; at < tableEnd; at += SECTION_ENTRY) {
    const rawSize = view.getUint32(at + 16, true);
    const rawPointer = view.getUint32(at + 20, true);
    if (rawSize > 0) end = Math.max(end, rawPointer + rawSize);
  }
  if (end > bytes.length) throw truncated(end, "section table");
}
