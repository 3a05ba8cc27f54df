/**
 * Rewriting the guest's sensitive instructions (VMware's binary translator:
 * "sensitive instructions are rewritten, never trapped"). For each system
 * instruction of a block the translator asks what to emit:
 *
 * - inline emulation on the virtual CPU's typed arrays, inside the block:
 *   reads of every supervisor CSR the VMM keeps, and writes to sscratch,
 *   sepc, scause, stval, stvec, sie, scounteren, senvcfg and sstatus (SIE,
 *   SPIE, SPP, FS: the interrupt-flag dance of local_irq_save/restore); a
 *   write that enables an interrupt the guest can take now ends the block
 *   so the hart checks interrupts first;
 * - a callout into the VMM for the complex ones: satp writes (a shadow
 *   address space switch), sstatus writes that change SUM or MXR (a shadow
 *   view switch), sip and stimecmp (the real timer and pending bits),
 *   sfence.vma, sret, wfi, ecall (an SBI call) and supervisor CSRs the guest
 *   may not access (the VMM reflects the illegal-instruction trap).
 *
 * Guest user code gets the same translation as the hardware's: its sensitive
 * instructions trap. Only on an ISA profile where some do not trap in U-mode
 * (the non-virtualizable one) are those rewritten too, so the guest sees the
 * profile's behaviour on its virtual state (its sstatus and satp), not the
 * VMM's real one.
 */
import { CsrSlot, MSTATUS, PRV_S, type Rewrite } from "@hvkit/cpu";
import { CSR, csrPrivilege, csrReadOnly, type IsaProfile } from "@hvkit/isa";
import { S_INTERRUPTS, VCPU, VSTATUS_BITS } from "@hvkit/trap-and-emulate";

/** Translation contexts this strategy sets on the hart's translator. */
export const CTX_KERNEL = 1;
export const CTX_USER = 2;

/** ecall (privileged spec 3.3.1). */
export const INSN_ECALL = 0x00000073;
/** sret. */
export const INSN_SRET = 0x10200073;
/** wfi. */
export const INSN_WFI = 0x10500073;

/** How an instruction is rewritten. */
export const Treat = {
  /** Translated as the hardware runs it (not sensitive here, or trapping as it should). */
  NATIVE: 0,
  /** Emulated inline in the translated block. */
  INLINE: 1,
  /** A callout into the VMM. */
  CALLOUT: 2,
} as const;

/** What a U-mode access of the profile does: mask for read-masked reads, the writable mask for writes. */
export interface UserOverride {
  read?: { readonly through: boolean; readonly lo: number; readonly hi: number };
  write?: { readonly lo: number; readonly hi: number };
}

/** The profile's non-trapping U-mode CSR accesses on CSRs the virtual CPU keeps (sstatus, satp). */
export function userOverrides(profile: IsaProfile): Map<number, UserOverride> {
  const out = new Map<number, UserOverride>();
  for (const o of profile.nonTrapping) {
    if (o.kind !== "csr" || o.mode !== "U") continue;
    if (o.csr !== CSR.sstatus && o.csr !== CSR.satp) continue;
    const e: UserOverride = out.get(o.csr) ?? {};
    if (o.behaviour === "read-masked") e.read = { through: false, lo: o.mask.lo | 0, hi: o.mask.hi | 0 };
    else if (o.behaviour === "read-through") e.read = { through: true, lo: -1, hi: -1 };
    else e.write = { lo: o.mask.lo | 0, hi: o.mask.hi | 0 };
    out.set(o.csr, e);
  }
  return out;
}

/** Fields of a Zicsr instruction. */
function csrFields(bits: number) {
  const funct3 = (bits >>> 12) & 7;
  const kind = funct3 & 3; // 1 write, 2 set, 3 clear
  const rd = (bits >>> 7) & 31;
  const rs1 = (bits >>> 15) & 31;
  return {
    num: bits >>> 20,
    kind,
    rd,
    rs1,
    isImm: funct3 >= 5,
    writes: kind === 1 || rs1 !== 0,
    reads: kind !== 1 || rd !== 0,
  };
}

/** Supervisor CSRs whose every access is emulated inline (sstatus writes may call out). */
const INLINE_CSRS = new Set<number>([
  CSR.sstatus,
  CSR.sie,
  CSR.stvec,
  CSR.scounteren,
  CSR.senvcfg,
  CSR.sscratch,
  CSR.sepc,
  CSR.scause,
  CSR.stval,
]);

/**
 * How the instruction `bits` (32-bit; compressed ones are never sensitive)
 * is treated in translation context `context`, on a hart whose U-mode
 * profile overrides are `user`.
 */
export function classify(
  context: number,
  bits: number,
  length: number,
  user: Map<number, UserOverride>,
): number {
  if (length !== 4 || (bits & 0x7f) !== 0x73) return Treat.NATIVE;
  const funct3 = (bits >>> 12) & 7;
  if (context === CTX_USER) {
    if (funct3 === 0 || funct3 === 4 || user.size === 0) return Treat.NATIVE;
    const f = csrFields(bits);
    const o = user.get(f.num);
    // Only accesses the profile lets complete in U-mode, all of them (else the hardware traps, rightly).
    if (o === undefined || (f.reads && !o.read) || (f.writes && !o.write) || !f.reads) return Treat.NATIVE;
    return Treat.INLINE;
  }
  if (funct3 === 0) {
    if (bits === INSN_ECALL || bits === INSN_SRET || bits === INSN_WFI) return Treat.CALLOUT;
    // sfence.vma (funct7 0x09, rd = 0): any rs1/rs2.
    if (bits >>> 25 === 0x09 && ((bits >>> 7) & 31) === 0) return Treat.CALLOUT;
    return Treat.NATIVE; // ebreak, mret, hfence: the hardware's trap, reflected like any guest trap
  }
  if (funct3 === 4) return Treat.NATIVE; // hlv/hsv: illegal, as in S-mode without H
  const f = csrFields(bits);
  // User CSRs run natively (counters, FP); M-level and H CSRs trap as they would in S-mode.
  if (csrPrivilege(f.num) !== PRV_S) return Treat.NATIVE;
  if (f.writes && csrReadOnly(f.num)) return Treat.CALLOUT;
  if (INLINE_CSRS.has(f.num)) return Treat.INLINE;
  if (f.num === CSR.satp && !f.writes) return Treat.INLINE;
  return Treat.CALLOUT; // satp writes, sip, stimecmp, CSRs the virtual CPU does not have
}

// Slots of the hart's csr array used below.
const HC_MSTATUS = CsrSlot.MSTATUS;
const HC_MIE = CsrSlot.MIE;
const FS = MSTATUS.FS;
const SIE = MSTATUS.SIE;
const SUM_MXR = MSTATUS.SUM | MSTATUS.MXR;

/** The real MIE the guest kernel's sstatus.SIE and sie give (TrapAndEmulateVmm.updateInterrupts, in virtual S). */
function updateMie(status: string): string {
  return `{const m=(${status}&${SIE})!==0?VC[${VCPU.SIE}]:0;if(HC[${HC_MIE}]!==m){HC[${HC_MIE}]=m;H.resync=true;}}`;
}

/** `ol`/`oh` = the virtual CSR's value. */
function readCode(num: number): string {
  switch (num) {
    case CSR.sstatus:
      // UXL = 2; SD summarises a dirty FS.
      return `{const fs=HC[${HC_MSTATUS}]&${FS};ol=(VC[${VCPU.STATUS}]&${VSTATUS_BITS})|fs;oh=fs===${FS}?-2147483646:2;}`;
    case CSR.sie:
      return `ol=VC[${VCPU.SIE}];oh=0;`;
    case CSR.scounteren:
      return `ol=VC[${VCPU.SCOUNTEREN}];oh=0;`;
    default: {
      const s = pairSlot(num);
      return `ol=VC[${s}];oh=VC[${s + 1}];`;
    }
  }
}

function pairSlot(num: number): number {
  switch (num) {
    case CSR.stvec:
      return VCPU.STVEC;
    case CSR.sscratch:
      return VCPU.SSCRATCH;
    case CSR.sepc:
      return VCPU.SEPC;
    case CSR.scause:
      return VCPU.SCAUSE;
    case CSR.stval:
      return VCPU.STVAL;
    case CSR.senvcfg:
      return VCPU.SENVCFG;
    default:
      return VCPU.SATP;
  }
}

/** Write `nl`/`nh` to the virtual CSR with the hardware's WARL rules (TrapAndEmulateVmm.writeVirtual). */
function writeCode(num: number): string {
  switch (num) {
    case CSR.sstatus:
      // SUM or MXR changes switch the shadow view: the VMM's job.
      return (
        `{const o=VC[${VCPU.STATUS}],nx=(o&${~VSTATUS_BITS})|(nl&${VSTATUS_BITS});` +
        `if(((o^nx)&${SUM_MXR})!==0)$CALLOUT` +
        `VC[${VCPU.STATUS}]=nx;HC[${HC_MSTATUS}]=(HC[${HC_MSTATUS}]&${~(FS | MSTATUS.MXR)})|(nl&${FS | MSTATUS.MXR});` +
        `if(((o^nx)&${SIE})!==0)${updateMie("nx")}}`
      );
    case CSR.sie:
      return `VC[${VCPU.SIE}]=nl&${S_INTERRUPTS};${updateMie(`VC[${VCPU.STATUS}]`)}`;
    case CSR.scounteren:
      return `VC[${VCPU.SCOUNTEREN}]=nl;`;
    case CSR.senvcfg:
      return `VC[${VCPU.SENVCFG}]=nl&1;`;
    case CSR.stvec:
      return `VC[${VCPU.STVEC}]=(nl&-4)|((nl&3)===1?1:0);VC[${VCPU.STVEC + 1}]=nh;`;
    case CSR.sepc:
      return `VC[${VCPU.SEPC}]=nl&-2;VC[${VCPU.SEPC + 1}]=nh;`;
    default: {
      const s = pairSlot(num);
      return `VC[${s}]=nl;VC[${s + 1}]=nh;`;
    }
  }
}

/** The source operand and the new value of a CSR write (nl/nh), from the old one (ol/oh). */
function newValue(f: ReturnType<typeof csrFields>): string {
  const sl = f.isImm ? `${f.rs1}` : f.rs1 === 0 ? "0" : `x[${2 * f.rs1}]`;
  const sh = f.isImm || f.rs1 === 0 ? "0" : `x[${2 * f.rs1 + 1}]`;
  if (f.kind === 1) return `nl=${sl};nh=${sh};`;
  if (f.kind === 2) return `nl=ol|${sl};nh=oh|${sh};`;
  return `nl=ol&~${sl};nh=oh&~${sh};`;
}

/** The rewrite of a sensitive instruction (see {@link classify}); `user` as there. */
export function rewrite(
  context: number,
  bits: number,
  length: number,
  user: Map<number, UserOverride>,
): Rewrite | undefined {
  const treat = classify(context, bits, length, user);
  if (treat === Treat.NATIVE) return undefined;
  if (treat === Treat.CALLOUT) return { kind: "callout" };
  const callout = `CO(${bits},true)`;
  const f = csrFields(bits);
  const rdWrite = f.rd === 0 ? "" : `x[${2 * f.rd}]=ol;x[${2 * f.rd + 1}]=oh;`;
  if (context === CTX_USER) {
    // The profile's U-mode behaviour on the virtual state: reads see the guest's own CSR (masked
    // where the profile masks), writes change only the bits U-mode may write (sstatus.FS: the real one).
    const o = user.get(f.num)!;
    const r = o.read!;
    let code = `{let ol=0,oh=0,nl=0,nh=0;${readCode(f.num)}`;
    if (f.writes) {
      const w = o.write!;
      code += newValue(f);
      if (f.num === CSR.sstatus) code += `HC[${HC_MSTATUS}]=(HC[${HC_MSTATUS}]&${~w.lo})|(nl&${w.lo}&${FS});`;
    }
    if (!r.through) code += `ol&=${r.lo};oh&=${r.hi};`;
    code += `${rdWrite}BE[0]++;}`;
    return { kind: "inline", code };
  }
  let code = "{let ol=0,oh=0,nl=0,nh=0;";
  if (f.reads || f.kind !== 1) code += readCode(f.num);
  if (f.writes) code += newValue(f) + writeCode(f.num);
  code += rdWrite;
  if (f.reads || f.kind !== 1) code += `CC[${f.num * 2}]++;`;
  if (f.writes) code += `CC[${f.num * 2 + 1}]++;`;
  code += "BE[0]++;}";
  return { kind: "inline", code, callout };
}
