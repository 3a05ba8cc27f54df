/**
 * Independent TypeScript implementations of what hvkit-kernel's workloads
 * compute (kernel/user/workloads.c), so the tests check the guest's results
 * against values derived here, not against the guest's own output.
 */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3), continuing from `crc` (0 for a new one). */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** The guests' LCG: state = state * 1664525 + 1013904223 (mod 2^32), returning the new state. */
export class Lcg {
  constructor(public state: number) {}
  next(): number {
    this.state = (Math.imul(this.state, 1664525) + 1013904223) >>> 0;
    return this.state;
  }
}

function le32(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setUint32(i * 4, values[i]! >>> 0, true);
  return out;
}

/** The compute workload's three accumulators after n rounds (CHECK compute sorted=, crc32=, matmul=). */
export function computeChecksums(n: number): { sorted: number; crc32: number; matmul: number } {
  const SORT_N = 4096;
  const CRC_BYTES = 65536;
  const MAT_N = 32;
  let sortAcc = 0;
  let crcAcc = 0;
  let matAcc = 0;
  for (let r = 0; r < n; r++) {
    const g = new Lcg(r + 1);
    const values = new Uint32Array(SORT_N);
    for (let i = 0; i < SORT_N; i++) values[i] = g.next();
    values.sort();
    const sortedCrc = crc32(le32(values));
    const bytes = new Uint8Array(CRC_BYTES);
    for (let i = 0; i < CRC_BYTES; i++) bytes[i] = g.next() >>> 24;
    const dataCrc = crc32(bytes);
    const a = new Uint32Array(MAT_N * MAT_N);
    const b = new Uint32Array(MAT_N * MAT_N);
    for (let i = 0; i < MAT_N * MAT_N; i++) {
      a[i] = g.next();
      b[i] = g.next();
    }
    const c = new Uint32Array(MAT_N * MAT_N);
    for (let i = 0; i < MAT_N; i++) {
      for (let j = 0; j < MAT_N; j++) {
        let s = 0;
        for (let k = 0; k < MAT_N; k++) s = (s + Math.imul(a[i * MAT_N + k]!, b[k * MAT_N + j]!)) >>> 0;
        c[i * MAT_N + j] = s;
      }
    }
    const matCrc = crc32(le32(c));
    sortAcc = crc32(le32([sortAcc, sortedCrc]));
    crcAcc = crc32(le32([crcAcc, dataCrc]));
    matAcc = crc32(le32([matAcc, matCrc]));
  }
  return { sorted: sortAcc, crc32: crcAcc, matmul: matAcc };
}

/** The io workload's sector contents (fill_sector). */
export function ioSector(sector: number): Uint8Array {
  const g = new Lcg((Math.imul(sector, 2654435761) + 12345) >>> 0);
  const words = new Uint32Array(512 / 4);
  for (let i = 0; i < words.length; i++) words[i] = g.next();
  return le32(words);
}

/** CRC-32 over sectors 0..n-1 (CHECK io crc32=). */
export function ioChecksum(n: number): number {
  let crc = 0;
  for (let s = 0; s < n; s++) crc = crc32(ioSector(s), crc);
  return crc;
}

/** Format as the guests print hex words. */
export function hex8(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, "0")}`;
}
