/**
 * ELF64 little-endian reading and writing for RISC-V images (System V gABI
 * "Object Files" chapter; RISC-V ELF psABI for e_machine and e_flags).
 *
 * The reader treats its input as hostile: every header, table and string it
 * touches is bounds-checked first, and anything wrong is reported as an
 * {@link IsaError} naming the field and what was expected. The writer
 * produces the smallest executable that standard tools accept: one PT_LOAD
 * per section plus section headers and a symbol table.
 */
import { IsaError } from "./errors.js";

/** e_machine of RISC-V. */
export const EM_RISCV = 243;
/** e_type of a relocatable object. */
export const ET_REL = 1;
/** e_type of an executable. */
export const ET_EXEC = 2;
/** e_type of a shared object or position-independent executable. */
export const ET_DYN = 3;
/** Section type: program-defined contents. */
export const SHT_PROGBITS = 1;
/** Section type: symbol table. */
export const SHT_SYMTAB = 2;
/** Section type: string table. */
export const SHT_STRTAB = 3;
/** Section type: occupies no file space (.bss). */
export const SHT_NOBITS = 8;
/** Section type: dynamic-linking symbol table. */
export const SHT_DYNSYM = 11;
/** Section flag: writable. */
export const SHF_WRITE = 0x1n;
/** Section flag: occupies memory at run time. */
export const SHF_ALLOC = 0x2n;
/** Section flag: contains instructions. */
export const SHF_EXECINSTR = 0x4n;
/** Segment type: loadable. */
export const PT_LOAD = 1;
/** Segment flag: executable. */
export const PF_X = 1;
/** Segment flag: writable. */
export const PF_W = 2;
/** Segment flag: readable. */
export const PF_R = 4;
/** Symbol type: unspecified. */
export const STT_NOTYPE = 0;
/** Symbol type: data object. */
export const STT_OBJECT = 1;
/** Symbol type: function. */
export const STT_FUNC = 2;
/** Symbol type: section. */
export const STT_SECTION = 3;
/** Symbol type: source file. */
export const STT_FILE = 4;
/** Symbol type: uninitialised common block. */
export const STT_COMMON = 5;
/** Symbol binding: local. */
export const STB_LOCAL = 0;
/** Symbol binding: global. */
export const STB_GLOBAL = 1;
/** Symbol binding: weak. */
export const STB_WEAK = 2;
/** Section index of undefined symbols. */
export const SHN_UNDEF = 0;
/** First reserved section index; st_shndx values from here on are not sections. */
export const SHN_LORESERVE = 0xff00;
/** Section index of absolute symbols. */
export const SHN_ABS = 0xfff1;
/** e_flags: the image uses compressed instructions. */
export const EF_RISCV_RVC = 0x1;
/** e_flags: hard-float ABI passing doubles in FP registers (lp64d). */
export const EF_RISCV_FLOAT_ABI_DOUBLE = 0x4;

/** A section of an ELF file. */
export interface ElfSection {
  /** Name from the section-header string table (empty for the null section). */
  name: string;
  /** Index in the section header table. */
  index: number;
  /** sh_type (SHT_*). */
  type: number;
  /** sh_flags (SHF_*). */
  flags: bigint;
  /** Virtual address when loaded (0 in relocatable objects). */
  address: bigint;
  /** File offset of the contents. */
  offset: number;
  /** Size in bytes (in memory, for SHT_NOBITS). */
  size: number;
  /** Contents, a view into the input; empty for SHT_NOBITS. */
  data: Uint8Array;
  /** sh_link: an associated section's index (e.g. a symbol table's string table). */
  link: number;
  /** sh_info: type-dependent extra information. */
  info: number;
  /** Size of one table entry, for sections that hold tables. */
  entsize: number;
}

/** A program header (segment) of an ELF file. */
export interface ElfSegment {
  /** p_type (PT_*). */
  type: number;
  /** p_flags (PF_R | PF_W | PF_X). */
  flags: number;
  /** File offset of the contents. */
  offset: number;
  /** Virtual address. */
  vaddr: bigint;
  /** Physical address. */
  paddr: bigint;
  /** Bytes taken from the file. */
  fileSize: number;
  /** Bytes in memory; the part past fileSize is zero-filled. */
  memSize: number;
  /** Alignment. */
  align: bigint;
  /** The fileSize bytes from the file, a view into the input. */
  data: Uint8Array;
}

/** A symbol-table entry. */
export interface ElfSymbol {
  /** Name from the symbol string table. */
  name: string;
  /** st_value: an address in executables. */
  value: bigint;
  /** st_size. */
  size: bigint;
  /** STT_* from st_info. */
  type: number;
  /** STB_* from st_info. */
  bind: number;
  /** st_shndx: the defining section's index, or a reserved SHN_* value. */
  sectionIndex: number;
}

/** A parsed ELF64 file. */
export interface ElfFile {
  /** e_machine (always {@link EM_RISCV} from {@link readElf}). */
  machine: number;
  /** e_type (ET_*). */
  type: number;
  /** Entry point. */
  entry: bigint;
  /** e_flags (EF_RISCV_*). */
  flags: number;
  /** Every section header, including the null section at index 0. */
  sections: ElfSection[];
  /** Every program header. */
  segments: ElfSegment[];
  /** The static symbol table (or the dynamic one when there is none), without the null entry. */
  symbols: ElfSymbol[];
}

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const SHN_XINDEX = 0xffff;
const PN_XNUM = 0xffff;
const MAX_U64 = (1n << 64n) - 1n;

/** Common e_machine values, to say what a rejected file is for. */
const MACHINE_NAMES: Readonly<Record<number, string>> = {
  0: "no machine",
  2: "SPARC",
  3: "x86 (i386)",
  8: "MIPS",
  20: "PowerPC",
  21: "PowerPC64",
  22: "s390",
  40: "ARM",
  43: "SPARC V9",
  50: "IA-64",
  62: "x86-64",
  183: "AArch64",
  247: "BPF",
  258: "LoongArch",
};

const malformed = (msg: string): IsaError => new IsaError("ISA_ELF_MALFORMED", msg);

/** Decode UTF-8 (names are almost always ASCII); invalid sequences become U+FFFD. */
function utf8Decode(b: Uint8Array, start: number, end: number): string {
  let s = "";
  let i = start;
  while (i < end) {
    const c = b[i]!;
    if (c < 0x80) {
      s += String.fromCharCode(c);
      i++;
      continue;
    }
    const n = c >= 0xf0 && c < 0xf8 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : -1;
    let cp = n === 3 ? c & 7 : n === 2 ? c & 15 : c & 31;
    let ok = n > 0 && i + n < end;
    for (let k = 1; ok && k <= n; k++) {
      const d = b[i + k]!;
      if ((d & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (d & 0x3f);
    }
    if (ok && cp <= 0x10ffff) {
      s += String.fromCodePoint(cp);
      i += n + 1;
    } else {
      s += "\ufffd";
      i++;
    }
  }
  return s;
}

function utf8Encode(s: string): Uint8Array {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return Uint8Array.from(out);
}

/** A string from a string table, checked to start inside it and end with a NUL inside it. */
function tableString(table: Uint8Array, index: number, what: string): string {
  if (index >= table.length) {
    throw malformed(
      `${what}: string index ${index} is past the end of its ${table.length}-byte string table; the file is corrupt`,
    );
  }
  const end = table.indexOf(0, index);
  if (end < 0) {
    throw malformed(`${what}: the string at index ${index} is not NUL-terminated within its string table`);
  }
  return utf8Decode(table, index, end);
}

/**
 * Parse an ELF64 little-endian RISC-V file. Throws an {@link IsaError}
 * (`ISA_ELF_UNSUPPORTED` for valid ELF files of another kind,
 * `ISA_ELF_MALFORMED` for anything inconsistent) and nothing else.
 */
export function readElf(bytes: Uint8Array): ElfFile {
  const len = bytes.length;
  if (len < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw malformed("not an ELF file: it does not start with the bytes 7f 45 4c 46 ('\\x7fELF')");
  }
  if (len < 16) throw malformed(`truncated ELF identification: ${len} bytes, need 16`);
  const cls = bytes[4]!;
  if (cls === 1) {
    throw new IsaError("ISA_ELF_UNSUPPORTED", "32-bit ELF (ELFCLASS32) is not supported; build for RV64");
  }
  if (cls !== 2) throw malformed(`invalid ELF class ${cls} (expected 2, ELFCLASS64)`);
  const data = bytes[5]!;
  if (data === 2) {
    throw new IsaError(
      "ISA_ELF_UNSUPPORTED",
      "big-endian ELF is not supported; RISC-V images are little-endian",
    );
  }
  if (data !== 1) throw malformed(`invalid ELF data encoding ${data} (expected 1, little-endian)`);
  if (bytes[6] !== 1) throw malformed(`invalid ELF identification version ${bytes[6]} (expected 1)`);
  if (len < EHDR_SIZE) throw malformed(`truncated ELF header: ${len} bytes, need ${EHDR_SIZE}`);

  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number): number => dv.getUint16(o, true);
  const u32 = (o: number): number => dv.getUint32(o, true);
  const u64 = (o: number): bigint => dv.getBigUint64(o, true);

  const type = u16(16);
  const machine = u16(18);
  if (machine !== EM_RISCV) {
    const name = MACHINE_NAMES[machine];
    throw new IsaError(
      "ISA_ELF_UNSUPPORTED",
      `the ELF file is for ${name ?? "an unknown machine"} (e_machine ${machine}), not RISC-V (${EM_RISCV})`,
    );
  }
  if (u32(20) !== 1) throw malformed(`invalid ELF version ${u32(20)} (expected 1)`);
  const entry = u64(24);
  const phoff = u64(32);
  const shoff = u64(40);
  const flags = u32(48);
  const ehsize = u16(52);
  const phentsize = u16(54);
  let phnum = u16(56);
  const shentsize = u16(58);
  let shnum = u16(60);
  let shstrndx = u16(62);
  if (ehsize < EHDR_SIZE) throw malformed(`e_ehsize is ${ehsize}, an ELF64 header takes ${EHDR_SIZE}`);

  /** Check that [offset, offset+size) lies inside the file; return it as numbers. */
  const span = (offset: bigint, size: bigint, what: string): [number, number] => {
    if (offset > BigInt(len) || size > BigInt(len) - offset) {
      throw malformed(
        `${what} (offset 0x${offset.toString(16)}, size 0x${size.toString(16)}) extends past the end of the ${len}-byte file; the file is truncated or corrupt`,
      );
    }
    return [Number(offset), Number(size)];
  };

  // Section header table; index 0 carries the real counts when they overflow 16 bits (gABI "Extended numbering").
  let shStart = 0;
  if (shoff !== 0n) {
    if (shentsize !== SHDR_SIZE) {
      throw malformed(`e_shentsize is ${shentsize}, an ELF64 section header takes ${SHDR_SIZE}`);
    }
    [shStart] = span(shoff, BigInt(SHDR_SIZE), "section header 0");
    if (shnum === 0) {
      const n = u64(shStart + 32);
      if (n > BigInt(len)) throw malformed(`section count ${n} (from section 0) is larger than the file`);
      shnum = Number(n);
    }
    if (shstrndx === SHN_XINDEX) shstrndx = u32(shStart + 40);
    if (phnum === PN_XNUM) phnum = u32(shStart + 44);
    span(shoff, BigInt(shnum) * BigInt(SHDR_SIZE), `section header table of ${shnum} entries`);
  } else {
    shnum = 0;
  }
  if (phnum > 0) {
    if (phentsize !== PHDR_SIZE) {
      throw malformed(`e_phentsize is ${phentsize}, an ELF64 program header takes ${PHDR_SIZE}`);
    }
    span(phoff, BigInt(phnum) * BigInt(PHDR_SIZE), `program header table of ${phnum} entries`);
  }

  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = Number(phoff) + i * PHDR_SIZE;
    const ptype = u32(o);
    const fileSize = u64(o + 32);
    const memSize = u64(o + 40);
    const [offset, size] = span(u64(o + 8), fileSize, `segment ${i}`);
    if (ptype === PT_LOAD && memSize < fileSize) {
      throw malformed(`segment ${i}: p_memsz (0x${memSize.toString(16)}) is smaller than p_filesz`);
    }
    if (memSize > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw malformed(`segment ${i}: p_memsz 0x${memSize.toString(16)} is implausibly large`);
    }
    segments.push({
      type: ptype,
      flags: u32(o + 4),
      offset,
      vaddr: u64(o + 16),
      paddr: u64(o + 24),
      fileSize: size,
      memSize: Number(memSize),
      align: u64(o + 48),
      data: bytes.subarray(offset, offset + size),
    });
  }

  const sections: ElfSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shStart + i * SHDR_SIZE;
    const stype = u32(o + 4);
    const rawSize = u64(o + 32);
    const rawOffset = u64(o + 24);
    const entsize = u64(o + 56);
    let offset: number;
    let size: number;
    let body: Uint8Array;
    if (stype === SHT_NOBITS || i === 0) {
      if (rawSize > BigInt(Number.MAX_SAFE_INTEGER) || rawOffset > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw malformed(`section ${i}: size or offset is implausibly large`);
      }
      offset = Number(rawOffset);
      size = Number(rawSize);
      body = bytes.subarray(0, 0);
    } else {
      [offset, size] = span(rawOffset, rawSize, `section ${i}`);
      body = bytes.subarray(offset, offset + size);
    }
    if (entsize > 0xffffffffn)
      throw malformed(`section ${i}: sh_entsize 0x${entsize.toString(16)} is implausibly large`);
    sections.push({
      name: "",
      index: i,
      type: stype,
      flags: u64(o + 8),
      address: u64(o + 16),
      offset,
      size,
      data: body,
      link: u32(o + 40),
      info: u32(o + 44),
      entsize: Number(entsize),
    });
  }

  if (shnum > 0) {
    if (shstrndx !== 0) {
      const strtab = sections[shstrndx];
      if (!strtab) {
        throw malformed(`e_shstrndx ${shstrndx} names no section (there are ${shnum}); the file is corrupt`);
      }
      if (strtab.type !== SHT_STRTAB) {
        throw malformed(`e_shstrndx ${shstrndx} names a section of type ${strtab.type}, not a string table`);
      }
      for (const s of sections) {
        const nameIndex = u32(shStart + s.index * SHDR_SIZE);
        s.name = tableString(strtab.data, nameIndex, `section ${s.index} name`);
      }
    }
  }

  const symtab = sections.find((s) => s.type === SHT_SYMTAB) ?? sections.find((s) => s.type === SHT_DYNSYM);
  const symbols: ElfSymbol[] = [];
  if (symtab) {
    const what = `symbol table ${symtab.name || `section ${symtab.index}`}`;
    if (symtab.entsize !== SYM_SIZE) {
      throw malformed(`${what}: sh_entsize is ${symtab.entsize}, an ELF64 symbol takes ${SYM_SIZE}`);
    }
    if (symtab.size % SYM_SIZE !== 0) {
      throw malformed(`${what}: size ${symtab.size} is not a multiple of ${SYM_SIZE}`);
    }
    const strtab = sections[symtab.link];
    if (!strtab || strtab.type !== SHT_STRTAB) {
      throw malformed(`${what}: sh_link ${symtab.link} does not name a string table`);
    }
    const count = symtab.size / SYM_SIZE;
    for (let i = 1; i < count; i++) {
      const o = symtab.offset + i * SYM_SIZE;
      const info = bytes[o + 4]!;
      const shndx = u16(o + 6);
      if (shndx !== 0 && shndx < SHN_LORESERVE && shndx >= shnum) {
        throw malformed(`${what}: symbol ${i} refers to section ${shndx}, but there are only ${shnum}`);
      }
      symbols.push({
        name: tableString(strtab.data, u32(o), `${what}: symbol ${i} name`),
        value: u64(o + 8),
        size: u64(o + 16),
        type: info & 15,
        bind: info >> 4,
        sectionIndex: shndx,
      });
    }
  }

  return { machine, type, entry, flags, sections, segments, symbols };
}

/** A section to place in an image written by {@link writeElf}. */
export interface ElfImageSection {
  /** Section name, e.g. `.text`. */
  name: string;
  /** Load address. */
  address: bigint;
  /** Contents (ignored for nobits sections). */
  data: Uint8Array;
  /** Permissions: read+execute, read+write, or read-only. */
  flags: "rx" | "rw" | "r";
  /** Zero-initialised section that takes no file space (.bss). */
  nobits?: boolean;
  /** Size of a nobits section (default: data.length). */
  size?: number;
}

/** A symbol to put in the image's .symtab. */
export interface ElfImageSymbol {
  /** Symbol name. */
  name: string;
  /** Address. */
  value: bigint;
  /** Defining section by name (default: the section containing value, else absolute). */
  section?: string;
  /** Global binding (default: local). */
  global?: boolean;
  /** Symbol type (default: notype). */
  type?: "func" | "object" | "notype";
  /** Size in bytes (default 0). */
  size?: bigint;
}

/** What {@link writeElf} writes. */
export interface ElfImage {
  /** Entry point address. */
  entry: bigint;
  /** Sections, each loaded by its own PT_LOAD segment. */
  sections: ElfImageSection[];
  /** Symbols for .symtab. */
  symbols?: ElfImageSymbol[];
  /** e_flags; default EF_RISCV_RVC | EF_RISCV_FLOAT_ABI_DOUBLE (0x5), matching rv64gc/lp64d. */
  flags?: number;
}

/** Segment alignment: a page, so file offsets stay congruent to addresses as loaders expect. */
const PAGE = 0x1000;

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Largest power of two (at most 16) that divides the address. */
function addressAlignment(addr: bigint): number {
  let a = 1;
  while (a < 16 && addr % BigInt(a * 2) === 0n) a *= 2;
  return a;
}

class StringTable {
  readonly parts: Uint8Array[] = [new Uint8Array(1)];
  size = 1;
  private readonly seen = new Map<string, number>();

  add(s: string): number {
    if (s === "") return 0;
    const hit = this.seen.get(s);
    if (hit !== undefined) return hit;
    const b = utf8Encode(s);
    const at = this.size;
    this.parts.push(b, new Uint8Array(1));
    this.size += b.length + 1;
    this.seen.set(s, at);
    return at;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/**
 * Write a minimal executable ELF64 for RISC-V: one PT_LOAD per section,
 * section headers, and .symtab/.strtab/.shstrtab. Throws an
 * {@link IsaError} (`ISA_ELF_MALFORMED`) for an image that cannot be
 * described, such as a symbol naming a section that is not in it.
 */
export function writeElf(image: ElfImage): Uint8Array {
  const userSections = image.sections;
  const names = new Set<string>();
  for (const s of userSections) {
    if (s.name === "" || names.has(s.name)) {
      throw malformed(
        `writeElf: section name "${s.name}" is empty or used twice; give each section its own name`,
      );
    }
    names.add(s.name);
    const size = s.nobits ? (s.size ?? s.data.length) : s.data.length;
    if (s.address < 0n || s.address + BigInt(size) > MAX_U64 + 1n) {
      throw malformed(`writeElf: section ${s.name} does not fit in the 64-bit address space`);
    }
  }

  const shstr = new StringTable();
  const str = new StringTable();
  const nSect = userSections.length;
  const symtabIndex = nSect + 1;
  const strtabIndex = nSect + 2;
  const shstrtabIndex = nSect + 3;
  const shnum = nSect + 4;

  // Symbols: the null entry, locals, then globals (gABI: sh_info is one past the last local).
  const syms = [...(image.symbols ?? [])];
  syms.sort((a, b) => Number(a.global ?? false) - Number(b.global ?? false));
  const symBytes = new Uint8Array((syms.length + 1) * SYM_SIZE);
  const sdv = new DataView(symBytes.buffer);
  let firstGlobal = syms.length + 1;
  syms.forEach((sym, k) => {
    const o = (k + 1) * SYM_SIZE;
    let shndx: number;
    if (sym.section !== undefined) {
      const i = userSections.findIndex((s) => s.name === sym.section);
      if (i < 0) {
        throw malformed(
          `writeElf: symbol ${sym.name} names section ${sym.section}, which is not in the image`,
        );
      }
      shndx = i + 1;
    } else {
      const i = userSections.findIndex((s) => {
        const size = BigInt(s.nobits ? (s.size ?? s.data.length) : s.data.length);
        return sym.value >= s.address && sym.value < s.address + size;
      });
      shndx = i < 0 ? SHN_ABS : i + 1;
    }
    const bind = sym.global ? STB_GLOBAL : STB_LOCAL;
    if (sym.global && firstGlobal > k + 1) firstGlobal = k + 1;
    const stype = sym.type === "func" ? STT_FUNC : sym.type === "object" ? STT_OBJECT : STT_NOTYPE;
    sdv.setUint32(o, str.add(sym.name), true);
    sdv.setUint8(o + 4, (bind << 4) | stype);
    sdv.setUint16(o + 6, shndx, true);
    sdv.setBigUint64(o + 8, BigInt.asUintN(64, sym.value), true);
    sdv.setBigUint64(o + 16, BigInt.asUintN(64, sym.size ?? 0n), true);
  });
  const strBytes = str.bytes();

  // Layout: ELF header, program headers, section contents (page-congruent), tables, section headers.
  const phnum = nSect;
  let off = EHDR_SIZE + phnum * PHDR_SIZE;
  const placed = userSections.map((s) => {
    const size = s.nobits ? (s.size ?? s.data.length) : s.data.length;
    const want = Number(s.address % BigInt(PAGE));
    off = Math.floor(off / PAGE) * PAGE + want + (off % PAGE > want ? PAGE : 0);
    const at = off;
    if (!s.nobits) off += size;
    return { s, at, size };
  });
  const shNames = userSections.map((s) => shstr.add(s.name));
  const symtabName = shstr.add(".symtab");
  const strtabName = shstr.add(".strtab");
  const shstrtabName = shstr.add(".shstrtab");
  const shstrBytes = shstr.bytes();
  off = align(off, 8);
  const symOff = off;
  off += symBytes.length;
  const strOff = off;
  off += strBytes.length;
  const shstrOff = off;
  off += shstrBytes.length;
  const shoff = align(off, 8);
  const total = shoff + shnum * SHDR_SIZE;

  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  dv.setUint16(16, ET_EXEC, true);
  dv.setUint16(18, EM_RISCV, true);
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, BigInt.asUintN(64, image.entry), true);
  dv.setBigUint64(32, phnum > 0 ? BigInt(EHDR_SIZE) : 0n, true);
  dv.setBigUint64(40, BigInt(shoff), true);
  dv.setUint32(48, image.flags ?? EF_RISCV_RVC | EF_RISCV_FLOAT_ABI_DOUBLE, true);
  dv.setUint16(52, EHDR_SIZE, true);
  dv.setUint16(54, PHDR_SIZE, true);
  dv.setUint16(56, phnum, true);
  dv.setUint16(58, SHDR_SIZE, true);
  dv.setUint16(60, shnum, true);
  dv.setUint16(62, shstrtabIndex, true);

  const permissions = { rx: PF_R | PF_X, rw: PF_R | PF_W, r: PF_R } as const;
  const sectionFlags = { rx: SHF_ALLOC | SHF_EXECINSTR, rw: SHF_ALLOC | SHF_WRITE, r: SHF_ALLOC } as const;
  placed.forEach(({ s, at, size }, i) => {
    const p = EHDR_SIZE + i * PHDR_SIZE;
    dv.setUint32(p, PT_LOAD, true);
    dv.setUint32(p + 4, permissions[s.flags], true);
    dv.setBigUint64(p + 8, BigInt(at), true);
    dv.setBigUint64(p + 16, s.address, true);
    dv.setBigUint64(p + 24, s.address, true);
    dv.setBigUint64(p + 32, BigInt(s.nobits ? 0 : size), true);
    dv.setBigUint64(p + 40, BigInt(size), true);
    dv.setBigUint64(p + 48, BigInt(PAGE), true);
    if (!s.nobits) out.set(s.data, at);
  });
  out.set(symBytes, symOff);
  out.set(strBytes, strOff);
  out.set(shstrBytes, shstrOff);

  const header = (
    i: number,
    name: number,
    type: number,
    flags: bigint,
    addr: bigint,
    offset: number,
    size: number,
    link: number,
    info: number,
    addralign: number,
    entsize: number,
  ): void => {
    const o = shoff + i * SHDR_SIZE;
    dv.setUint32(o, name, true);
    dv.setUint32(o + 4, type, true);
    dv.setBigUint64(o + 8, flags, true);
    dv.setBigUint64(o + 16, addr, true);
    dv.setBigUint64(o + 24, BigInt(offset), true);
    dv.setBigUint64(o + 32, BigInt(size), true);
    dv.setUint32(o + 40, link, true);
    dv.setUint32(o + 44, info, true);
    dv.setBigUint64(o + 48, BigInt(addralign), true);
    dv.setBigUint64(o + 56, BigInt(entsize), true);
  };
  placed.forEach(({ s, at, size }, i) => {
    const type = s.nobits ? SHT_NOBITS : SHT_PROGBITS;
    header(
      i + 1,
      shNames[i]!,
      type,
      sectionFlags[s.flags],
      s.address,
      at,
      size,
      0,
      0,
      addressAlignment(s.address),
      0,
    );
  });
  header(
    symtabIndex,
    symtabName,
    SHT_SYMTAB,
    0n,
    0n,
    symOff,
    symBytes.length,
    strtabIndex,
    firstGlobal,
    8,
    SYM_SIZE,
  );
  header(strtabIndex, strtabName, SHT_STRTAB, 0n, 0n, strOff, strBytes.length, 0, 0, 1, 0);
  header(shstrtabIndex, shstrtabName, SHT_STRTAB, 0n, 0n, shstrOff, shstrBytes.length, 0, 0, 1, 0);
  return out;
}
