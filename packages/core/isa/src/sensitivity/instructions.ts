/**
 * Sensitivity facts of every instruction of the table.
 *
 * Ordinary instructions are classified by their major opcode (taken from the
 * table's match bits), compressed ones by the instruction they expand to; the
 * SYSTEM-opcode instructions are written out below, one rule per instruction,
 * from the privileged spec 1.12 (3.3, 3.1.6.5 for TSR/TVM/TW, 10.2) and the H
 * extension 1.0 ("Virtual-Instruction Exceptions"). A SYSTEM instruction
 * added to the table without a rule here is a build error, so the
 * classification cannot have gaps.
 */

import { INSTRUCTIONS, type Instruction } from "../table/index.js";
import { everyMode, type OperationFacts, perMode } from "./facts.js";
import { always, illegalIf, NEVER, PER_CSR, trapsIf, virtualIf } from "./traps.js";

const ILL = always("illegal-instruction");
const VIRT = always("virtual-instruction");

/** F and D instructions trap while the FP unit is off (mstatus.FS, and vsstatus.FS when V=1). */
const FP_TRAPS = perMode(
  trapsIf(illegalIf("mstatus.FS", 0)),
  trapsIf(illegalIf("mstatus.FS", 0)),
  trapsIf(illegalIf("mstatus.FS", 0)),
  trapsIf(illegalIf("mstatus.FS", 0), illegalIf("vsstatus.FS", 0)),
  trapsIf(illegalIf("mstatus.FS", 0), illegalIf("vsstatus.FS", 0)),
);

const INNOCUOUS_NOTE_FP =
  "FS=Off traps are a lazy-context-switch enable, not a privilege check; FP writes mark FS Dirty, which the VMM mirrors into the guest's virtual sstatus";

const MEMORY_NOTES = {
  U: "a deprivileged guest kernel's accesses land here: shadow page tables give its pages U=1 and keep one shadow set per virtual mode so guest user code cannot reach guest kernel pages",
  VS: "two-stage translation (vsatp, then hgatp) virtualizes the access in hardware",
  VU: "two-stage translation (vsatp, then hgatp) virtualizes the access in hardware",
} as const;

function memory(reason: string, fp: boolean): OperationFacts {
  return {
    control: false,
    behaviour: true,
    reason,
    virtualizedBy: "address-translation",
    traps: fp ? FP_TRAPS : everyMode(NEVER),
    notes: MEMORY_NOTES,
  };
}

function innocuous(reason: string, fp = false): OperationFacts {
  return {
    control: false,
    behaviour: false,
    reason,
    virtualizedBy: "none",
    traps: fp ? FP_TRAPS : everyMode(NEVER),
    ...(fp ? { notes: { U: INNOCUOUS_NOTE_FP, S: INNOCUOUS_NOTE_FP } } : {}),
  };
}

const LOAD_REASON =
  "loads from memory: the translation (satp), the permission checks (PTE.U with SUM and MXR) and the fault taken depend on the mapping and the current mode";
const STORE_REASON =
  "stores to memory: the translation and permission checks depend on the mapping and the current mode; a store into a guest page table changes the guest's mapping, which shadow paging catches by write-protecting the tables or at sfence.vma";
const AMO_REASON =
  "atomic read-modify-write of memory: the same translation and permission dependence as loads and stores";

/** Popek-Goldberg rules for the SYSTEM-opcode instructions, by mnemonic. */
const SYSTEM: Readonly<Record<string, OperationFacts>> = {
  ecall: {
    control: true,
    behaviour: true,
    reason:
      "ecall: transfers control to a more privileged mode; the cause it raises (8, 9, 10 or 11) encodes the current mode",
    virtualizedBy: "trap",
    traps: everyMode(always("environment-call")),
    notes: {
      U: "traps by design in every mode (not privileged in Popek and Goldberg's sense, but it never executes without a handler seeing it): the VMM emulates the guest kernel's SBI calls and reflects guest user system calls",
    },
  },
  ebreak: {
    control: true,
    behaviour: false,
    reason: "ebreak: transfers control to the breakpoint handler, a trap into a more privileged mode",
    virtualizedBy: "trap",
    traps: everyMode(always("breakpoint")),
  },
  sret: {
    control: true,
    behaviour: true,
    reason:
      "sret: changes the privilege mode (from SPP), the pc (from sepc) and the interrupt state (SIE from SPIE)",
    virtualizedBy: "trap",
    traps: perMode(
      ILL,
      trapsIf(illegalIf("mstatus.TSR", 1)),
      NEVER,
      trapsIf(virtualIf("hstatus.VTSR", 1)),
      VIRT,
    ),
    notes: {
      S: "mstatus.TSR lets a nested hypervisor or M-mode intercept it",
      VS: "returns within the guest using vsstatus and vsepc; mstatus.TSR does not apply when V=1",
    },
  },
  mret: {
    control: true,
    behaviour: true,
    reason:
      "mret: changes the privilege mode (from MPP and MPV), the pc (from mepc) and the interrupt state (MIE from MPIE)",
    virtualizedBy: "trap",
    traps: perMode(ILL, ILL, NEVER, ILL, ILL),
  },
  wfi: {
    control: true,
    behaviour: true,
    reason:
      "wfi: idles the hart until an interrupt is pending, giving the physical processor away; when it wakes depends on the interrupt configuration",
    virtualizedBy: "trap",
    traps: perMode(
      ILL,
      trapsIf(illegalIf("mstatus.TW", 1)),
      NEVER,
      trapsIf(illegalIf("mstatus.TW", 1), virtualIf("hstatus.VTW", 1)),
      always("virtual-instruction", illegalIf("mstatus.TW", 1)),
    ),
    notes: {
      U: "the spec lets an implementation complete it within a bounded time instead of trapping; this hart traps",
      S: "with mstatus.TW=0 it executes (a hint: waiting is allowed, not required)",
    },
  },
  "sfence.vma": {
    control: true,
    behaviour: false,
    reason: "sfence.vma: invalidates cached address translations, which changes the effective memory mapping",
    virtualizedBy: "trap",
    traps: perMode(
      ILL,
      trapsIf(illegalIf("mstatus.TVM", 1)),
      NEVER,
      trapsIf(virtualIf("hstatus.VTVM", 1)),
      VIRT,
    ),
    notes: {
      S: "mstatus.TVM also traps satp accesses, so shadow paging can run an S-mode guest (privileged spec 3.1.6.5)",
      VS: "acts on the guest's VS-stage translations only; mstatus.TVM does not apply when V=1",
    },
  },
  "hfence.vvma": {
    control: true,
    behaviour: false,
    reason:
      "hfence.vvma: invalidates cached guest (VS-stage) translations, which changes a guest's effective mapping",
    virtualizedBy: "trap",
    traps: perMode(ILL, NEVER, NEVER, VIRT, VIRT),
  },
  "hfence.gvma": {
    control: true,
    behaviour: false,
    reason:
      "hfence.gvma: invalidates cached guest-physical (G-stage) translations, which changes the guest-physical mapping",
    virtualizedBy: "trap",
    traps: perMode(ILL, trapsIf(illegalIf("mstatus.TVM", 1)), NEVER, VIRT, VIRT),
  },
};

const HLV: OperationFacts = {
  control: false,
  behaviour: true,
  reason:
    "hlv/hlvx: loads as a guest would, through two-stage translation; the result depends on hstatus.SPVP, vsatp and hgatp",
  virtualizedBy: "trap",
  traps: perMode(trapsIf(illegalIf("hstatus.HU", 0)), NEVER, NEVER, VIRT, VIRT),
  notes: { U: "hstatus.HU=1 lets a user-level VMM component access guest memory" },
};

const HSV: OperationFacts = {
  ...HLV,
  reason:
    "hsv: stores as a guest would, through two-stage translation; the effect depends on hstatus.SPVP, vsatp and hgatp",
};

const CSR_INSTRUCTION: OperationFacts = {
  control: true,
  behaviour: true,
  reason:
    "accesses the CSR named by its operand: sensitive, and trapping, exactly as that CSR access is (see the CSR rows)",
  virtualizedBy: "per-csr",
  traps: everyMode(PER_CSR),
};

function factsOf32(insn: Instruction): OperationFacts {
  const fp = insn.ext === "F" || insn.ext === "D";
  if (insn.ext === "Zicsr") return CSR_INSTRUCTION;
  switch (insn.match & 0x7f) {
    case 0x03: // LOAD
    case 0x07: // LOAD-FP
      return memory(LOAD_REASON, fp);
    case 0x23: // STORE
    case 0x27: // STORE-FP
      return memory(STORE_REASON, fp);
    case 0x2f: // AMO
      return memory(AMO_REASON, false);
    case 0x0f: // MISC-MEM
      return insn.name === "fence.i"
        ? innocuous(
            "fence.i: orders instruction fetch after earlier stores on this hart; no privileged configuration involved (a binary translator takes it as a cue to drop translated code)",
          )
        : innocuous("memory ordering only: no dependence on or change to the privileged configuration");
    case 0x17: // AUIPC
    case 0x63: // BRANCH
    case 0x67: // JALR
    case 0x6f: // JAL
      return innocuous(
        "control flow within the current mode: pc values are virtual addresses, which address-translation virtualization preserves",
      );
    case 0x73: {
      // SYSTEM
      const rule = SYSTEM[insn.name];
      if (rule) return rule;
      if (insn.ext === "H" && insn.name.startsWith("hlv")) return HLV;
      if (insn.ext === "H" && insn.name.startsWith("hsv")) return HSV;
      throw new Error(
        `sensitivity: no rule for SYSTEM instruction ${insn.name}; add one to sensitivity/instructions.ts`,
      );
    }
    default:
      return fp
        ? innocuous(
            "floating-point computation on registers: traps only while the FP unit is off (FS=Off)",
            true,
          )
        : innocuous("register arithmetic: no dependence on or change to the privileged configuration");
  }
}

function build(): Map<string, OperationFacts> {
  const out = new Map<string, OperationFacts>();
  for (const insn of INSTRUCTIONS) {
    out.set(insn.name, factsOf32(insn.expand ? insn.expand.target : insn));
  }
  return out;
}

let cache: Map<string, OperationFacts> | undefined;

/** Sensitivity facts of an instruction by mnemonic, or undefined when the table has no such instruction. */
export function instructionFacts(name: string): OperationFacts | undefined {
  cache ??= build();
  return cache.get(name);
}
