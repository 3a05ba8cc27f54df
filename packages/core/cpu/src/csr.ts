/**
 * Control and status registers (privileged spec 1.12+, chapters 2-4, plus
 * Sstc). `readCsr` / `writeCsr` implement the WARL behaviour and side effects
 * of each register; the caller (the CSR instruction) has already checked the
 * address-encoded privilege and read-only rules. Both return false when the
 * access must raise an illegal-instruction exception.
 */
import { CSR } from "@hvkit/isa";
import { Irq, MSTATUS, PRV_M, PRV_S, PRV_U } from "./constants.js";
import type { Hart } from "./hart.js";
import { K, S } from "./state.js";

/** misa: RV64 with A, C, D, F, I, M, S, U. */
export const MISA_LO =
  (1 << 0) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20);
const MISA_HI = 0x80000000 | 0; // MXL = 2 (64-bit)

/** mstatus bits software can write. */
const MSTATUS_WRITABLE =
  MSTATUS.SIE |
  MSTATUS.MIE |
  MSTATUS.SPIE |
  MSTATUS.MPIE |
  MSTATUS.SPP |
  MSTATUS.MPP |
  MSTATUS.FS |
  MSTATUS.MPRV |
  MSTATUS.SUM |
  MSTATUS.MXR |
  MSTATUS.TVM |
  MSTATUS.TW |
  MSTATUS.TSR;
/** The sstatus view of mstatus (low word). */
const SSTATUS_MASK =
  MSTATUS.SIE |
  MSTATUS.SPIE |
  MSTATUS.UBE |
  MSTATUS.SPP |
  MSTATUS.VS |
  MSTATUS.FS |
  MSTATUS.XS |
  MSTATUS.SUM |
  MSTATUS.MXR;
const SSTATUS_WRITABLE = MSTATUS.SIE | MSTATUS.SPIE | MSTATUS.SPP | MSTATUS.FS | MSTATUS.SUM | MSTATUS.MXR;

/** Exceptions that can be delegated to S-mode: all but ecall from M (11) and the reserved/H causes. */
const MEDELEG_WRITABLE = 0xb3ff;
/** Interrupts that can be delegated to S-mode: SSI, STI, SEI. */
const MIDELEG_WRITABLE = (1 << Irq.SSI) | (1 << Irq.STI) | (1 << Irq.SEI);
/** Implemented interrupt enables. */
const MIE_WRITABLE =
  (1 << Irq.SSI) | (1 << Irq.MSI) | (1 << Irq.STI) | (1 << Irq.MTI) | (1 << Irq.SEI) | (1 << Irq.MEI);
/** mip bits software may write (STIP only while Sstc's STCE is off). */
const MIP_WRITABLE = (1 << Irq.SSI) | (1 << Irq.STI) | (1 << Irq.SEI);

const FS_DIRTY = MSTATUS.FS;

function set(h: Hart, lo: number, hi: number): true {
  h.csrLo = lo;
  h.csrHi = hi;
  return true;
}

function get64(h: Hart, slot: number): true {
  return set(h, h.csr[slot]!, h.csr[slot + 1]!);
}

/** The high word of mstatus: UXL = SXL = 2 (64-bit), SD summarises FS/XS/VS dirty. */
function mstatusHi(lo: number, withSxl: boolean): number {
  const dirty =
    (lo & MSTATUS.FS) === MSTATUS.FS || (lo & MSTATUS.XS) === MSTATUS.XS || (lo & MSTATUS.VS) === MSTATUS.VS;
  return (withSxl ? 0xa : 0x2) | (dirty ? 0x80000000 : 0);
}

/** Whether a counter CSR (cycle/time/instret/hpmcounterN, index 0..31) is accessible at the current privilege. */
function counterAccessible(h: Hart, index: number): boolean {
  const bit = 1 << index;
  if (h.priv === PRV_M) return true;
  if ((h.csr[S.MCOUNTEREN]! & bit) === 0) return false;
  if (h.priv === PRV_U && (h.csr[S.SCOUNTEREN]! & bit) === 0) return false;
  return true;
}

function setCounter(h: Hart, value: number): true {
  return set(h, (value % 4294967296) | 0, Math.floor(value / 4294967296) | 0);
}

const TWO32 = 4294967296;
const toNumber = (lo: number, hi: number): number => (hi >>> 0) * TWO32 + (lo >>> 0);

/** Read CSR `num` into h.csrLo/h.csrHi. */
export function readCsr(h: Hart, num: number): boolean {
  const c = h.csr;
  switch (num) {
    case CSR.fflags:
      if ((c[S.MSTATUS]! & MSTATUS.FS) === 0) return false;
      return set(h, h.fpu.fflags, 0);
    case CSR.frm:
      if ((c[S.MSTATUS]! & MSTATUS.FS) === 0) return false;
      return set(h, h.fpu.frm, 0);
    case CSR.fcsr:
      if ((c[S.MSTATUS]! & MSTATUS.FS) === 0) return false;
      return set(h, (h.fpu.frm << 5) | h.fpu.fflags, 0);
    case CSR.cycle:
      if (!counterAccessible(h, 0)) return false;
      return setCounter(h, h.cycles + stepsNow(h) - h.counters[K.MCYCLE_OFFSET]!);
    case CSR.time:
      if (!counterAccessible(h, 1)) return false;
      return setCounter(h, h.time());
    case CSR.instret:
      if (!counterAccessible(h, 2)) return false;
      return setCounter(h, retiredNow(h) - h.counters[K.MINSTRET_OFFSET]!);
    case CSR.sstatus: {
      const lo = c[S.MSTATUS]! & SSTATUS_MASK;
      return set(h, lo, mstatusHi(lo, false));
    }
    case CSR.sie:
      return set(h, c[S.MIE]! & c[S.MIDELEG]!, 0);
    case CSR.sip:
      return set(h, h.mip() & c[S.MIDELEG]!, 0);
    case CSR.stvec:
      return get64(h, S.STVEC);
    case CSR.scounteren:
      return set(h, c[S.SCOUNTEREN]!, 0);
    case CSR.senvcfg:
      return get64(h, S.SENVCFG);
    case CSR.sscratch:
      return get64(h, S.SSCRATCH);
    case CSR.sepc:
      return get64(h, S.SEPC);
    case CSR.scause:
      return get64(h, S.SCAUSE);
    case CSR.stval:
      return get64(h, S.STVAL);
    case CSR.satp:
      if (h.priv === PRV_S && (c[S.MSTATUS]! & MSTATUS.TVM) !== 0) return false;
      return get64(h, S.SATP);
    case CSR.stimecmp:
      if (!stimecmpAccessible(h)) return false;
      return get64(h, S.STIMECMP);
    case CSR.mvendorid:
    case CSR.marchid:
    case CSR.mimpid:
    case CSR.mconfigptr:
      return set(h, 0, 0);
    case CSR.mhartid:
      return set(h, h.hartId, 0);
    case CSR.mstatus: {
      const lo = c[S.MSTATUS]!;
      return set(h, lo, mstatusHi(lo, true) | (c[S.MSTATUS_HI]! & 0xc0));
    }
    case CSR.misa:
      return set(h, MISA_LO, MISA_HI);
    case CSR.medeleg:
      return set(h, c[S.MEDELEG]!, 0);
    case CSR.mideleg:
      return set(h, c[S.MIDELEG]!, 0);
    case CSR.mie:
      return set(h, c[S.MIE]!, 0);
    case CSR.mip:
      return set(h, h.mip(), 0);
    case CSR.mtvec:
      return get64(h, S.MTVEC);
    case CSR.mcounteren:
      return set(h, c[S.MCOUNTEREN]!, 0);
    case CSR.menvcfg:
      return get64(h, S.MENVCFG);
    case CSR.mcountinhibit:
      return set(h, 0, 0);
    case CSR.mscratch:
      return get64(h, S.MSCRATCH);
    case CSR.mepc:
      return get64(h, S.MEPC);
    case CSR.mcause:
      return get64(h, S.MCAUSE);
    case CSR.mtval:
      return get64(h, S.MTVAL);
    case CSR.mcycle:
      return setCounter(h, h.cycles + stepsNow(h) - h.counters[K.MCYCLE_OFFSET]!);
    case CSR.minstret:
      return setCounter(h, retiredNow(h) - h.counters[K.MINSTRET_OFFSET]!);
    case CSR.mseccfg:
    case CSR.tselect:
    case CSR.tdata1:
    case CSR.tdata2:
    case CSR.tdata3:
      // No Smepmp, no debug triggers: read as zero (tselect = 0 with tdata1 = 0 means "no trigger").
      return set(h, 0, 0);
  }
  if (num >= 0x3a0 && num <= 0x3af) {
    // pmpcfg: only the even ones exist on RV64.
    if (num & 1) return false;
    const first = (num - 0x3a0) * 4;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 8; i++) {
      const e = first + i;
      const v = e < h.pmpEntries ? c[S.PMPCFG + e]! & 0xff : 0;
      if (i < 4) lo |= v << (8 * i);
      else hi |= v << (8 * (i - 4));
    }
    return set(h, lo, hi);
  }
  if (num >= 0x3b0 && num <= 0x3ef) {
    const e = num - 0x3b0;
    if (e >= h.pmpEntries) return set(h, 0, 0);
    return get64(h, S.PMPADDR + 2 * e);
  }
  // Unimplemented hardware performance counters read as zero.
  if ((num >= 0xc03 && num <= 0xc1f) || (num >= 0xb03 && num <= 0xb1f) || (num >= 0x323 && num <= 0x33f)) {
    if (num >= 0xc03 && !counterAccessible(h, num - 0xc00)) return false;
    return set(h, 0, 0);
  }
  return false;
}

function stimecmpAccessible(h: Hart): boolean {
  if (h.priv === PRV_M) return true;
  // Sstc: STCE off, or mcounteren.TM clear, makes stimecmp illegal below M.
  if ((h.csr[S.MENVCFG + 1]! & 0x80000000) === 0) return false;
  return (h.csr[S.MCOUNTEREN]! & 2) !== 0;
}

function stepsNow(h: Hart): number {
  return h.stepsInRun;
}

/** Instructions retired before the current one (which has not retired when it reads the counter). */
function retiredNow(h: Hart): number {
  return h.instret + h.retiredInRun;
}

/** Write CSR `num` (full new value lo/hi, already combined for set/clear). */
export function writeCsr(h: Hart, num: number, lo: number, hi: number): boolean {
  const c = h.csr;
  switch (num) {
    case CSR.fflags:
      if ((c[S.MSTATUS]! & MSTATUS.FS) === 0) return false;
      h.fpu.fflags = lo & 0x1f;
      c[S.MSTATUS]! |= FS_DIRTY;
      return true;
    case CSR.frm:
      if ((c[S.MSTATUS]! & MSTATUS.FS) === 0) return false;
      h.fpu.frm = lo & 7;
      c[S.MSTATUS]! |= FS_DIRTY;
      return true;
    case CSR.fcsr:
      if ((c[S.MSTATUS]! & MSTATUS.FS) === 0) return false;
      h.fpu.fflags = lo & 0x1f;
      h.fpu.frm = (lo >>> 5) & 7;
      c[S.MSTATUS]! |= FS_DIRTY;
      return true;
    case CSR.sstatus:
      return writeMstatus(h, (c[S.MSTATUS]! & ~SSTATUS_WRITABLE) | (lo & SSTATUS_WRITABLE));
    case CSR.sie: {
      const d = c[S.MIDELEG]!;
      c[S.MIE] = (c[S.MIE]! & ~d) | (lo & d & MIE_WRITABLE);
      h.interruptsChanged();
      return true;
    }
    case CSR.sip: {
      // Only SSIP is writable through sip (when delegated).
      const m = c[S.MIDELEG]! & (1 << Irq.SSI);
      c[S.MIP_SW] = (c[S.MIP_SW]! & ~m) | (lo & m);
      h.interruptsChanged();
      return true;
    }
    case CSR.stvec:
      c[S.STVEC] = tvec(lo);
      c[S.STVEC + 1] = hi;
      return true;
    case CSR.scounteren:
      c[S.SCOUNTEREN] = lo;
      return true;
    case CSR.senvcfg:
      c[S.SENVCFG] = lo & 1; // FIOM
      return true;
    case CSR.sscratch:
      c[S.SSCRATCH] = lo;
      c[S.SSCRATCH + 1] = hi;
      return true;
    case CSR.sepc:
      c[S.SEPC] = lo & ~1;
      c[S.SEPC + 1] = hi;
      return true;
    case CSR.scause:
      c[S.SCAUSE] = lo;
      c[S.SCAUSE + 1] = hi;
      return true;
    case CSR.stval:
      c[S.STVAL] = lo;
      c[S.STVAL + 1] = hi;
      return true;
    case CSR.satp: {
      if (h.priv === PRV_S && (c[S.MSTATUS]! & MSTATUS.TVM) !== 0) return false;
      const mode = hi >>> 28;
      // An unsupported mode makes the whole write have no effect (priv spec 4.1.11).
      if (mode !== 0 && mode !== 8 && mode !== 9) return true;
      // MODE (63:60), ASID (59:44, all 16 bits implemented), PPN (43:0): all stored as written.
      c[S.SATP] = lo;
      c[S.SATP + 1] = hi;
      h.flushTlb();
      return true;
    }
    case CSR.stimecmp:
      if (!stimecmpAccessible(h)) return false;
      c[S.STIMECMP] = lo;
      c[S.STIMECMP + 1] = hi;
      h.interruptsChanged();
      return true;
    case CSR.mstatus:
      return writeMstatus(h, (c[S.MSTATUS]! & ~MSTATUS_WRITABLE) | (lo & MSTATUS_WRITABLE));
    case CSR.misa:
      return true; // WARL: fixed
    case CSR.medeleg:
      c[S.MEDELEG] = lo & MEDELEG_WRITABLE;
      return true;
    case CSR.mideleg:
      c[S.MIDELEG] = lo & MIDELEG_WRITABLE;
      h.interruptsChanged();
      return true;
    case CSR.mie:
      c[S.MIE] = lo & MIE_WRITABLE;
      h.interruptsChanged();
      return true;
    case CSR.mip: {
      let m = MIP_WRITABLE;
      if ((c[S.MENVCFG + 1]! & 0x80000000) !== 0) m &= ~(1 << Irq.STI);
      c[S.MIP_SW] = (c[S.MIP_SW]! & ~m) | (lo & m);
      h.interruptsChanged();
      return true;
    }
    case CSR.mtvec:
      c[S.MTVEC] = tvec(lo);
      c[S.MTVEC + 1] = hi;
      return true;
    case CSR.mcounteren:
      c[S.MCOUNTEREN] = lo;
      return true;
    case CSR.menvcfg:
      c[S.MENVCFG] = lo & 1; // FIOM
      c[S.MENVCFG + 1] = hi & (0x80000000 | 0); // STCE
      h.interruptsChanged();
      return true;
    case CSR.mcountinhibit:
      return true; // WARL: counters always count
    case CSR.mscratch:
      c[S.MSCRATCH] = lo;
      c[S.MSCRATCH + 1] = hi;
      return true;
    case CSR.mepc:
      c[S.MEPC] = lo & ~1;
      c[S.MEPC + 1] = hi;
      return true;
    case CSR.mcause:
      c[S.MCAUSE] = lo;
      c[S.MCAUSE + 1] = hi;
      return true;
    case CSR.mtval:
      c[S.MTVAL] = lo;
      c[S.MTVAL + 1] = hi;
      return true;
    case CSR.mcycle:
      h.counters[K.MCYCLE_OFFSET] = h.cycles + stepsNow(h) + 1 - toNumber(lo, hi);
      return true;
    case CSR.minstret:
      // The writing instruction itself retires after the write (priv spec 3.3.1).
      h.counters[K.MINSTRET_OFFSET] = retiredNow(h) + 1 - toNumber(lo, hi);
      return true;
    case CSR.mseccfg:
    case CSR.tselect:
    case CSR.tdata1:
    case CSR.tdata2:
    case CSR.tdata3:
      return true;
  }
  if (num >= 0x3a0 && num <= 0x3af) {
    if (num & 1) return false;
    const first = (num - 0x3a0) * 4;
    for (let i = 0; i < 8; i++) {
      const e = first + i;
      if (e >= h.pmpEntries) break;
      const old = c[S.PMPCFG + e]!;
      if (old & 0x80) continue; // locked
      let v = (i < 4 ? lo >>> (8 * i) : hi >>> (8 * (i - 4))) & 0xff;
      v &= 0x9f; // bits 5-6 reserved
      if ((v & 3) === 2) v &= ~2; // W without R is reserved: drop W
      c[S.PMPCFG + e] = v;
    }
    h.pmpChanged();
    return true;
  }
  if (num >= 0x3b0 && num <= 0x3ef) {
    const e = num - 0x3b0;
    if (e >= h.pmpEntries) return true;
    const cfg = c[S.PMPCFG + e]!;
    const next = e + 1 < h.pmpEntries ? c[S.PMPCFG + e + 1]! : 0;
    if (cfg & 0x80 || (next & 0x80 && (next & 0x18) === 0x08)) return true; // locked (or locked TOR above)
    c[S.PMPADDR + 2 * e] = lo;
    c[S.PMPADDR + 2 * e + 1] = hi & 0x3fffff; // bits 53:0
    h.pmpChanged();
    return true;
  }
  if ((num >= 0xb03 && num <= 0xb1f) || (num >= 0x323 && num <= 0x33f)) return true;
  return false;
}

/** mtvec/stvec: MODE 0 (direct) or 1 (vectored); other values read back as direct. */
function tvec(lo: number): number {
  return (lo & ~3) | ((lo & 3) === 1 ? 1 : 0);
}

function writeMstatus(h: Hart, v: number): true {
  const c = h.csr;
  const old = c[S.MSTATUS]!;
  // MPP is WARL over the implemented modes: 2 (reserved) keeps the previous value.
  if ((v & MSTATUS.MPP) === 2 << 11) v = (v & ~MSTATUS.MPP) | (old & MSTATUS.MPP);
  c[S.MSTATUS] = v;
  const changed = old ^ v;
  if (changed & (MSTATUS.SUM | MSTATUS.MXR)) h.flushTlb();
  else if (changed & (MSTATUS.MPRV | MSTATUS.MPP)) h.privilegeChanged();
  if (changed & (MSTATUS.MIE | MSTATUS.SIE)) h.interruptsChanged();
  return true;
}
