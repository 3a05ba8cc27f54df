/**
 * Sensitivity facts of every CSR access.
 *
 * Whether an access traps is derived from the CSR address (privileged spec
 * 2.1: bits 11:10 = 0b11 read-only, bits 9:8 the lowest privilege level)
 * plus the few registers with extra gates: the counters (mcounteren,
 * scounteren, hcounteren; 3.1.11, 4.1.5, H 8.2.4), satp and hgatp under
 * mstatus.TVM / hstatus.VTVM, stimecmp under Sstc (menvcfg.STCE, henvcfg.STCE
 * and the TM counter-enable bits), the FP CSRs under FS, and the Debug Mode
 * registers. When V=1 an access that HS-mode would allow raises a
 * virtual-instruction exception instead of an illegal-instruction one (H
 * extension, "Virtual-Instruction Exceptions").
 *
 * Why an access is sensitive is written per register below; a CSR of the
 * list without a reason is a build error, so there are no gaps.
 */

import { allCsrs, CSR, csrName, csrPrivilege, csrReadOnly } from "../csr.js";
import { everyMode, type OperationFacts, perMode } from "./facts.js";
import { always, illegalIf, NEVER, trapsIf, virtualIf } from "./traps.js";
import type { CounterBit, CsrAccess, Mode, TrapCondition, TrapRule } from "./types.js";

type Reasons = readonly [read: string, write: string];

/** Why reading and writing each register is sensitive, by name. */
const REASONS: Readonly<Record<string, Reasons>> = {
  cycle: ["reads cycle: real elapsed cycles, which include the VMM's own work", ""],
  time: ["reads time: depends on host (real) time", ""],
  instret: ["reads instret: counts real retired instructions, including the VMM's", ""],
  sstatus: [
    "reads sstatus: SIE, SPIE and SPP expose the supervisor's interrupt state and previous mode",
    "writes sstatus.SIE/SPIE/SPP/SUM/MXR: changes the interrupt state, the mode sret returns to and the memory-access rules",
  ],
  sie: [
    "reads sie: the supervisor's interrupt-enable configuration",
    "writes sie: enables or masks supervisor interrupts",
  ],
  stvec: [
    "reads stvec: reveals where the real trap vector lives (cf. SIDT)",
    "writes stvec: moves the supervisor trap vector, where control goes on the next trap",
  ],
  scounteren: [
    "reads scounteren: which counters U-mode may read",
    "writes scounteren: grants or revokes U-mode access to the counters",
  ],
  senvcfg: [
    "reads senvcfg: U-mode's execution-environment configuration",
    "writes senvcfg: changes U-mode's execution environment (fence I/O mode, cache-block operations)",
  ],
  sscratch: [
    "reads sscratch: the S-mode trap entry's scratch word, owned by whoever really runs in S-mode",
    "writes sscratch: changes the scratch word the S-mode trap entry relies on",
  ],
  sepc: [
    "reads sepc: the pc of the last real trap into S-mode",
    "writes sepc: changes where sret will return, a future change of mode and pc",
  ],
  scause: [
    "reads scause: the cause of the last real trap into S-mode",
    "writes scause: supervisor trap state",
  ],
  stval: [
    "reads stval: the faulting value of the last real trap into S-mode",
    "writes stval: supervisor trap state",
  ],
  sip: [
    "reads sip: which supervisor interrupts are pending",
    "writes sip.SSIP: raises or acknowledges a supervisor software interrupt",
  ],
  stimecmp: [
    "reads stimecmp: the supervisor timer deadline",
    "writes stimecmp: programs the supervisor timer",
  ],
  satp: [
    "reads satp: reveals the real page-table root, ASID and translation mode (cf. SGDT)",
    "writes satp: changes the memory mapping",
  ],
  hstatus: [
    "reads hstatus: how guests run (SPV, SPVP, VTSR, VTVM, VTW, HU)",
    "writes hstatus: changes the guest-execution controls and the virtualization mode the next sret enters",
  ],
  hedeleg: [
    "reads hedeleg: which exceptions go straight to VS-mode",
    "writes hedeleg: changes exception delegation to VS-mode",
  ],
  hideleg: [
    "reads hideleg: which interrupts go straight to VS-mode",
    "writes hideleg: changes interrupt delegation to VS-mode",
  ],
  hie: [
    "reads hie: the hypervisor-level interrupt enables",
    "writes hie: enables or masks hypervisor-level interrupts",
  ],
  htimedelta: [
    "reads htimedelta: the guests' time offset",
    "writes htimedelta: changes the guests' view of time",
  ],
  hcounteren: [
    "reads hcounteren: which counters guests may read",
    "writes hcounteren: grants or revokes guest access to the counters",
  ],
  hgeie: [
    "reads hgeie: which guest external interrupts are enabled",
    "writes hgeie: enables or masks guest external interrupts",
  ],
  henvcfg: [
    "reads henvcfg: the guests' execution-environment configuration",
    "writes henvcfg: changes the guests' execution environment (STCE, cache-block operations)",
  ],
  htval: [
    "reads htval: the guest-physical address of the last trap into HS-mode",
    "writes htval: hypervisor trap state",
  ],
  hip: [
    "reads hip: which hypervisor-level interrupts are pending",
    "writes hip: raises or acknowledges guest interrupts",
  ],
  hvip: [
    "reads hvip: the virtual interrupts injected into guests",
    "writes hvip: injects or withdraws virtual interrupts",
  ],
  htinst: [
    "reads htinst: the transformed trapping instruction of the last trap into HS-mode",
    "writes htinst: hypervisor trap state",
  ],
  hgatp: [
    "reads hgatp: reveals the G-stage page-table root and VMID",
    "writes hgatp: changes the guest-physical memory mapping",
  ],
  hgeip: ["reads hgeip: which guest external interrupts are pending", ""],
  vsatp: [
    "reads vsatp: a guest's page-table root, held by the hypervisor",
    "writes vsatp: changes a guest's first-stage mapping",
  ],
  vstimecmp: ["reads vstimecmp: a guest's timer deadline", "writes vstimecmp: programs a guest's timer"],
  mstatus: [
    "reads mstatus: the machine's interrupt state, previous modes and trap controls (TVM, TW, TSR)",
    "writes mstatus: changes MIE, MPP, MPRV, TVM, TW, TSR and the memory-access rules",
  ],
  misa: [
    "reads misa: which extensions the real hart implements (cf. CPUID)",
    "writes misa: enables or disables extensions",
  ],
  medeleg: [
    "reads medeleg: which exceptions go to S-mode",
    "writes medeleg: changes exception delegation to S-mode",
  ],
  mideleg: [
    "reads mideleg: which interrupts go to S-mode",
    "writes mideleg: changes interrupt delegation to S-mode",
  ],
  mie: [
    "reads mie: the machine's interrupt enables",
    "writes mie: enables or masks interrupts at every level",
  ],
  mtvec: ["reads mtvec: where the machine trap vector lives", "writes mtvec: moves the machine trap vector"],
  mcounteren: [
    "reads mcounteren: which counters S-mode and U-mode may read",
    "writes mcounteren: grants or revokes counter access below M-mode",
  ],
  menvcfg: [
    "reads menvcfg: the execution-environment configuration below M-mode",
    "writes menvcfg: changes the execution environment below M-mode (STCE, cache-block operations)",
  ],
  mcountinhibit: [
    "reads mcountinhibit: which counters are stopped",
    "writes mcountinhibit: stops or starts the counters",
  ],
  mscratch: [
    "reads mscratch: the M-mode trap entry's scratch word",
    "writes mscratch: changes the M-mode trap entry's scratch word",
  ],
  mepc: ["reads mepc: the pc of the last trap into M-mode", "writes mepc: changes where mret will return"],
  mcause: ["reads mcause: the cause of the last trap into M-mode", "writes mcause: machine trap state"],
  mtval: ["reads mtval: the faulting value of the last trap into M-mode", "writes mtval: machine trap state"],
  mip: ["reads mip: which interrupts are pending", "writes mip: raises or acknowledges interrupts"],
  mtinst: [
    "reads mtinst: the transformed trapping instruction of the last trap into M-mode",
    "writes mtinst: machine trap state",
  ],
  mtval2: [
    "reads mtval2: the guest-physical address of the last trap into M-mode",
    "writes mtval2: machine trap state",
  ],
  mseccfg: [
    "reads mseccfg: the machine security configuration",
    "writes mseccfg: changes the machine security configuration",
  ],
  mcycle: [
    "reads mcycle: the machine's real cycle count",
    "writes mcycle: changes the real cycle count every mode reads",
  ],
  minstret: [
    "reads minstret: the machine's real retired-instruction count",
    "writes minstret: changes the real instruction count every mode reads",
  ],
  tselect: ["reads tselect: which debug trigger is selected", "writes tselect: selects a debug trigger"],
};

/** Reasons shared by the numbered families and the VS-mode registers. */
function familyReasons(name: string): Reasons | undefined {
  if (/^hpmcounter\d+$/.test(name))
    return ["reads a hardware performance counter: real event counts, including the VMM's", ""];
  if (/^mhpmcounter\d+$/.test(name))
    return [
      "reads a machine performance counter: real event counts",
      "writes a machine performance counter: changes it for every mode",
    ];
  if (/^mhpmevent\d+$/.test(name))
    return [
      "reads a performance-event selector: what the real counters count",
      "writes a performance-event selector: changes what a counter counts",
    ];
  if (/^pmpcfg\d+$/.test(name))
    return [
      "reads a PMP configuration register: the physical memory protection layout",
      "writes a PMP configuration register: changes physical memory protection",
    ];
  if (/^pmpaddr\d+$/.test(name))
    return [
      "reads a PMP address register: the physical memory protection layout",
      "writes a PMP address register: changes physical memory protection",
    ];
  if (/^tdata\d$/.test(name))
    return [
      "reads a debug trigger: where hardware breakpoints and watchpoints are",
      "writes a debug trigger: sets hardware breakpoints and watchpoints",
    ];
  if (/^(dcsr|dpc|dscratch\d)$/.test(name)) return ["reads Debug Mode state", "writes Debug Mode state"];
  if (/^m(vendorid|archid|impid|hartid|configptr)$/.test(name))
    return ["reads the identity of the physical implementation or hart (cf. CPUID)", ""];
  if (/^vs/.test(name))
    return [
      "reads a VS-mode register: a guest's supervisor state, held by the hypervisor",
      "writes a VS-mode register: changes the supervisor state a guest will run with",
    ];
  return undefined;
}

const FP_CSR_REASON =
  "floating-point flags and rounding mode: unprivileged state of the running program (traps only while FS=Off)";
const READ_ONLY_WRITE_REASON =
  "read-only CSR: every write raises illegal-instruction in every mode, so there is no effect to virtualize (the VMM reflects the trap)";
const UNIMPLEMENTED_REASON = "not implemented on this hart: every access raises illegal-instruction";

const FIRST_DEBUG = 0x7b0;
const LAST_DEBUG = 0x7bf;
const isCounter = (num: number): boolean => num >= 0xc00 && num <= 0xc1f;
const isFpCsr = (num: number): boolean => num >= CSR.fflags && num <= CSR.fcsr;

function counterBit(num: number): CounterBit {
  const i = num & 31;
  return i === 0 ? "CY" : i === 1 ? "TM" : i === 2 ? "IR" : `HPM${i}`;
}

/** Conditions under which HS-mode itself is refused an access (ignoring mstatus.TVM, as the H spec says). */
function hsGates(num: number): TrapCondition[] {
  if (num === CSR.stimecmp || num === CSR.vstimecmp)
    return [illegalIf("menvcfg.STCE", 0), illegalIf("mcounteren.TM", 0)];
  return [];
}

function counterTraps(num: number): Record<Mode, TrapRule> {
  const b = counterBit(num);
  const m = illegalIf(`mcounteren.${b}`, 0);
  return perMode(
    trapsIf(m, illegalIf(`scounteren.${b}`, 0)),
    trapsIf(m),
    NEVER,
    trapsIf(m, virtualIf(`hcounteren.${b}`, 0)),
    trapsIf(m, virtualIf(`hcounteren.${b}`, 0), virtualIf(`scounteren.${b}`, 0)),
  );
}

function accessTraps(num: number, access: CsrAccess): Record<Mode, TrapRule> {
  const ill = always("illegal-instruction");
  if (num >= FIRST_DEBUG && num <= LAST_DEBUG) return everyMode(ill);
  if (access === "write" && csrReadOnly(num)) return everyMode(ill);
  if (isFpCsr(num)) {
    const off = illegalIf("mstatus.FS", 0);
    const vsOff = illegalIf("vsstatus.FS", 0);
    return perMode(trapsIf(off), trapsIf(off), trapsIf(off), trapsIf(off, vsOff), trapsIf(off, vsOff));
  }
  if (isCounter(num)) return counterTraps(num);

  const priv = csrPrivilege(num);
  const gates = hsGates(num);
  // S (HS-mode): M-level registers are out of reach; TVM gates satp and hgatp.
  let s: TrapRule;
  if (priv === 3) s = ill;
  else if (num === CSR.satp || num === CSR.hgatp) s = trapsIf(illegalIf("mstatus.TVM", 1));
  else s = trapsIf(...gates);
  // VS: S-level numbers reach the VS copies (or the shared scounteren/senvcfg);
  // hypervisor and VS registers raise virtual-instruction.
  let vs: TrapRule;
  if (priv === 3) vs = ill;
  else if (priv === 2) vs = always("virtual-instruction", ...gates);
  else if (num === CSR.satp) vs = trapsIf(virtualIf("hstatus.VTVM", 1));
  else if (num === CSR.stimecmp)
    vs = trapsIf(...gates, virtualIf("henvcfg.STCE", 0), virtualIf("hcounteren.TM", 0));
  else vs = NEVER;
  const vu = priv === 3 ? ill : always("virtual-instruction", ...gates);
  const u = priv === 0 ? NEVER : ill;
  return perMode(u, s, NEVER, vs, vu);
}

function vsNote(num: number): string | undefined {
  if (csrPrivilege(num) !== 1) return undefined;
  const twin = csrName(num + 0x100);
  if (twin?.startsWith("vs"))
    return `accesses ${twin} instead (H-extension substitution): the guest sees its own copy without a trap`;
  return "has no VS copy: VS-mode reaches the real register, which the hypervisor swaps on every world switch";
}

function reasonsFor(name: string): Reasons {
  const r = REASONS[name] ?? familyReasons(name);
  if (!r) throw new Error(`sensitivity: no reason for CSR ${name}; add one to sensitivity/csrs.ts`);
  return r;
}

function factsFor(num: number, access: CsrAccess): OperationFacts {
  const name = csrName(num);
  if (name === undefined) {
    return {
      control: false,
      behaviour: false,
      reason: UNIMPLEMENTED_REASON,
      virtualizedBy: "none",
      traps: everyMode(always("illegal-instruction")),
    };
  }
  const traps = accessTraps(num, access);
  if (isFpCsr(num)) {
    return { control: false, behaviour: false, reason: FP_CSR_REASON, virtualizedBy: "none", traps };
  }
  if (access === "write" && csrReadOnly(num)) {
    return { control: false, behaviour: false, reason: READ_ONLY_WRITE_REASON, virtualizedBy: "none", traps };
  }
  const [readReason, writeReason] = reasonsFor(name);
  const reason = access === "read" ? readReason : writeReason;
  if (!reason) throw new Error(`sensitivity: no ${access} reason for CSR ${name}`);
  const notes: Partial<Record<Mode, string>> = {};
  const vs = vsNote(num);
  if (vs) notes.VS = vs;
  if (isCounter(num)) {
    notes.U =
      "readable in U-mode only when both mcounteren and scounteren allow it: the VMM clears the bit to trap it";
    if (num === CSR.time) notes.VS = "reads time + htimedelta when V=1";
  }
  if (num >= FIRST_DEBUG && num <= LAST_DEBUG)
    notes.M = "accessible only in Debug Mode, which is outside these modes";
  return {
    control: access === "write",
    behaviour: access === "read",
    reason,
    virtualizedBy: "trap",
    traps,
    notes,
  };
}

const cache = new Map<number, OperationFacts>();

/** Sensitivity facts of one kind of access to a CSR number (0..0xfff). */
export function csrFacts(num: number, access: CsrAccess): OperationFacts {
  const key = num * 2 + (access === "write" ? 1 : 0);
  let f = cache.get(key);
  if (!f) cache.set(key, (f = factsFor(num, access)));
  return f;
}

/** Builds the facts of every named CSR, so a missing reason fails at once. */
export function allCsrFacts(): [num: number, name: string, access: CsrAccess, facts: OperationFacts][] {
  const out: [number, string, CsrAccess, OperationFacts][] = [];
  for (const [num, name] of allCsrs()) {
    for (const access of ["read", "write"] as const) out.push([num, name, access, csrFacts(num, access)]);
  }
  return out;
}
