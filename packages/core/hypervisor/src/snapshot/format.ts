/**
 * The snapshot container: a versioned, checksummed sequence of tagged
 * sections. Layout (little-endian; see the package README, "Snapshot format"):
 *
 *   header   magic "HVKSNAP\0" (8) | u16 major | u16 minor | u32 section count | u32 CRC-32 of the 16 bytes before
 *   section  tag (4 ASCII bytes) | u32 payload length | u32 CRC-32 of the payload | payload
 *   trailer  "HEND" | u32 total file length
 *
 * A reader refuses a file whose magic is wrong (SNAPSHOT_NOT_A_SNAPSHOT),
 * whose major version it does not know (SNAPSHOT_VERSION), that ends early
 * (SNAPSHOT_TRUNCATED) or whose checksums or structure do not hold
 * (SNAPSHOT_CORRUPT), before anything is applied to a VM.
 */

/** Stable error codes of snapshots and migration. */
export type SnapshotErrorCode =
  | "SNAPSHOT_NOT_A_SNAPSHOT"
  | "SNAPSHOT_TRUNCATED"
  | "SNAPSHOT_CORRUPT"
  | "SNAPSHOT_VERSION"
  | "SNAPSHOT_MISMATCH"
  | "SNAPSHOT_BUSY"
  | "SNAPSHOT_UNSUPPORTED";

/** A snapshot that cannot be written or read, or does not fit the VM it is restored into. */
export class SnapshotError extends Error {
  override readonly name = "SnapshotError";
  /** Stable, machine-readable error code. */
  readonly code: SnapshotErrorCode;

  constructor(code: SnapshotErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** "HVKSNAP\0". */
export const SNAPSHOT_MAGIC = Uint8Array.of(0x48, 0x56, 0x4b, 0x53, 0x4e, 0x41, 0x50, 0x00);
/** Format major version: a reader refuses any other. */
export const SNAPSHOT_VERSION_MAJOR = 1;
/** Format minor version: additions a version-1 reader may ignore (unknown sections are skipped). */
export const SNAPSHOT_VERSION_MINOR = 0;
const HEADER = 20;
const SECTION_HEAD = 12;
const TRAILER = 8;
const END_TAG = "HEND";

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, the one of gzip and PNG) of `bytes`. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = -1;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** One section: a four-character tag and its payload. */
export interface Section {
  readonly tag: string;
  readonly payload: Uint8Array;
}

function tagBytes(tag: string): number[] {
  if (!/^[\x20-\x7e]{4}$/.test(tag)) throw new RangeError(`section tag "${tag}" must be 4 ASCII characters`);
  return [...tag].map((c) => c.charCodeAt(0));
}

/** Write sections into one container. */
export function encodeContainer(sections: readonly Section[]): Uint8Array {
  let total = HEADER + TRAILER;
  for (const s of sections) total += SECTION_HEAD + s.payload.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(SNAPSHOT_MAGIC, 0);
  view.setUint16(8, SNAPSHOT_VERSION_MAJOR, true);
  view.setUint16(10, SNAPSHOT_VERSION_MINOR, true);
  view.setUint32(12, sections.length, true);
  view.setUint32(16, crc32(out, 0, 16), true);
  let at = HEADER;
  for (const s of sections) {
    out.set(tagBytes(s.tag), at);
    view.setUint32(at + 4, s.payload.length, true);
    view.setUint32(at + 8, crc32(s.payload), true);
    out.set(s.payload, at + SECTION_HEAD);
    at += SECTION_HEAD + s.payload.length;
  }
  out.set(tagBytes(END_TAG), at);
  view.setUint32(at + 4, total, true);
  return out;
}

function tagAt(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

/** Read and verify a container; the sections' payloads are views of `bytes`. */
export function decodeContainer(bytes: Uint8Array): Map<string, Uint8Array> {
  if (!(bytes instanceof Uint8Array)) {
    throw new SnapshotError("SNAPSHOT_NOT_A_SNAPSHOT", "a snapshot must be given as bytes (a Uint8Array)");
  }
  const magicLength = Math.min(bytes.length, SNAPSHOT_MAGIC.length);
  for (let i = 0; i < magicLength; i++) {
    if (bytes[i] !== SNAPSHOT_MAGIC[i]) {
      throw new SnapshotError(
        "SNAPSHOT_NOT_A_SNAPSHOT",
        "this is not an hvkit snapshot (its first bytes are not HVKSNAP); give a file written by `hvkit snapshot` or vm.snapshot()",
      );
    }
  }
  const truncated = (what: string): SnapshotError =>
    new SnapshotError(
      "SNAPSHOT_TRUNCATED",
      `the snapshot is truncated (${bytes.length} bytes; it ends inside ${what}); copy the complete file again`,
    );
  if (bytes.length < HEADER) throw truncated("the header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (view.getUint32(16, true) !== crc32(bytes, 0, 16)) {
    throw new SnapshotError(
      "SNAPSHOT_CORRUPT",
      "the snapshot's header checksum does not match: the file is damaged",
    );
  }
  const major = view.getUint16(8, true);
  const minor = view.getUint16(10, true);
  if (major !== SNAPSHOT_VERSION_MAJOR) {
    throw new SnapshotError(
      "SNAPSHOT_VERSION",
      `the snapshot has format version ${major}.${minor}; this hvkit reads version ${SNAPSHOT_VERSION_MAJOR}.x: restore it with the hvkit that wrote it`,
    );
  }
  const count = view.getUint32(12, true);
  const sections = new Map<string, Uint8Array>();
  let at = HEADER;
  for (let i = 0; i < count; i++) {
    if (at + SECTION_HEAD > bytes.length) throw truncated(`section ${i + 1} of ${count}`);
    const tag = tagAt(bytes, at);
    const length = view.getUint32(at + 4, true);
    const crc = view.getUint32(at + 8, true);
    const start = at + SECTION_HEAD;
    if (start + length > bytes.length) throw truncated(`section "${tag}"`);
    if (crc32(bytes, start, start + length) !== crc) {
      throw new SnapshotError(
        "SNAPSHOT_CORRUPT",
        `the snapshot's section "${tag}" fails its CRC-32 check: the file is damaged`,
      );
    }
    if (sections.has(tag)) {
      throw new SnapshotError(
        "SNAPSHOT_CORRUPT",
        `the snapshot holds section "${tag}" twice: the file is damaged`,
      );
    }
    sections.set(tag, bytes.subarray(start, start + length));
    at = start + length;
  }
  if (at + TRAILER > bytes.length) throw truncated("the trailer");
  if (tagAt(bytes, at) !== END_TAG || view.getUint32(at + 4, true) !== at + TRAILER) {
    throw new SnapshotError("SNAPSHOT_CORRUPT", "the snapshot's trailer is wrong: the file is damaged");
  }
  if (at + TRAILER !== bytes.length) {
    throw new SnapshotError(
      "SNAPSHOT_CORRUPT",
      `the snapshot has ${bytes.length - at - TRAILER} bytes after its trailer: the file is damaged`,
    );
  }
  return sections;
}

/** A section that must be there. */
export function requireSection(sections: Map<string, Uint8Array>, tag: string): Uint8Array {
  const s = sections.get(tag);
  if (!s)
    throw new SnapshotError("SNAPSHOT_CORRUPT", `the snapshot has no "${tag}" section: the file is damaged`);
  return s;
}

/** Parse a JSON section. */
export function jsonSection(sections: Map<string, Uint8Array>, tag: string): Record<string, unknown> {
  const bytes = requireSection(sections, tag);
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new SnapshotError("SNAPSHOT_CORRUPT", `the snapshot's "${tag}" section is not valid JSON`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new SnapshotError("SNAPSHOT_CORRUPT", `the snapshot's "${tag}" section is not an object`);
  }
  return v as Record<string, unknown>;
}

/** A JSON section's bytes. */
export function toJsonSection(tag: string, value: unknown): Section {
  return { tag, payload: new TextEncoder().encode(JSON.stringify(value)) };
}
