/**
 * The cpio "newc" format (magic 070701), the one Linux unpacks as an
 * initramfs: Documentation/driver-api/early-userspace/buffer-format.rst and
 * cpio(5). Each member is a 110-byte ASCII header of 13 eight-digit hex fields,
 * the NUL-terminated name padded to 4 bytes, then the data padded to 4 bytes;
 * the archive ends with a member named "TRAILER!!!".
 */
import { GuestsError } from "./errors.js";

/** A member to write: a directory, a regular file, a symbolic link or a device node. */
export type CpioEntry =
  | { readonly type: "dir"; readonly path: string; readonly mode?: number }
  | {
      readonly type: "file";
      readonly path: string;
      readonly data: Uint8Array | string;
      readonly mode?: number;
    }
  | { readonly type: "symlink"; readonly path: string; readonly target: string }
  | {
      readonly type: "char" | "block";
      readonly path: string;
      readonly major: number;
      readonly minor: number;
      readonly mode?: number;
    };

/** How `writeCpio` stamps the fields a filesystem would otherwise supply. */
export interface CpioWriteOptions {
  /** Modification time of every member, seconds since the epoch (default 0). */
  mtime?: number;
  /** Inode number of the first member after sorting; the rest count up (default 1). */
  firstInode?: number;
  /** Add missing parent directories (mode 0755) instead of failing (default true). */
  parents?: boolean;
}

/** One member as read back from an archive. */
export interface CpioRecord {
  /** Member name as stored (no leading slash when written by `writeCpio`). */
  name: string;
  /** What the mode's S_IFMT bits say the member is. */
  type: "dir" | "file" | "symlink" | "char" | "block" | "fifo" | "socket" | "unknown";
  /** Inode number. */
  ino: number;
  /** Full st_mode: type bits and permission bits. */
  mode: number;
  /** Owner user id. */
  uid: number;
  /** Owner group id. */
  gid: number;
  /** Link count. */
  nlink: number;
  /** Modification time, seconds since the epoch. */
  mtime: number;
  /** Device major of the filesystem the member came from. */
  devMajor: number;
  /** Device minor of the filesystem the member came from. */
  devMinor: number;
  /** Device major a char/block node refers to. */
  rdevMajor: number;
  /** Device minor a char/block node refers to. */
  rdevMinor: number;
  /** File contents, or the target of a symbolic link (a view into the archive). */
  data: Uint8Array;
}

/** File type bits of st_mode (POSIX <sys/stat.h>, the values Linux uses). */
export const S_IFMT = 0o170000;
/** Directory. */
export const S_IFDIR = 0o040000;
/** Regular file. */
export const S_IFREG = 0o100000;
/** Symbolic link. */
export const S_IFLNK = 0o120000;
/** Character device. */
export const S_IFCHR = 0o020000;
/** Block device. */
export const S_IFBLK = 0o060000;
/** FIFO. */
export const S_IFIFO = 0o010000;
/** Socket. */
export const S_IFSOCK = 0o140000;

const MAGIC = "070701";
const MAGIC_CRC = "070702";
const HEADER_SIZE = 110;
const TRAILER = "TRAILER!!!";
/** Linux's PATH_MAX includes the NUL; longer names cannot be created by the unpacker. */
const MAX_NAME_BYTES = 4095;
const MAX_U32 = 0xffffffff;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Normalises an archive path: strips "/" and "./" prefixes, rejects empty, "." and ".." components. */
export function normalizeCpioPath(path: string): string {
  let p = path;
  while (p.startsWith("/") || p.startsWith("./")) p = p.startsWith("/") ? p.slice(1) : p.slice(2);
  if (p.endsWith("/")) p = p.slice(0, -1);
  if (p === "" || p.includes("\0")) {
    throw new GuestsError(
      "GUESTS_BAD_PATH",
      `cpio path ${JSON.stringify(path)} names no file; give a relative path such as "bin/sh"`,
    );
  }
  for (const part of p.split("/")) {
    if (part === "" || part === "." || part === "..") {
      throw new GuestsError(
        "GUESTS_BAD_PATH",
        `cpio path ${JSON.stringify(path)} has an empty, "." or ".." component; write it without them`,
      );
    }
  }
  return p;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function checkU32(what: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > MAX_U32) {
    throw new GuestsError(
      "GUESTS_TOO_LARGE",
      `cpio ${what} ${v} does not fit the newc format's 32-bit field`,
    );
  }
  return v;
}

interface Prepared {
  name: Uint8Array;
  mode: number;
  nlink: number;
  rdevMajor: number;
  rdevMinor: number;
  data: Uint8Array;
}

function prepare(entry: CpioEntry, name: string): Prepared {
  const nameBytes = encoder.encode(name);
  if (nameBytes.length > MAX_NAME_BYTES) {
    throw new GuestsError(
      "GUESTS_BAD_PATH",
      `cpio path ${name.slice(0, 40)}... is longer than ${MAX_NAME_BYTES} bytes`,
    );
  }
  const perm = (bits: number | undefined, dflt: number) => (bits ?? dflt) & 0o7777;
  switch (entry.type) {
    case "dir":
      return {
        name: nameBytes,
        mode: S_IFDIR | perm(entry.mode, 0o755),
        nlink: 2,
        rdevMajor: 0,
        rdevMinor: 0,
        data: new Uint8Array(0),
      };
    case "file": {
      const data = typeof entry.data === "string" ? encoder.encode(entry.data) : entry.data;
      checkU32(`size of ${name}:`, data.length);
      return {
        name: nameBytes,
        mode: S_IFREG | perm(entry.mode, 0o644),
        nlink: 1,
        rdevMajor: 0,
        rdevMinor: 0,
        data,
      };
    }
    case "symlink":
      if (entry.target === "")
        throw new GuestsError("GUESTS_BAD_PATH", `symlink ${name} has an empty target`);
      return {
        name: nameBytes,
        mode: S_IFLNK | 0o777,
        nlink: 1,
        rdevMajor: 0,
        rdevMinor: 0,
        data: encoder.encode(entry.target),
      };
    case "char":
    case "block":
      return {
        name: nameBytes,
        mode: (entry.type === "char" ? S_IFCHR : S_IFBLK) | perm(entry.mode, 0o600),
        nlink: 1,
        rdevMajor: checkU32(`device major of ${name}:`, entry.major),
        rdevMinor: checkU32(`device minor of ${name}:`, entry.minor),
        data: new Uint8Array(0),
      };
  }
}

const pad4 = (n: number) => (n + 3) & ~3;

function writeHeader(out: Uint8Array, at: number, fields: readonly number[]): void {
  out.set(encoder.encode(MAGIC), at);
  let p = at + 6;
  for (const f of fields) {
    const hex = f.toString(16).padStart(8, "0");
    for (let i = 0; i < 8; i++) out[p++] = hex.charCodeAt(i);
  }
}

/**
 * Writes a newc archive. Deterministic: members are sorted by the bytes of
 * their names (so parents precede children), numbered with consecutive inodes
 * from `firstInode`, owned by 0:0 and stamped with one `mtime`, so the same
 * entries always give byte-identical output whatever order they came in.
 */
export function writeCpio(entries: readonly CpioEntry[], options: CpioWriteOptions = {}): Uint8Array {
  const mtime = checkU32("mtime", options.mtime ?? 0);
  const firstInode = checkU32("firstInode", options.firstInode ?? 1);
  const byName = new Map<string, CpioEntry>();
  for (const e of entries) {
    const name = normalizeCpioPath(e.path);
    if (byName.has(name)) {
      throw new GuestsError(
        "GUESTS_DUPLICATE_PATH",
        `cpio path ${name} is given twice; keep one entry per path`,
      );
    }
    byName.set(name, e);
  }
  for (const name of [...byName.keys()]) {
    for (let i = name.indexOf("/"); i !== -1; i = name.indexOf("/", i + 1)) {
      const parent = name.slice(0, i);
      const existing = byName.get(parent);
      if (existing === undefined) {
        if (options.parents === false) {
          throw new GuestsError(
            "GUESTS_BAD_PATH",
            `cpio path ${name} has no parent directory ${parent}; add it first`,
          );
        }
        byName.set(parent, { type: "dir", path: parent });
      } else if (existing.type !== "dir") {
        throw new GuestsError(
          "GUESTS_BAD_PATH",
          `cpio path ${name} is under ${parent}, which is a ${existing.type}`,
        );
      }
    }
  }
  const members = [...byName]
    .map(([name, e]) => prepare(e, name))
    .sort((a, b) => compareBytes(a.name, b.name));

  const trailerName = encoder.encode(TRAILER);
  let size = 0;
  for (const m of members) size += pad4(HEADER_SIZE + m.name.length + 1) + pad4(m.data.length);
  size += pad4(HEADER_SIZE + trailerName.length + 1);
  const out = new Uint8Array(size);

  let at = 0;
  let ino = firstInode;
  for (const m of members) {
    checkU32("inode", ino);
    // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
    writeHeader(out, at, [
      ino++,
      m.mode,
      0,
      0,
      m.nlink,
      mtime,
      m.data.length,
      0,
      0,
      m.rdevMajor,
      m.rdevMinor,
      m.name.length + 1,
      0,
    ]);
    out.set(m.name, at + HEADER_SIZE);
    at += pad4(HEADER_SIZE + m.name.length + 1);
    out.set(m.data, at);
    at += pad4(m.data.length);
  }
  // The trailer as Linux's usr/gen_init_cpio writes it: all zero but nlink 1.
  writeHeader(out, at, [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, trailerName.length + 1, 0]);
  out.set(trailerName, at + HEADER_SIZE);
  return out;
}

function typeOf(mode: number): CpioRecord["type"] {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return "dir";
    case S_IFREG:
      return "file";
    case S_IFLNK:
      return "symlink";
    case S_IFCHR:
      return "char";
    case S_IFBLK:
      return "block";
    case S_IFIFO:
      return "fifo";
    case S_IFSOCK:
      return "socket";
    default:
      return "unknown";
  }
}

function badCpio(at: number, what: string): GuestsError {
  return new GuestsError("GUESTS_BAD_CPIO", `not a valid newc cpio archive at byte ${at}: ${what}`);
}

/**
 * Reads a newc archive (magic 070701 or 070702) up to its TRAILER!!!. Member
 * data are views into `archive`, not copies. Compressed archives must be
 * decompressed first.
 */
export function readCpio(archive: Uint8Array): CpioRecord[] {
  const records: CpioRecord[] = [];
  let at = 0;
  for (;;) {
    if (at + HEADER_SIZE > archive.length) throw badCpio(at, "archive ends before the TRAILER!!! member");
    const magic = decoder.decode(archive.subarray(at, at + 6));
    if (magic !== MAGIC && magic !== MAGIC_CRC)
      throw badCpio(at, `magic is ${JSON.stringify(magic)}, expected "070701"`);
    const f: number[] = [];
    for (let i = 0; i < 13; i++) {
      const start = at + 6 + i * 8;
      const text = decoder.decode(archive.subarray(start, start + 8));
      if (!/^[0-9a-fA-F]{8}$/.test(text))
        throw badCpio(start, `header field ${i} is ${JSON.stringify(text)}, not hex`);
      f.push(Number.parseInt(text, 16));
    }
    const [ino, mode, uid, gid, nlink, mtime, filesize, devMajor, devMinor, rdevMajor, rdevMinor, namesize] =
      f as [number, number, number, number, number, number, number, number, number, number, number, number];
    if (namesize === 0) throw badCpio(at, "name size is 0");
    const nameEnd = at + HEADER_SIZE + namesize;
    if (nameEnd > archive.length) throw badCpio(at, "name runs past the end of the archive");
    if (archive[nameEnd - 1] !== 0) throw badCpio(at, "name is not NUL-terminated");
    const name = decoder.decode(archive.subarray(at + HEADER_SIZE, nameEnd - 1));
    const dataStart = pad4(nameEnd);
    if (name === TRAILER) return records;
    if (dataStart + filesize > archive.length)
      throw badCpio(at, `data of ${name} runs past the end of the archive`);
    records.push({
      name,
      type: typeOf(mode),
      ino,
      mode,
      uid,
      gid,
      nlink,
      mtime,
      devMajor,
      devMinor,
      rdevMajor,
      rdevMinor,
      data: archive.subarray(dataStart, dataStart + filesize),
    });
    at = pad4(dataStart + filesize);
  }
}
