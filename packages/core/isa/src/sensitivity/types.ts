/**
 * Types of the sensitivity classification (Popek & Goldberg, CACM 1974,
 * applied to the RISC-V privileged architecture 1.12 and the H extension 1.0).
 */

/** A mode the hart executes in: U, S (HS-mode when the H extension is present), M, and the H extension's guest modes VS and VU. */
export type Mode = "U" | "S" | "M" | "VS" | "VU";

/** Every mode, in the order tables print them. */
export const MODES: readonly Mode[] = ["U", "S", "M", "VS", "VU"];

/** How an instruction touches a CSR, as classified: a read, or a modifying access (csrrw, csrrs/csrrc with a source other than x0). */
export type CsrAccess = "read" | "write";

/** The access kinds a caller may name; `set` and `clear` are modifying accesses and classify as `write`. */
export type CsrAccessKind = CsrAccess | "set" | "clear";

/** The exception an operation raises when it traps. */
export type TrapCause = "illegal-instruction" | "virtual-instruction" | "environment-call" | "breakpoint";

/** A bit of a counter-enable register: CY, TM, IR, or HPM3..HPM31. */
export type CounterBit = "CY" | "TM" | "IR" | `HPM${number}`;

/** A configuration field that decides whether an operation traps, named `csr.FIELD`. */
export type ControlBit =
  | "mstatus.TSR"
  | "mstatus.TVM"
  | "mstatus.TW"
  | "mstatus.FS"
  | "vsstatus.FS"
  | "hstatus.VTSR"
  | "hstatus.VTVM"
  | "hstatus.VTW"
  | "hstatus.HU"
  | "menvcfg.STCE"
  | "henvcfg.STCE"
  | `${"mcounteren" | "scounteren" | "hcounteren"}.${CounterBit}`;

/** The operation traps with `cause` when the field `control` holds `value`. */
export interface TrapCondition {
  /** The controlling field. */
  readonly control: ControlBit;
  /** The value of the field that makes the operation trap. */
  readonly value: number;
  /** The exception raised. */
  readonly cause: TrapCause;
}

/**
 * Whether an operation traps in one mode.
 *
 * - `always`: traps whatever the configuration, with `cause`; `conditions`
 *   (checked first, in order) may name configurations that raise a different
 *   cause instead.
 * - `conditional`: traps exactly when one of `conditions` holds (first match wins).
 * - `never`: does not trap.
 * - `per-csr`: a CSR instruction; whether it traps is decided by its CSR operand.
 */
export interface TrapRule {
  /** The kind of rule. */
  readonly when: "always" | "never" | "conditional" | "per-csr";
  /** The cause of an unconditional trap; null unless `when` is `always`. */
  readonly cause: TrapCause | null;
  /** Configurations that make it trap, in the order the hart checks them. */
  readonly conditions: readonly TrapCondition[];
}

/** Popek-Goldberg sensitivity of an operation. */
export type SensitivityCategory = "control" | "behaviour" | "control+behaviour" | "innocuous";

/**
 * How a trap-and-emulate VMM keeps control of a sensitive operation:
 * `trap` (it must trap when the deprivileged guest runs it), `address-translation`
 * (a memory access: virtualized by shadow or nested page tables, the role
 * Popek and Goldberg give the relocation register), `per-csr` (a CSR
 * instruction: see its CSR operand), `none` (innocuous).
 */
export type VirtualizedBy = "trap" | "address-translation" | "per-csr" | "none";

/** What is classified: an instruction of the table, or one kind of access to one CSR. */
export type Subject =
  | { readonly kind: "instruction"; readonly name: string }
  | { readonly kind: "csr"; readonly csr: number; readonly name: string; readonly access: CsrAccess };

/** The classification of one operation executed in one mode. */
export interface Classification {
  /** The operation. */
  readonly subject: Subject;
  /** The mode it executes in. */
  readonly mode: Mode;
  /** Whether it traps in that mode (under the profile it was classified for). */
  readonly trap: TrapRule;
  /** Whether it is control- or behaviour-sensitive. */
  readonly sensitive: boolean;
  /** Changes the configuration of resources (mode, mapping, interrupts, timers...). */
  readonly control: boolean;
  /** Its effect depends on the configuration (mode, mapping, real time...). */
  readonly behaviour: boolean;
  /** `control`, `behaviour`, both, or `innocuous`. */
  readonly category: SensitivityCategory;
  /** One line saying why (for innocuous operations: why not). */
  readonly reason: string;
  /** How a trap-and-emulate VMM keeps control of it. */
  readonly virtualizedBy: VirtualizedBy;
  /** A remark specific to this mode (H-extension substitution, allowed implementation choices...). */
  readonly note?: string;
  /** The profile override that makes it not trap in this mode, if any. */
  readonly override?: ProfileOverride;
}

/** What the CPU does instead of trapping, for a profile override. */
export type OverrideBehaviour = "read-masked" | "write-ignore-privileged" | "read-through" | "nop";

/** A 64-bit mask as two unsigned 32-bit halves, the hart's hi/lo register representation. */
export interface CsrMask {
  /** Bits 31..0, unsigned. */
  readonly lo: number;
  /** Bits 63..32, unsigned. */
  readonly hi: number;
}

interface OverrideBase {
  /** The mode in which the operation does not trap. */
  readonly mode: Mode;
  /** The instruction or pseudo-instruction a reader would write (`csrr`, `csrw`, `sret`). */
  readonly instruction: string;
  /** Exactly what the CPU does instead of trapping. */
  readonly description: string;
  /** The x86 (or historical) instruction this models. */
  readonly analogue: string;
}

/** A CSR read that returns the real value ANDed with `mask` instead of trapping. */
export interface CsrReadMaskedOverride extends OverrideBase {
  /** Discriminant: a CSR access. */
  readonly kind: "csr";
  /** CSR number. */
  readonly csr: number;
  /** CSR name. */
  readonly csrName: string;
  /** Reads only. */
  readonly access: "read";
  /** Returns `real & mask`. */
  readonly behaviour: "read-masked";
  /** The bits the read exposes; the others read as 0. */
  readonly mask: CsrMask;
}

/** A CSR write that applies only the bits in `mask` and silently drops the rest, instead of trapping. */
export interface CsrWriteIgnoreOverride extends OverrideBase {
  /** Discriminant: a CSR access. */
  readonly kind: "csr";
  /** CSR number. */
  readonly csr: number;
  /** CSR name. */
  readonly csrName: string;
  /** Modifying accesses: write, set and clear. */
  readonly access: "write";
  /** Writes `(old & ~mask) | (new & mask)`, where `new` is the usual write/set/clear result. */
  readonly behaviour: "write-ignore-privileged";
  /** The bits the write applies. */
  readonly mask: CsrMask;
  /** The privileged bits whose writes are silently dropped (documentation; everything outside `mask` is kept). */
  readonly ignored: CsrMask;
}

/** A CSR read that returns the real, unmasked value instead of trapping. */
export interface CsrReadThroughOverride extends OverrideBase {
  /** Discriminant: a CSR access. */
  readonly kind: "csr";
  /** CSR number. */
  readonly csr: number;
  /** CSR name. */
  readonly csrName: string;
  /** Reads only. */
  readonly access: "read";
  /** Returns the real value. */
  readonly behaviour: "read-through";
}

/** An instruction that completes as a no-op (pc += length) instead of trapping. */
export interface InstructionNopOverride extends OverrideBase {
  /** Discriminant: an instruction. */
  readonly kind: "instruction";
  /** Does nothing but advance the pc. */
  readonly behaviour: "nop";
}

/** One operation that, in a profile, does not trap in a mode where the standard architecture traps. */
export type ProfileOverride =
  | CsrReadMaskedOverride
  | CsrWriteIgnoreOverride
  | CsrReadThroughOverride
  | InstructionNopOverride;

/** An ISA profile: the standard architecture plus operations that do not trap. */
export interface IsaProfile {
  /** Short identifier. */
  readonly name: string;
  /** What the profile is for. */
  readonly description: string;
  /** The operations that do not trap in this profile, and what they do instead. */
  readonly nonTrapping: readonly ProfileOverride[];
}
