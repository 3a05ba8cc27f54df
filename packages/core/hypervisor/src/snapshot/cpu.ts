/**
 * The guest's CPU in snapshots: the guest-visible hart, in the hart's own
 * layout (`CsrSlot`, `CounterSlot`), as if the guest owned the machine — its
 * privilege, its supervisor CSRs, V = 0. Strategies that keep the guest's
 * supervisor state elsewhere (a virtual CPU in their own slots, the VS CSRs)
 * fold it back into this form (`StrategyInstance.guestState`), and take it
 * over again on restore through `start()`, exactly as they take over the
 * boot state. That is what lets a snapshot taken under one strategy restore
 * under another.
 */
import { CounterSlot, CsrSlot, type Hart, Irq, PRV_M, PRV_S, PRV_U } from "@hvkit/cpu";
import { SnapshotError } from "./format.js";

/** The guest-visible state of the hart. */
export interface GuestCpuState {
  /** x0..x31 as (lo, hi) int32 pairs. */
  readonly x: Int32Array;
  pcLo: number;
  pcHi: number;
  /** Privilege: PRV_U, PRV_S or PRV_M. */
  priv: number;
  /** Virtualization mode: always 0 in the guest-visible form. */
  virt: number;
  /** CSR state by `CsrSlot`. */
  readonly csr: Int32Array;
  /** Counters by `CounterSlot` (steps, instructions retired, time offset...). */
  readonly counters: Float64Array;
  /** f0..f31, raw bits as (lo, hi) uint32 pairs. */
  readonly f: Uint32Array;
  fflags: number;
  frm: number;
  /** LR reservation (RAM offset) or -1. */
  reservation: number;
}

const VS_IRQS = (1 << Irq.VSSI) | (1 << Irq.VSTI) | (1 << Irq.VSEI);
const X_WORDS = 64;
const F_WORDS = 64;

/** A copy of the hart's state as it is (a strategy then makes it guest-visible). */
export function captureHart(hart: Hart): GuestCpuState {
  return {
    x: hart.x.slice(0, X_WORDS),
    pcLo: hart.pcLo,
    pcHi: hart.pcHi,
    priv: hart.priv,
    virt: hart.virt,
    csr: hart.csr.slice(),
    counters: hart.counters.slice(),
    f: hart.fpu.u32.slice(0, F_WORDS),
    fflags: hart.fpu.fflags,
    frm: hart.fpu.frm,
    reservation: hart.reservationOffset,
  };
}

/**
 * Load a guest-visible state into a hart, dropping everything derived (TLBs,
 * decode caches, PMP tables are rebuilt on use).
 */
export function applyHart(hart: Hart, s: GuestCpuState): void {
  if (s.virt !== 0) {
    throw new SnapshotError(
      "SNAPSHOT_CORRUPT",
      "the snapshot's CPU is in guest mode (V=1); snapshots hold the guest-visible hart with V=0",
    );
  }
  hart.x.set(s.x, 0);
  hart.x[64] = 0;
  hart.x[65] = 0;
  hart.csr.set(s.csr);
  // H extension: mideleg's VS bits are read-only one; without it they do not exist.
  if (hart.hypervisor) hart.csr[CsrSlot.MIDELEG] = hart.csr[CsrSlot.MIDELEG]! | VS_IRQS;
  else hart.csr[CsrSlot.MIDELEG] = hart.csr[CsrSlot.MIDELEG]! & ~VS_IRQS;
  hart.counters.set(s.counters);
  hart.fpu.u32.set(s.f, 0);
  hart.fpu.fflags = s.fflags;
  hart.fpu.frm = s.frm;
  hart.pcLo = s.pcLo;
  hart.pcHi = s.pcHi;
  hart.setMode(s.priv, 0);
  hart.reservationOffset = s.reservation;
  hart.pmpChanged();
  hart.flushTlb();
  hart.interruptsChanged();
}

/** Binary form: u32 counts before each array, little-endian. */
export function encodeCpu(s: GuestCpuState): Uint8Array {
  const n = 4 * (1 + X_WORDS + 5 + 1 + s.csr.length + 1 + F_WORDS + 2) + 4 + 8 * s.counters.length;
  const out = new Uint8Array(n);
  const v = new DataView(out.buffer);
  let at = 0;
  const i32 = (x: number): void => {
    v.setInt32(at, x, true);
    at += 4;
  };
  i32(X_WORDS);
  for (let i = 0; i < X_WORDS; i++) i32(s.x[i]!);
  i32(s.pcLo);
  i32(s.pcHi);
  i32(s.priv);
  i32(s.virt);
  i32(s.reservation);
  i32(s.csr.length);
  for (let i = 0; i < s.csr.length; i++) i32(s.csr[i]!);
  i32(s.counters.length);
  for (let i = 0; i < s.counters.length; i++) {
    v.setFloat64(at, s.counters[i]!, true);
    at += 8;
  }
  i32(F_WORDS);
  for (let i = 0; i < F_WORDS; i++) i32(s.f[i]! | 0);
  i32(s.fflags);
  i32(s.frm);
  return out;
}

/** Read {@link encodeCpu}'s form, checking every count and value range. */
export function decodeCpu(bytes: Uint8Array): GuestCpuState {
  const bad = (what: string): SnapshotError =>
    new SnapshotError("SNAPSHOT_CORRUPT", `the snapshot's CPU section is damaged (${what})`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let at = 0;
  const i32 = (): number => {
    if (at + 4 > bytes.length) throw bad("too short");
    const x = v.getInt32(at, true);
    at += 4;
    return x;
  };
  const count = (expected: number, what: string): void => {
    const n = i32();
    if (n !== expected) throw bad(`${what}: ${n} entries, expected ${expected}`);
  };
  count(X_WORDS, "integer registers");
  const x = new Int32Array(X_WORDS);
  for (let i = 0; i < X_WORDS; i++) x[i] = i32();
  x[0] = 0;
  x[1] = 0;
  const pcLo = i32();
  const pcHi = i32();
  const priv = i32();
  const virt = i32();
  const reservation = i32();
  if (priv !== PRV_U && priv !== PRV_S && priv !== PRV_M) throw bad(`privilege ${priv}`);
  if (virt !== 0) throw bad(`V=${virt}`);
  count(CsrSlot.SIZE, "CSR slots");
  const csr = new Int32Array(CsrSlot.SIZE);
  for (let i = 0; i < CsrSlot.SIZE; i++) csr[i] = i32();
  count(CounterSlot.SIZE, "counters");
  const counters = new Float64Array(CounterSlot.SIZE);
  for (let i = 0; i < CounterSlot.SIZE; i++) {
    if (at + 8 > bytes.length) throw bad("too short");
    const c = v.getFloat64(at, true);
    at += 8;
    if (!Number.isFinite(c)) throw bad(`counter ${i} is not finite`);
    counters[i] = c;
  }
  count(F_WORDS, "floating-point registers");
  const f = new Uint32Array(F_WORDS);
  for (let i = 0; i < F_WORDS; i++) f[i] = i32() >>> 0;
  const fflags = i32();
  const frm = i32();
  if (fflags < 0 || fflags > 31 || frm < 0 || frm > 7) throw bad("fflags or frm out of range");
  if (at !== bytes.length) throw bad("trailing bytes");
  return { x, pcLo, pcHi, priv, virt, csr, counters, f, fflags, frm, reservation };
}
