/**
 * Control and status registers (privileged spec 1.12+, chapters 2-4, plus
 * Sstc and the H extension 1.0). `readCsr` / `writeCsr` implement the WARL
 * behaviour and side effects of each register; the caller (the CSR
 * instruction) has already checked the address-encoded privilege and
 * read-only rules. Both return false when the access must raise an
 * illegal-instruction exception, or a virtual-instruction exception when
 * they also set `hart.csrVirtual`.
 *
 * With V=1 the supervisor CSR numbers reach the VS CSRs (sstatus is
 * vsstatus, satp is vsatp, ...), as the guest sees them; the VS CSRs'
 * own numbers always reach them.
 */
import { CSR } from "@hvkit/isa";
import { HSTATUS, Irq, MSTATUS, MSTATUS_HI, PRV_M, PRV_S, PRV_U } from "./constants.js";
import type { Hart } from "./hart.js";
import { K, S } from "./state.js";

/** misa: RV64 with A, C, D, F, I, M, S, U (and H with the hypervisor option: {@link MISA_H}). */
export const MISA_LO =
  (1 << 0) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20);
/** misa bit 7: the H extension. Read-only, like the rest of misa. */
export const MISA_H = 1 << 7;
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
/** With the H extension also ecall from VS (10), the guest-page faults (20, 21, 23) and virtual instruction (22). */
const MEDELEG_WRITABLE_H = MEDELEG_WRITABLE | (1 << 10) | (0xf << 20);
/** hedeleg: the bits the H extension requires writable (0-8, 12, 13, 15); 9-11 and 20-23 are read-only zero. */
const HEDELEG_WRITABLE = 0xb1ff;
/** Interrupts that can be delegated to S-mode: SSI, STI, SEI. */
const MIDELEG_WRITABLE = (1 << Irq.SSI) | (1 << Irq.STI) | (1 << Irq.SEI);
/** The S-level interrupts: the bits of sip and sie. */
const S_IRQS = MIDELEG_WRITABLE;
/** The VS-level interrupts (H extension): read-only one in mideleg, writable in hideleg, hie, hvip. */
const VS_IRQS = (1 << Irq.VSSI) | (1 << Irq.VSTI) | (1 << Irq.VSEI);
/** hip/hie bits: the VS-level interrupts and SGEI (never pending: GEILEN = 0). */
const HIP_MASK = VS_IRQS | (1 << Irq.SGEI);
/** Implemented interrupt enables. */
const MIE_WRITABLE =
  (1 << Irq.SSI) | (1 << Irq.MSI) | (1 << Irq.STI) | (1 << Irq.MTI) | (1 << Irq.SEI) | (1 << Irq.MEI);
/** mip bits software may write (STIP only while Sstc's STCE is off). */
const MIP_WRITABLE = (1 << Irq.SSI) | (1 << Irq.STI) | (1 << Irq.SEI);
/** hstatus bits software can write (VSBE, VGEIN and VSXL are read-only). */
const HSTATUS_WRITABLE =
  HSTATUS.GVA | HSTATUS.SPV | HSTATUS.SPVP | HSTATUS.HU | HSTATUS.VTVM | HSTATUS.VTW | HSTATUS.VTSR;
/** menvcfg/henvcfg bit 63 (high word bit 31): STCE. */
const STCE = 0x80000000 | 0;

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

/**
 * Whether a counter CSR (cycle/time/instret/hpmcounterN, index 0..31) is
 * accessible at the current privilege. With V=1 a counter mcounteren allows
 * but hcounteren (or, in VU-mode, scounteren) does not raises
 * virtual-instruction.
 */
function counterAccessible(h: Hart, index: number): boolean {
  const bit = 1 << index;
  if (h.priv === PRV_M) return true;
  if ((h.csr[S.MCOUNTEREN]! & bit) === 0) return false;
  if (h.virt !== 0) {
    if ((h.csr[S.HCOUNTEREN]! & bit) === 0 || (h.priv === PRV_U && (h.csr[S.SCOUNTEREN]! & bit) === 0)) {
      h.csrVirtual = true;
      return false;
    }
    return true;
  }
  if (h.priv === PRV_U && (h.csr[S.SCOUNTEREN]! & bit) === 0) return false;
  return true;
}

/** FP CSRs: off when mstatus.FS is Off, or with V=1 vsstatus.FS (illegal-instruction either way). */
function fpOff(h: Hart): boolean {
  const c = h.csr;
  return (c[S.MSTATUS]! & MSTATUS.FS) === 0 || (h.virt !== 0 && (c[S.VSSTATUS]! & MSTATUS.FS) === 0);
}

function fpDirty(h: Hart): void {
  h.csr[S.MSTATUS]! |= FS_DIRTY;
  if (h.virt !== 0) h.csr[S.VSSTATUS]! |= FS_DIRTY;
}

function setCounter(h: Hart, value: number): true {
  return set(h, (value % 4294967296) | 0, Math.floor(value / 4294967296) | 0);
}

const TWO32 = 4294967296;
const toNumber = (lo: number, hi: number): number => (hi >>> 0) * TWO32 + (lo >>> 0);

/** Read CSR `num` into h.csrLo/h.csrHi. */
export function readCsr(h: Hart, num: number): boolean {
  const c = h.csr;
  // V=1: the supervisor CSRs with a VS twin (at num + 0x100) are that twin.
  if (h.virt !== 0 && VS_TWIN[num] === 1) return readVs(h, num + 0x100, true);
  switch (num) {
    case CSR.fflags:
      if (fpOff(h)) return false;
      return set(h, h.fpu.fflags, 0);
    case CSR.frm:
      if (fpOff(h)) return false;
      return set(h, h.fpu.frm, 0);
    case CSR.fcsr:
      if (fpOff(h)) return false;
      return set(h, (h.fpu.frm << 5) | h.fpu.fflags, 0);
    case CSR.cycle:
      if (!counterAccessible(h, 0)) return false;
      return setCounter(h, h.cycles + stepsNow(h) - h.counters[K.MCYCLE_OFFSET]!);
    case CSR.time:
      if (!counterAccessible(h, 1)) return false;
      if (h.virt !== 0) return guestTime(h);
      return setCounter(h, h.time());
    case CSR.instret:
      if (!counterAccessible(h, 2)) return false;
      return setCounter(h, retiredNow(h) - h.counters[K.MINSTRET_OFFSET]!);
    case CSR.sstatus: {
      const lo = c[S.MSTATUS]! & SSTATUS_MASK;
      return set(h, lo, mstatusHi(lo, false));
    }
    case CSR.sie:
      return set(h, c[S.MIE]! & c[S.MIDELEG]! & S_IRQS, 0);
    case CSR.sip:
      return set(h, h.mip() & c[S.MIDELEG]! & S_IRQS, 0);
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
      return set(h, h.hypervisor ? MISA_LO | MISA_H : MISA_LO, MISA_HI);
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
  return h.hypervisor ? readH(h, num) : false;
}

/** Supervisor CSR numbers whose VS twin (number + 0x100) replaces them when V=1. */
const VS_TWIN = new Uint8Array(0x200);
for (const n of [
  CSR.sstatus,
  CSR.sie,
  CSR.stvec,
  CSR.sscratch,
  CSR.sepc,
  CSR.scause,
  CSR.stval,
  CSR.sip,
  CSR.stimecmp,
  CSR.satp,
]) {
  VS_TWIN[n] = 1;
}

/** `time` as VS-mode and VU-mode read it: time + htimedelta, modulo 2^64. */
function guestTime(h: Hart): true {
  const now = h.time();
  const nowHi = Math.floor(now / 4294967296);
  const sumLo = now - nowHi * 4294967296 + (h.csr[S.HTIMEDELTA]! >>> 0);
  const hi = nowHi + (h.csr[S.HTIMEDELTA + 1]! >>> 0) + (sumLo >= 4294967296 ? 1 : 0);
  return set(h, sumLo | 0, hi | 0);
}

/** Whether vstimecmp is accessible below M-mode by the HS-level gates: menvcfg.STCE and mcounteren.TM (Sstc). */
const stimecmpGates = (h: Hart): boolean =>
  h.priv === PRV_M || ((h.csr[S.MENVCFG + 1]! & STCE) !== 0 && (h.csr[S.MCOUNTEREN]! & 2) !== 0);

/**
 * Read a VS CSR by its own number; `sub` when reached through a supervisor
 * number at V=1, where hstatus.VTVM gates satp and henvcfg.STCE and
 * hcounteren.TM gate stimecmp (virtual-instruction).
 */
function readVs(h: Hart, num: number, sub: boolean): boolean {
  const c = h.csr;
  switch (num) {
    case CSR.vsstatus: {
      const lo = c[S.VSSTATUS]! & SSTATUS_MASK;
      return set(h, lo, mstatusHi(lo, false));
    }
    case CSR.vsie:
      return set(h, (c[S.MIE]! & c[S.HIDELEG]! & VS_IRQS) >>> 1, 0);
    case CSR.vsip:
      return set(h, (h.mip() & c[S.HIDELEG]! & VS_IRQS) >>> 1, 0);
    case CSR.vstvec:
      return get64(h, S.VSTVEC);
    case CSR.vsscratch:
      return get64(h, S.VSSCRATCH);
    case CSR.vsepc:
      return get64(h, S.VSEPC);
    case CSR.vscause:
      return get64(h, S.VSCAUSE);
    case CSR.vstval:
      return get64(h, S.VSTVAL);
    case CSR.vsatp:
      if (sub && vtvm(h)) return false;
      return get64(h, S.VSATP);
    case CSR.vstimecmp:
      if (!vstimecmpAccessible(h, sub)) return false;
      return get64(h, S.VSTIMECMP);
  }
  return false;
}

/** VS-mode with hstatus.VTVM: satp accesses raise virtual-instruction. */
function vtvm(h: Hart): boolean {
  if (h.priv === PRV_S && (h.csr[S.HSTATUS]! & HSTATUS.VTVM) !== 0) {
    h.csrVirtual = true;
    return true;
  }
  return false;
}

function vstimecmpAccessible(h: Hart, sub: boolean): boolean {
  if (!stimecmpGates(h)) return false;
  if (sub && ((h.csr[S.HENVCFG + 1]! & STCE) === 0 || (h.csr[S.HCOUNTEREN]! & 2) === 0)) {
    h.csrVirtual = true;
    return false;
  }
  return true;
}

/** Read a hypervisor CSR (only with the H extension). */
function readH(h: Hart, num: number): boolean {
  const c = h.csr;
  switch (num) {
    case CSR.hstatus:
      return set(h, c[S.HSTATUS]!, 2); // VSXL = 2: VS-mode is 64-bit
    case CSR.hedeleg:
      return set(h, c[S.HEDELEG]!, 0);
    case CSR.hideleg:
      return set(h, c[S.HIDELEG]!, 0);
    case CSR.hie:
      return set(h, c[S.MIE]! & HIP_MASK, 0);
    case CSR.hip:
      return set(h, h.mip() & HIP_MASK, 0);
    case CSR.hvip:
      return set(h, c[S.MIP_SW]! & VS_IRQS, 0);
    case CSR.htimedelta:
      return get64(h, S.HTIMEDELTA);
    case CSR.hcounteren:
      return set(h, c[S.HCOUNTEREN]!, 0);
    case CSR.hgeie:
    case CSR.hgeip:
      return set(h, 0, 0); // GEILEN = 0
    case CSR.henvcfg:
      // STCE reads as zero while menvcfg.STCE is zero.
      return set(h, c[S.HENVCFG]!, c[S.HENVCFG + 1]! & c[S.MENVCFG + 1]! & STCE);
    case CSR.htval:
      return get64(h, S.HTVAL);
    case CSR.htinst:
      return get64(h, S.HTINST);
    case CSR.hgatp:
      if (h.priv === PRV_S && (c[S.MSTATUS]! & MSTATUS.TVM) !== 0) return false;
      return get64(h, S.HGATP);
    case CSR.mtval2:
      return get64(h, S.MTVAL2);
    case CSR.mtinst:
      return get64(h, S.MTINST);
  }
  return readVs(h, num, false);
}

/** Hypervisor, VS and H machine CSRs this hart implements with the H extension. */
const H_CSRS = new Set<number>([
  CSR.hstatus,
  CSR.hedeleg,
  CSR.hideleg,
  CSR.hie,
  CSR.htimedelta,
  CSR.hcounteren,
  CSR.hgeie,
  CSR.henvcfg,
  CSR.htval,
  CSR.hip,
  CSR.hvip,
  CSR.htinst,
  CSR.hgatp,
  CSR.hgeip,
  CSR.vsstatus,
  CSR.vsie,
  CSR.vstvec,
  CSR.vsscratch,
  CSR.vsepc,
  CSR.vscause,
  CSR.vstval,
  CSR.vsip,
  CSR.vstimecmp,
  CSR.vsatp,
  CSR.mtval2,
  CSR.mtinst,
]);

/** Supervisor CSRs this hart implements. */
const S_CSRS = new Set<number>([
  CSR.sstatus,
  CSR.sie,
  CSR.stvec,
  CSR.scounteren,
  CSR.senvcfg,
  CSR.sscratch,
  CSR.sepc,
  CSR.scause,
  CSR.stval,
  CSR.sip,
  CSR.stimecmp,
  CSR.satp,
]);

/**
 * Whether HS-mode could access CSR `num` (a supervisor, hypervisor or VS
 * CSR), assuming mstatus.TVM = 0: the test that turns a refused access at
 * V=1 into a virtual-instruction rather than an illegal-instruction
 * exception. stimecmp and vstimecmp also need menvcfg.STCE and mcounteren.TM.
 */
export function csrImplemented(h: Hart, num: number): boolean {
  if (!S_CSRS.has(num) && !(h.hypervisor && H_CSRS.has(num))) return false;
  if (num === CSR.stimecmp || num === CSR.vstimecmp) {
    return (h.csr[S.MENVCFG + 1]! & STCE) !== 0 && (h.csr[S.MCOUNTEREN]! & 2) !== 0;
  }
  return true;
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
  if (h.virt !== 0 && VS_TWIN[num] === 1) return writeVs(h, num + 0x100, lo, hi, true);
  switch (num) {
    case CSR.fflags:
      if (fpOff(h)) return false;
      h.fpu.fflags = lo & 0x1f;
      fpDirty(h);
      return true;
    case CSR.frm:
      if (fpOff(h)) return false;
      h.fpu.frm = lo & 7;
      fpDirty(h);
      return true;
    case CSR.fcsr:
      if (fpOff(h)) return false;
      h.fpu.fflags = lo & 0x1f;
      h.fpu.frm = (lo >>> 5) & 7;
      fpDirty(h);
      return true;
    case CSR.sstatus:
      return writeMstatus(h, (c[S.MSTATUS]! & ~SSTATUS_WRITABLE) | (lo & SSTATUS_WRITABLE));
    case CSR.sie: {
      const d = c[S.MIDELEG]! & S_IRQS;
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
      if (h.hypervisor) {
        // MPV and GVA (bits 39, 38); MPV changes the effective mode of MPRV accesses.
        const old = c[S.MSTATUS_HI]!;
        c[S.MSTATUS_HI] = hi & (MSTATUS_HI.MPV | MSTATUS_HI.GVA);
        if ((old ^ hi) & MSTATUS_HI.MPV) h.privilegeChanged();
      }
      return writeMstatus(h, (c[S.MSTATUS]! & ~MSTATUS_WRITABLE) | (lo & MSTATUS_WRITABLE));
    case CSR.misa:
      return true; // WARL: fixed
    case CSR.medeleg:
      c[S.MEDELEG] = lo & (h.hypervisor ? MEDELEG_WRITABLE_H : MEDELEG_WRITABLE);
      return true;
    case CSR.mideleg:
      c[S.MIDELEG] = (lo & MIDELEG_WRITABLE) | (h.hypervisor ? VS_IRQS : 0);
      h.interruptsChanged();
      return true;
    case CSR.mie:
      c[S.MIE] = lo & (h.hypervisor ? MIE_WRITABLE | VS_IRQS : MIE_WRITABLE);
      h.interruptsChanged();
      return true;
    case CSR.mip: {
      // With the H extension mip.VSSIP is hvip.VSSIP (VSTIP and VSEIP are read-only here).
      let m = h.hypervisor ? MIP_WRITABLE | (1 << Irq.VSSI) : MIP_WRITABLE;
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
  return h.hypervisor ? writeH(h, num, lo, hi) : false;
}

/** Write a VS CSR by its own number; `sub` when reached through a supervisor number at V=1. */
function writeVs(h: Hart, num: number, lo: number, hi: number, sub: boolean): boolean {
  const c = h.csr;
  switch (num) {
    case CSR.vsstatus: {
      const old = c[S.VSSTATUS]!;
      const v = (old & ~SSTATUS_WRITABLE) | (lo & SSTATUS_WRITABLE);
      c[S.VSSTATUS] = v;
      // SUM and MXR change what the guest TLB entries allow.
      if ((old ^ v) & (MSTATUS.SUM | MSTATUS.MXR)) h.flushGuestTlb();
      if ((old ^ v) & MSTATUS.SIE) h.interruptsChanged();
      return true;
    }
    case CSR.vsie: {
      // vsie.SSIE/STIE/SEIE are hie.VSSIE/VSTIE/VSEIE where hideleg delegates them.
      const d = c[S.HIDELEG]! & VS_IRQS;
      c[S.MIE] = (c[S.MIE]! & ~d) | ((lo << 1) & d);
      h.interruptsChanged();
      return true;
    }
    case CSR.vsip: {
      // Only vsip.SSIP is writable: it is hvip.VSSIP (when delegated).
      const d = c[S.HIDELEG]! & (1 << Irq.VSSI);
      c[S.MIP_SW] = (c[S.MIP_SW]! & ~d) | ((lo << 1) & d);
      h.interruptsChanged();
      return true;
    }
    case CSR.vstvec:
      c[S.VSTVEC] = tvec(lo);
      c[S.VSTVEC + 1] = hi;
      return true;
    case CSR.vsscratch:
      c[S.VSSCRATCH] = lo;
      c[S.VSSCRATCH + 1] = hi;
      return true;
    case CSR.vsepc:
      c[S.VSEPC] = lo & ~1;
      c[S.VSEPC + 1] = hi;
      return true;
    case CSR.vscause:
      c[S.VSCAUSE] = lo;
      c[S.VSCAUSE + 1] = hi;
      return true;
    case CSR.vstval:
      c[S.VSTVAL] = lo;
      c[S.VSTVAL + 1] = hi;
      return true;
    case CSR.vsatp: {
      if (sub && vtvm(h)) return false;
      const mode = hi >>> 28;
      // An unsupported MODE leaves vsatp unchanged, as for satp.
      if (mode !== 0 && mode !== 8 && mode !== 9) return true;
      c[S.VSATP] = lo;
      c[S.VSATP + 1] = hi;
      h.flushGuestTlb();
      return true;
    }
    case CSR.vstimecmp:
      if (!vstimecmpAccessible(h, sub)) return false;
      c[S.VSTIMECMP] = lo;
      c[S.VSTIMECMP + 1] = hi;
      h.interruptsChanged();
      return true;
  }
  return false;
}

/** Write a hypervisor CSR (only with the H extension). */
function writeH(h: Hart, num: number, lo: number, hi: number): boolean {
  const c = h.csr;
  switch (num) {
    case CSR.hstatus:
      c[S.HSTATUS] = lo & HSTATUS_WRITABLE;
      return true;
    case CSR.hedeleg:
      c[S.HEDELEG] = lo & HEDELEG_WRITABLE;
      return true;
    case CSR.hideleg:
      c[S.HIDELEG] = lo & VS_IRQS;
      h.interruptsChanged();
      return true;
    case CSR.hie:
      c[S.MIE] = (c[S.MIE]! & ~VS_IRQS) | (lo & VS_IRQS); // SGEIE is read-only zero (GEILEN = 0)
      h.interruptsChanged();
      return true;
    case CSR.hip: {
      // Only VSSIP is writable in hip (it is hvip.VSSIP).
      const m = 1 << Irq.VSSI;
      c[S.MIP_SW] = (c[S.MIP_SW]! & ~m) | (lo & m);
      h.interruptsChanged();
      return true;
    }
    case CSR.hvip:
      c[S.MIP_SW] = (c[S.MIP_SW]! & ~VS_IRQS) | (lo & VS_IRQS);
      h.interruptsChanged();
      return true;
    case CSR.htimedelta:
      c[S.HTIMEDELTA] = lo;
      c[S.HTIMEDELTA + 1] = hi;
      h.interruptsChanged();
      return true;
    case CSR.hcounteren:
      c[S.HCOUNTEREN] = lo;
      return true;
    case CSR.hgeie:
      return true; // GEILEN = 0: read-only zero
    case CSR.henvcfg:
      c[S.HENVCFG] = lo & 1; // FIOM; PBMTE, ADUE and the CBO fields are read-only zero
      c[S.HENVCFG + 1] = hi & c[S.MENVCFG + 1]! & STCE; // STCE, read-only zero while menvcfg.STCE is
      h.interruptsChanged();
      return true;
    case CSR.htval:
      c[S.HTVAL] = lo;
      c[S.HTVAL + 1] = hi;
      return true;
    case CSR.htinst:
      c[S.HTINST] = lo;
      c[S.HTINST + 1] = hi;
      return true;
    case CSR.hgatp: {
      if (h.priv === PRV_S && (c[S.MSTATUS]! & MSTATUS.TVM) !== 0) return false;
      // MODE is WARL (Bare, Sv39x4, Sv48x4; another value keeps the old one), PPN[1:0]
      // read as zero (16 KiB root), VMID has all 14 bits.
      let mode = hi >>> 28;
      if (mode !== 0 && mode !== 8 && mode !== 9) mode = c[S.HGATP + 1]! >>> 28;
      c[S.HGATP] = lo & ~3;
      c[S.HGATP + 1] = (mode << 28) | (hi & 0x03ffffff);
      h.flushGuestTlb();
      return true;
    }
    case CSR.mtval2:
      c[S.MTVAL2] = lo;
      c[S.MTVAL2 + 1] = hi;
      return true;
    case CSR.mtinst:
      c[S.MTINST] = lo;
      c[S.MTINST + 1] = hi;
      return true;
  }
  return writeVs(h, num, lo, hi, false);
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
