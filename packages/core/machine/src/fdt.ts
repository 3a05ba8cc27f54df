/**
 * Flattened devicetree (DTB) writer and reader, format version 17
 * (Devicetree Specification 0.4, chapter 5): a 40-byte header, the memory
 * reservation block, the structure block (FDT_BEGIN_NODE, FDT_PROP,
 * FDT_END_NODE, FDT_END tokens, big-endian, 4-byte aligned) and the strings
 * block, in that order (the order dtc writes). Property names are stored once
 * in the strings block.
 */
import { hex, MachineError } from "./errors.js";

/** Header magic. */
export const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;
const HEADER_SIZE = 40;
const VERSION = 17;
const LAST_COMP_VERSION = 16;

// Spec 2.2.1 (node names) and 2.2.4 (property names).
const NODE_NAME = /^[0-9a-zA-Z,._+-]{1,31}(@[0-9a-zA-Z,._+-]+)?$/;
const PROP_NAME = /^[0-9a-zA-Z,._+?#-]{1,31}$/;

const usage = (msg: string): MachineError => new MachineError("MACHINE_FDT_USAGE", msg);

/** A growable big-endian byte buffer. */
class Buf {
  bytes = new Uint8Array(1024);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let cap = this.bytes.length * 2;
    while (cap < this.length + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.bytes.subarray(0, this.length));
    this.bytes = b;
  }

  u32(v: number): void {
    this.room(4);
    const b = this.bytes;
    const i = this.length;
    b[i] = v >>> 24;
    b[i + 1] = v >>> 16;
    b[i + 2] = v >>> 8;
    b[i + 3] = v;
    this.length += 4;
  }

  raw(data: Uint8Array): void {
    this.room(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  /** Zero-pad to a multiple of 4. */
  align4(): void {
    const pad = (4 - (this.length & 3)) & 3;
    this.room(pad);
    this.bytes.fill(0, this.length, this.length + pad);
    this.length += pad;
  }
}

const encoder = new TextEncoder();

/** NUL-terminated bytes of `s`; refuses embedded NULs. */
function cstring(s: string, what: string): Uint8Array {
  if (s.includes("\0")) throw usage(`${what} ${JSON.stringify(s)} contains a NUL character; remove it`);
  const e = encoder.encode(s);
  const out = new Uint8Array(e.length + 1);
  out.set(e);
  return out;
}

function u64Parts(v: number | bigint, what: string): [number, number] {
  const b = BigInt(v);
  if (b < 0n || b >= 1n << 64n) throw usage(`${what} ${v} is not a 64-bit unsigned value`);
  return [Number(b >> 32n), Number(b & 0xffffffffn)];
}

/** Options of {@link FdtBuilder}. */
export interface FdtBuilderOptions {
  /** boot_cpuid_phys in the header (default 0). */
  bootCpuId?: number;
}

/**
 * Writes a DTB node by node:
 * `new FdtBuilder().beginNode("").propU32("#address-cells", 2)...endNode().finish()`.
 * Misuse (unbalanced nodes, invalid names, a duplicate property) throws
 * `MACHINE_FDT_USAGE`.
 */
export class FdtBuilder {
  private readonly struct = new Buf();
  private readonly strings = new Buf();
  private readonly stringOffsets = new Map<string, number>();
  private readonly reservations: [number, number, number, number][] = [];
  private readonly stack: { name: string; props: Set<string>; children: Set<string> }[] = [];
  private rootDone = false;
  private readonly bootCpuId: number;

  constructor(options: FdtBuilderOptions = {}) {
    this.bootCpuId = options.bootCpuId ?? 0;
  }

  /** Add a memory reservation (address, size) to the reservation block. */
  addReservation(address: number | bigint, size: number | bigint): this {
    const [ah, al] = u64Parts(address, "reservation address");
    const [sh, sl] = u64Parts(size, "reservation size");
    this.reservations.push([ah, al, sh, sl]);
    return this;
  }

  /** Open a node; the first is the root and is named "". */
  beginNode(name: string): this {
    if (this.stack.length === 0) {
      if (this.rootDone) throw usage(`node "${name}" after the root node was closed; a DTB has one root`);
      if (name !== "") throw usage(`the root node's name must be "" (got "${name}")`);
    } else {
      if (!NODE_NAME.test(name)) {
        throw usage(
          `invalid node name "${name}": use 1-31 characters of [0-9a-zA-Z,._+-], optionally followed by @unit-address`,
        );
      }
      const parent = this.stack[this.stack.length - 1]!;
      if (parent.children.has(name)) throw usage(`duplicate node "${name}" under "${this.path()}"`);
      parent.children.add(name);
    }
    this.stack.push({ name, props: new Set(), children: new Set() });
    this.struct.u32(FDT_BEGIN_NODE);
    this.struct.raw(cstring(name, "node name"));
    this.struct.align4();
    return this;
  }

  /** Close the innermost open node. */
  endNode(): this {
    if (this.stack.length === 0) throw usage("endNode() without a matching beginNode()");
    this.stack.pop();
    this.struct.u32(FDT_END_NODE);
    if (this.stack.length === 0) this.rootDone = true;
    return this;
  }

  /** A property with raw bytes as its value. */
  property(name: string, value: Uint8Array): this {
    const node = this.stack[this.stack.length - 1];
    if (node === undefined) throw usage(`property "${name}" outside any node; call beginNode() first`);
    if (!PROP_NAME.test(name)) {
      throw usage(`invalid property name "${name}": use 1-31 characters of [0-9a-zA-Z,._+?#-]`);
    }
    if (node.props.has(name)) throw usage(`duplicate property "${name}" in node "${this.path()}"`);
    node.props.add(name);
    let off = this.stringOffsets.get(name);
    if (off === undefined) {
      off = this.strings.length;
      this.strings.raw(cstring(name, "property name"));
      this.stringOffsets.set(name, off);
    }
    this.struct.u32(FDT_PROP);
    this.struct.u32(value.length);
    this.struct.u32(off);
    this.struct.raw(value);
    this.struct.align4();
    return this;
  }

  /** An empty (boolean) property. */
  propEmpty(name: string): this {
    return this.property(name, new Uint8Array(0));
  }

  /** One 32-bit cell. */
  propU32(name: string, value: number): this {
    return this.propCells(name, [value]);
  }

  /** A list of 32-bit cells (a prop-encoded-array). */
  propCells(name: string, cells: readonly number[]): this {
    const out = new Uint8Array(cells.length * 4);
    const dv = new DataView(out.buffer);
    cells.forEach((c, i) => {
      if (!Number.isInteger(c) || c < -0x80000000 || c > 0xffffffff) {
        throw usage(`property "${name}": cell ${c} is not a 32-bit value`);
      }
      dv.setUint32(i * 4, c >>> 0);
    });
    return this.property(name, out);
  }

  /** One 64-bit value (two cells, high first). */
  propU64(name: string, value: number | bigint): this {
    return this.propCells(name, u64Parts(value, `property "${name}"`));
  }

  /** A NUL-terminated string. */
  propString(name: string, value: string): this {
    return this.property(name, cstring(value, `property "${name}"`));
  }

  /** A string list (each NUL-terminated, concatenated). */
  propStrings(name: string, values: readonly string[]): this {
    const parts = values.map((v) => cstring(v, `property "${name}"`));
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return this.property(name, out);
  }

  /** Finish and return the DTB. */
  finish(): Uint8Array {
    if (this.stack.length !== 0) throw usage(`node "${this.path()}" is still open; call endNode()`);
    if (!this.rootDone) throw usage('no root node; call beginNode("") ... endNode() first');
    const rsvSize = (this.reservations.length + 1) * 16;
    const structSize = this.struct.length + 4; // + FDT_END
    const stringsSize = this.strings.length;
    const offRsv = HEADER_SIZE;
    const offStruct = offRsv + rsvSize;
    const offStrings = offStruct + structSize;
    const total = offStrings + stringsSize;
    const out = new Uint8Array(total);
    const dv = new DataView(out.buffer);
    const header = [
      FDT_MAGIC,
      total,
      offStruct,
      offStrings,
      offRsv,
      VERSION,
      LAST_COMP_VERSION,
      this.bootCpuId,
      stringsSize,
      structSize,
    ];
    for (let i = 0; i < header.length; i++) dv.setUint32(i * 4, header[i]!);
    for (let i = 0; i < this.reservations.length; i++) {
      const r = this.reservations[i]!;
      for (let j = 0; j < 4; j++) dv.setUint32(offRsv + i * 16 + j * 4, r[j]!);
    }
    out.set(this.struct.bytes.subarray(0, this.struct.length), offStruct);
    dv.setUint32(offStruct + this.struct.length, FDT_END);
    out.set(this.strings.bytes.subarray(0, stringsSize), offStrings);
    return out;
  }

  private path(): string {
    return `/${this.stack
      .slice(1)
      .map((n) => n.name)
      .join("/")}`;
  }
}

// ---------------------------------------------------------------------------
// Reader.

const decoder = new TextDecoder();
const malformed = (msg: string): MachineError =>
  new MachineError("MACHINE_IMAGE_MALFORMED", `devicetree blob: ${msg}`);

/** A node of a parsed devicetree. */
export class FdtNode {
  /** Properties by name, in file order. */
  readonly properties = new Map<string, Uint8Array>();
  /** Child nodes in file order. */
  readonly children: FdtNode[] = [];

  constructor(
    /** Node name with unit address ("" for the root). */
    readonly name: string,
  ) {}

  /** A child by full name ("serial@10000000"), or undefined. */
  child(name: string): FdtNode | undefined {
    return this.children.find((c) => c.name === name);
  }

  /** The node at `path` ("/soc/serial@10000000") below this one, or undefined. */
  find(path: string): FdtNode | undefined {
    let node: FdtNode | undefined = this;
    for (const part of path.split("/")) {
      if (part === "") continue;
      node = node.child(part);
      if (node === undefined) return undefined;
    }
    return node;
  }

  /** Raw value of a property, or undefined. */
  prop(name: string): Uint8Array | undefined {
    return this.properties.get(name);
  }

  /** A property as 32-bit cells (undefined when absent or not a whole number of cells). */
  cells(name: string): number[] | undefined {
    const v = this.properties.get(name);
    if (v === undefined || v.length % 4 !== 0) return undefined;
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    return Array.from({ length: v.length / 4 }, (_, i) => dv.getUint32(i * 4));
  }

  /** A one-cell property, or undefined. */
  u32(name: string): number | undefined {
    const c = this.cells(name);
    return c?.length === 1 ? c[0] : undefined;
  }

  /** A one- or two-cell property as a bigint, or undefined. */
  u64(name: string): bigint | undefined {
    const c = this.cells(name);
    if (c?.length === 1) return BigInt(c[0]!);
    if (c?.length === 2) return (BigInt(c[0]!) << 32n) | BigInt(c[1]!);
    return undefined;
  }

  /** A string property, or undefined (absent or not NUL-terminated). */
  string(name: string): string | undefined {
    return this.strings(name)?.[0];
  }

  /** A string-list property, or undefined. */
  strings(name: string): string[] | undefined {
    const v = this.properties.get(name);
    if (v === undefined || v.length === 0 || v[v.length - 1] !== 0) return undefined;
    return decoder.decode(v.subarray(0, v.length - 1)).split("\0");
  }
}

/** A parsed DTB. */
export interface Fdt {
  /** Header version. */
  version: number;
  /** Header last_comp_version. */
  lastCompVersion: number;
  /** Header boot_cpuid_phys. */
  bootCpuId: number;
  /** Memory reservations. */
  reservations: { address: bigint; size: bigint }[];
  /** The root node. */
  root: FdtNode;
}

/**
 * Parse a DTB (version 16 or 17). Throws `MACHINE_IMAGE_MALFORMED` for
 * anything inconsistent: bad magic, blocks outside the blob, bad tokens,
 * unbalanced nodes, string offsets outside the strings block.
 */
export function readDtb(bytes: Uint8Array): Fdt {
  if (bytes.length < HEADER_SIZE) throw malformed(`${bytes.length} bytes, shorter than the 40-byte header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = (i: number): number => dv.getUint32(i * 4);
  if (h(0) !== FDT_MAGIC) throw malformed(`bad magic ${hex(h(0))} (expected 0xd00dfeed)`);
  const total = h(1);
  const offStruct = h(2);
  const offStrings = h(3);
  const offRsv = h(4);
  const version = h(5);
  const lastComp = h(6);
  const bootCpuId = h(7);
  const stringsSize = h(8);
  const structSize = h(9);
  if (total > bytes.length)
    throw malformed(`totalsize ${total} exceeds the ${bytes.length} bytes given (truncated?)`);
  if (version < 16 || lastComp > 17) {
    throw malformed(
      `version ${version} (last compatible ${lastComp}) is not readable; versions 16 and 17 are`,
    );
  }
  const inside = (off: number, size: number, what: string): void => {
    if (off > total || size > total - off)
      throw malformed(`${what} (offset ${off}, size ${size}) is outside the blob`);
  };
  inside(offStruct, structSize, "structure block");
  inside(offStrings, stringsSize, "strings block");
  if (offRsv % 8 !== 0 || offStruct % 4 !== 0) throw malformed("misaligned block offsets");

  const reservations: { address: bigint; size: bigint }[] = [];
  for (let at = offRsv; ; at += 16) {
    inside(at, 16, "memory reservation entry");
    const address = dv.getBigUint64(at);
    const size = dv.getBigUint64(at + 8);
    if (address === 0n && size === 0n) break;
    reservations.push({ address, size });
  }

  const strings = bytes.subarray(offStrings, offStrings + stringsSize);
  const nameAt = (off: number): string => {
    if (off >= strings.length) throw malformed(`property name offset ${off} is outside the strings block`);
    const end = strings.indexOf(0, off);
    if (end < 0) throw malformed(`property name at ${off} is not NUL-terminated`);
    return decoder.decode(strings.subarray(off, end));
  };

  const end = offStruct + structSize;
  let p = offStruct;
  const word = (): number => {
    if (p + 4 > end) throw malformed("structure block ends inside a token");
    const v = dv.getUint32(p);
    p += 4;
    return v;
  };
  const stack: FdtNode[] = [];
  let root: FdtNode | undefined;
  for (;;) {
    const token = word();
    if (token === FDT_BEGIN_NODE) {
      const nul = bytes.indexOf(0, p);
      if (nul < 0 || nul >= end) throw malformed("node name is not NUL-terminated");
      const node = new FdtNode(decoder.decode(bytes.subarray(p, nul)));
      p = (nul + 4) & ~3;
      if (stack.length === 0) {
        if (root !== undefined) throw malformed("more than one root node");
        root = node;
      } else {
        stack[stack.length - 1]!.children.push(node);
      }
      stack.push(node);
    } else if (token === FDT_END_NODE) {
      if (stack.pop() === undefined) throw malformed("FDT_END_NODE without an open node");
    } else if (token === FDT_PROP) {
      const len = word();
      const nameOff = word();
      const node = stack[stack.length - 1];
      if (node === undefined) throw malformed("property outside any node");
      if (len > end - p) throw malformed(`property of ${len} bytes runs past the structure block`);
      node.properties.set(nameAt(nameOff), bytes.slice(p, p + len));
      p = (p + len + 3) & ~3;
    } else if (token === FDT_NOP) {
      // skip
    } else if (token === FDT_END) {
      break;
    } else {
      throw malformed(`unknown token ${hex(token)} at offset ${p - 4}`);
    }
  }
  if (stack.length !== 0) throw malformed(`node "${stack[stack.length - 1]!.name}" is not closed`);
  if (root === undefined) throw malformed("no root node");
  return { version, lastCompVersion: lastComp, bootCpuId, reservations, root };
}
