/**
 * The binary-translation VMM (Adams & Agesen's "software VMM"): the guest
 * kernel still runs deprivileged on the real hart (real U-mode, shadow page
 * tables), but its code is never run as is: the hart's block translator
 * turns it into JavaScript, and this VMM's rewriter replaces every sensitive
 * instruction with inline emulation on the virtual CPU or a callout into the
 * VMM. Nothing the guest kernel executes traps to the VMM for being
 * privileged; what still leaves the translated code are the events a
 * software VMM cannot translate away: shadow page-table fills, MMIO, the
 * guest's own exceptions and interrupts (handled as in trap-and-emulate,
 * whose virtual CPU, shadow paging and exit handling this VMM extends).
 *
 * Translation contexts: the guest's virtual mode keys the translation cache
 * (kernel and user code of the same page get different translations), so
 * the translator's context follows every change of the virtual mode.
 *
 * Accounting: a callout charges `callout`, an inline emulation
 * `inCacheEmulation`, each instruction the modeled translator translates
 * `translatePerInstruction` (counted as the hart's decoded instructions:
 * every executed instruction is translated once per code-page lifetime),
 * and SBI calls are callouts too (the VMM core charges them as exits; this
 * VMM moves them). Step for step as under emulation: a callout instruction
 * takes its step in translated code and the VMM retires it, as an emulated
 * instruction does under trap-and-emulate.
 */
import {
  type BlockTranslator,
  Cause,
  CsrSlot,
  MSTATUS,
  PRV_S,
  type SensitiveRewriter,
  type TranslationOptions,
  type TranslationStats,
} from "@hvkit/cpu";
import type { VmCore } from "@hvkit/hypervisor";
import { CSR } from "@hvkit/isa";
import type { ShadowSyncPolicy } from "@hvkit/shadow-paging";
import { TrapAndEmulateVmm, VCPU, VSTATUS_BITS } from "@hvkit/trap-and-emulate";
import {
  CTX_KERNEL,
  CTX_USER,
  classify,
  INSN_ECALL,
  INSN_WFI,
  rewrite,
  Treat,
  userOverrides,
} from "./rewriter.js";

/** Callout kinds, for the counters (`bt.callout.<kind>`). */
export const CALLOUT_KINDS = [
  "csr",
  "satp",
  "sstatus",
  "sret",
  "wfi",
  "sfence.vma",
  "sbi",
  "reflect",
  "profile",
] as const;
const K_CSR = 0;
const K_SATP = 1;
const K_SSTATUS = 2;
const K_SRET = 3;
const K_WFI = 4;
const K_SFENCE = 5;
const K_SBI = 6;
const K_REFLECT = 7;
const K_PROFILE = 8;

/** Options of one binary-translation VM. */
export interface BinaryTranslationVmmOptions {
  /** Shadow page-table sync policy. */
  readonly shadow: ShadowSyncPolicy;
  /** Tuning of the block translator. */
  readonly translation?: TranslationOptions;
}

/** The binary-translation VMM bound to one VM. */
export class BinaryTranslationVmm extends TrapAndEmulateVmm {
  /** The hart's block translator (set at start). */
  translator: BlockTranslator | null = null;
  /** [0] inline emulations; [1 + kind] callouts by {@link CALLOUT_KINDS}. */
  readonly emulations = new Float64Array(1 + CALLOUT_KINDS.length);
  private readonly translation: TranslationOptions;
  private readonly rewriter: SensitiveRewriter;
  private readonly user: ReturnType<typeof userOverrides>;
  /** Set while the interpreter fallback runs an instruction translated code would emulate inline. */
  private inlineClass = false;
  /** Set while a callout runs (its traps are callouts, not exits). */
  private inCallout = false;

  constructor(core: VmCore, options: BinaryTranslationVmmOptions) {
    super(core, { shadow: options.shadow });
    this.translation = options.translation ?? {};
    this.user = userOverrides(core.config.isaProfile);
    const user = this.user;
    this.rewriter = {
      env: {
        VC: this.vcsr,
        HC: core.hart.csr,
        CC: this.csrCounts,
        BE: this.emulations,
        CO: (bits: number, inline: boolean): void => this.callout(bits, inline),
      },
      rewrite: (ctx, bits, length) => rewrite(ctx >>> 3, bits, length, user),
      claims: (ctx, bits, length) => classify(ctx >>> 3, bits, length, user) !== Treat.NATIVE,
      emulate: (ctx, bits, length) =>
        this.callout(bits, classify(ctx >>> 3, bits, length, user) === Treat.INLINE),
    };
  }

  override start(): void {
    super.start();
    this.translator = this.hart.setEngine("translator", this.translation, this.rewriter);
    this.modeChanged();
  }

  protected override modeChanged(): void {
    if (this.translator !== null) this.translator.context = this.vMode === PRV_S ? CTX_KERNEL : CTX_USER;
  }

  /**
   * A callout: emulate the sensitive instruction `bits` at the hart's pc on
   * the virtual CPU (it retires it, or reflects the trap the guest kernel
   * itself would take). `inline` when translated code would have emulated
   * it inline (the interpreter fallback on cold code, or inline code that
   * met a case it leaves to the VMM): it is charged as such.
   */
  callout(bits: number, inline: boolean): void {
    this.inlineClass = inline;
    this.inCallout = true;
    try {
      if (this.vMode !== PRV_S) this.userProfileCsr(bits);
      else if (bits === INSN_ECALL) this.sbiCall();
      else if (bits === INSN_WFI) this.wfiCallout(bits);
      else if (!this.emulatePrivileged(bits)) {
        // Illegal in S-mode too: the guest kernel takes its illegal-instruction trap.
        this.reflect(Cause.ILLEGAL_INSTRUCTION, bits, 0);
      }
    } finally {
      this.inlineClass = false;
      this.inCallout = false;
    }
  }

  /** ecall from the guest kernel: an SBI call, served by the VMM core. */
  private sbiCall(): void {
    if (!this.core.hypercall()) {
      this.reflect(Cause.ECALL_U, 0, 0);
      return;
    }
    // The core charges an SBI call as an exit; here it is a callout from translated code.
    const ev = this.core.events;
    ev.vmExit--;
    ev.vmEntry--;
    this.emulations[1 + K_SBI]!++;
    this.advance(4);
  }

  /**
   * wfi from the guest kernel: with an interrupt it waits for already
   * pending, or a timer to skip to, it retires here. With nothing that can
   * wake it, it leaves the run loop as the trap it is on the real hart, so
   * the VMM core can stop the VM as idle (trap-and-emulate's path emulates it).
   */
  private wfiCallout(bits: number): void {
    const hart = this.hart;
    if ((hart.mip() & this.vSie) === 0) {
      const before = hart.time();
      this.core.waitForInterrupt(this.vSie);
      if (hart.time() === before) {
        hart.raiseException(Cause.ILLEGAL_INSTRUCTION, bits, 0, bits, 4);
        return;
      }
    }
    this.emulations[1 + K_WFI]!++;
    this.retire(4);
  }

  /**
   * Guest user code on the non-virtualizable profile: a CSR access the
   * profile lets complete in U-mode, on the guest's virtual state (what the
   * real machine would show its user code), for the interpreter fallback.
   */
  private userProfileCsr(bits: number): void {
    const funct3 = (bits >>> 12) & 7;
    const kind = funct3 & 3;
    const rd = (bits >>> 7) & 31;
    const rs1 = (bits >>> 15) & 31;
    const num = bits >>> 20;
    const x = this.x;
    const o = this.user.get(num)!;
    const v = this.vcsr;
    const c = this.hart.csr;
    let ol: number;
    let oh: number;
    if (num === CSR.sstatus) {
      const fs = c[CsrSlot.MSTATUS]! & MSTATUS.FS;
      ol = (v[VCPU.STATUS]! & VSTATUS_BITS) | fs;
      oh = fs === MSTATUS.FS ? 0x80000002 | 0 : 2;
    } else {
      ol = v[VCPU.SATP]!;
      oh = v[VCPU.SATP + 1]!;
    }
    const writes = kind === 1 || rs1 !== 0;
    if (writes && o.write && num === CSR.sstatus) {
      const sl = funct3 >= 5 ? rs1 : x[2 * rs1]!;
      const nl = kind === 1 ? sl : kind === 2 ? ol | sl : ol & ~sl;
      const m = o.write.lo & MSTATUS.FS;
      c[CsrSlot.MSTATUS] = (c[CsrSlot.MSTATUS]! & ~m) | (nl & m);
    }
    if (o.read && !o.read.through) {
      ol &= o.read.lo;
      oh &= o.read.hi;
    }
    if (rd !== 0) {
      x[2 * rd] = ol;
      x[2 * rd + 1] = oh;
    }
    this.emulations[this.inlineClass ? 0 : 1 + K_PROFILE]!++;
    this.retire(4);
  }

  /** In a callout an emulated instruction costs a callout (or an inline emulation), not an exit. */
  protected override charge(what: number, reason: string): void {
    this.emuCounts[what]!++;
    if (this.inlineClass) {
      this.emulations[0]!++;
      return;
    }
    let kind = K_CSR;
    if (reason === "sret") kind = K_SRET;
    else if (reason === "wfi") kind = K_WFI;
    else if (reason === "sfence.vma") kind = K_SFENCE;
    else if (this.lastCsr === CSR.satp) kind = K_SATP;
    else if (this.lastCsr === CSR.sstatus) kind = K_SSTATUS;
    this.emulations[1 + kind]!++;
  }

  /** The CSR of the callout being charged (from its instruction). */
  private get lastCsr(): number {
    return this.calloutBits >>> 20;
  }
  private calloutBits = 0;

  protected override emulatePrivileged(insn: number): boolean {
    this.calloutBits = insn;
    return super.emulatePrivileged(insn);
  }

  /** A trap reflected by a callout is part of the callout; others are exits, as in trap-and-emulate. */
  protected override chargeReflect(): void {
    if (this.inCallout) {
      this.emulations[1 + K_REFLECT]!++;
      return;
    }
    super.chargeReflect();
  }

  override counters(): Record<string, number> {
    const out = super.counters();
    const t = this.translator;
    const s: TranslationStats | undefined = t?.stats;
    let callouts = 0;
    for (let i = 0; i < CALLOUT_KINDS.length; i++) {
      const n = this.emulations[1 + i]!;
      callouts += n;
      if (n) out[`bt.callout.${CALLOUT_KINDS[i]}`] = n;
    }
    out["bt.callouts"] = callouts;
    out["bt.inline"] = this.emulations[0]!;
    if (s) {
      out["bt.blocksTranslated"] = s.blocks;
      out["bt.instructionsTranslated"] = s.instructions;
      out["bt.compiles"] = s.compiles;
      out["bt.cacheHits"] = s.hits;
      out["bt.cacheMisses"] = s.misses;
      out["bt.blocksExecuted"] = s.blocksExecuted;
      out["bt.chained"] = s.chained;
      out["bt.invalidations"] = s.invalidations;
      out["bt.evictions"] = s.evictions;
      out["bt.cachedInstructions"] = t!.size;
    }
    out["bt.decodedInstructions"] = this.hart.decodedInstructions;
    // Modeled costs: callouts, inline emulations, and the translation of every executed instruction.
    const ev = this.core.events;
    ev.callout = callouts;
    ev.inCacheEmulation = this.emulations[0]!;
    ev.translatePerInstruction = this.hart.decodedInstructions;
    return out;
  }
}
