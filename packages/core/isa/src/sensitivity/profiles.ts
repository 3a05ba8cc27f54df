/**
 * ISA profiles: the standard architecture, and an opt-in variant that
 * reproduces the x86 lesson (Robin & Irvine 2000) on RISC-V by letting four
 * sensitive operations complete in U-mode instead of trapping.
 */

import { CSR } from "../csr.js";
import type { CsrMask, IsaProfile } from "./types.js";

// sstatus fields (privileged spec 4.1.1, RV64).
const SIE = 1 << 1;
const SPIE = 1 << 5;
const UBE = 1 << 6;
const SPP = 1 << 8;
const FS = 3 << 13;
const XS = 3 << 15;
const SUM = 1 << 18;
const MXR = 1 << 19;
const UXL_HI = 3; // bits 33:32
const SD_HI = 0x8000_0000; // bit 63

/** What U-mode sees of sstatus in the non-virtualizable profile: SIE, FS, XS, UXL and SD. */
const SSTATUS_USER_VIEW: CsrMask = { lo: (SIE | FS | XS) >>> 0, hi: (UXL_HI | SD_HI) >>> 0 };
/** What a U-mode write may change: FS only. */
const SSTATUS_USER_WRITABLE: CsrMask = { lo: FS, hi: 0 };
/** The privileged fields a U-mode write silently leaves alone. */
const SSTATUS_PRIVILEGED: CsrMask = { lo: (SIE | SPIE | UBE | SPP | SUM | MXR) >>> 0, hi: 0 };

/** RV64GC (with the H extension this hart has) as specified: every sensitive operation traps in U-mode, so the ISA is classically virtualizable. */
export const STANDARD_PROFILE: IsaProfile = {
  name: "standard",
  description:
    "RV64GC plus the privileged architecture 1.12 and the H extension 1.0, as specified: every sensitive instruction and CSR access traps in U-mode (some only when a VMM-held control bit says so), so a guest kernel can run deprivileged in U-mode under trap-and-emulate.",
  nonTrapping: [],
};

/**
 * Opt-in: four sensitive operations complete in U-mode instead of trapping,
 * modelled on x86's PUSHF/SMSW, POPF and SGDT/SIDT, plus the PDP-10's JRST 1.
 * Trap-and-emulate cannot run a guest kernel faithfully on it (Theorem 1
 * fails); a hybrid VMM still fails on three of them (Theorem 3), not on sret.
 */
export const NON_VIRTUALIZABLE_PROFILE: IsaProfile = {
  name: "non-virtualizable",
  description:
    "The standard profile, except that in U-mode reading sstatus returns a masked view, writing sstatus silently drops its privileged bits, reading satp returns the real value, and sret is a no-op. Sensitive but not privileged: the x86 situation Popek and Goldberg's Theorem 1 rules out.",
  nonTrapping: [
    {
      kind: "csr",
      csr: CSR.sstatus,
      csrName: "sstatus",
      access: "read",
      mode: "U",
      instruction: "csrr",
      behaviour: "read-masked",
      mask: SSTATUS_USER_VIEW,
      analogue: "x86 PUSHF and SMSW: user code reads the real interrupt flag and machine status",
      description:
        "Any read of sstatus in U-mode (csrrs/csrrc, and csrrw/csrrwi with rd other than x0) does not trap: rd receives the real sstatus ANDed with the mask (SIE, FS, XS, UXL, SD); every other bit reads as 0. A deprivileged guest kernel's local_irq_save therefore sees the real SIE, which the VMM owns, not its virtual one.",
    },
    {
      kind: "csr",
      csr: CSR.sstatus,
      csrName: "sstatus",
      access: "write",
      mode: "U",
      instruction: "csrw",
      behaviour: "write-ignore-privileged",
      mask: SSTATUS_USER_WRITABLE,
      ignored: SSTATUS_PRIVILEGED,
      analogue: "x86 POPF: in user mode it silently leaves IF unchanged",
      description:
        "Any write, set or clear of sstatus in U-mode (csrrw, csrrs/csrrc with rs1 other than x0, the immediate forms with uimm other than 0) does not trap: the CPU computes the new value as usual, then applies only the bits in the mask, new = (old & ~mask) | (value & mask), so only FS changes (and SD follows it). Writes to SIE, SPIE, UBE, SPP, SUM and MXR are dropped without a trace: a guest kernel's csrc sstatus, SIE (local_irq_disable) does nothing and nobody is told.",
    },
    {
      kind: "csr",
      csr: CSR.satp,
      csrName: "satp",
      access: "read",
      mode: "U",
      instruction: "csrr",
      behaviour: "read-through",
      analogue: "x86 SGDT and SIDT: user code learns where the real descriptor tables are",
      description:
        "Any read of satp in U-mode does not trap: rd receives the real satp (MODE, ASID, root PPN). Under a VMM that is the shadow page table's root, not the one the guest kernel wrote. Writes to satp still trap.",
    },
    {
      kind: "instruction",
      mode: "U",
      instruction: "sret",
      behaviour: "nop",
      analogue:
        "PDP-10 JRST 1 (return to user mode): harmless from user mode, so a hybrid VMM works (Theorem 3) but a full one does not (Theorem 1)",
      description:
        "sret in U-mode does not trap and has no effect: the pc advances by 4; the mode, sstatus and sepc are unchanged. A deprivileged guest kernel's return to its user program silently falls through to the next instruction.",
    },
  ],
};
