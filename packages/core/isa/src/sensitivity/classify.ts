import { csrName } from "../csr.js";
import { IsaError } from "../errors.js";
import { INSTRUCTIONS, instructionByName } from "../table/index.js";
import { allCsrFacts, csrFacts } from "./csrs.js";
import type { OperationFacts } from "./facts.js";
import { instructionFacts } from "./instructions.js";
import { STANDARD_PROFILE } from "./profiles.js";
import { NEVER } from "./traps.js";
import {
  type Classification,
  type CsrAccess,
  type CsrAccessKind,
  type IsaProfile,
  MODES,
  type Mode,
  type ProfileOverride,
  type SensitivityCategory,
  type Subject,
} from "./types.js";

function category(control: boolean, behaviour: boolean): SensitivityCategory {
  if (control && behaviour) return "control+behaviour";
  if (control) return "control";
  if (behaviour) return "behaviour";
  return "innocuous";
}

function checkMode(mode: Mode): void {
  if (!MODES.includes(mode)) {
    throw new IsaError("ISA_OPERAND_RANGE", `unknown mode "${mode}": use one of ${MODES.join(", ")}`);
  }
}

/** Whether an override covers an operation; an instruction override also covers its compressed forms. */
const sameSubject = (o: ProfileOverride, s: Subject): boolean =>
  o.kind === "instruction"
    ? s.kind === "instruction" &&
      (s.name === o.instruction || instructionByName(s.name)?.expand?.target.name === o.instruction)
    : s.kind === "csr" && s.csr === o.csr && s.access === o.access;

function assemble(subject: Subject, mode: Mode, f: OperationFacts, profile: IsaProfile): Classification {
  const override = profile.nonTrapping.find((o) => o.mode === mode && sameSubject(o, subject));
  const note = f.notes?.[mode];
  return {
    subject,
    mode,
    trap: override ? NEVER : f.traps[mode],
    sensitive: f.control || f.behaviour,
    control: f.control,
    behaviour: f.behaviour,
    category: category(f.control, f.behaviour),
    reason: f.reason,
    virtualizedBy: f.virtualizedBy,
    ...(note === undefined ? {} : { note }),
    ...(override ? { override } : {}),
  };
}

/**
 * How an instruction of the table classifies when executed in `mode` under
 * `profile` (default: the standard profile). CSR instructions classify as
 * `per-csr`: use {@link classifyCsr} on their operand.
 */
export function classifyInstruction(
  name: string,
  mode: Mode,
  profile: IsaProfile = STANDARD_PROFILE,
): Classification {
  checkMode(mode);
  const f = instructionFacts(name);
  if (!f) {
    throw new IsaError(
      "ISA_UNKNOWN_INSTRUCTION",
      `no instruction "${name}" in the table: use a mnemonic from INSTRUCTIONS (without an aq/rl suffix)`,
    );
  }
  return assemble({ kind: "instruction", name }, mode, f, profile);
}

/**
 * How an access to CSR `csr` classifies when executed in `mode` under
 * `profile` (default: the standard profile). `set` and `clear` are modifying
 * accesses and classify as `write`; a number the hart does not implement
 * always raises illegal-instruction.
 */
export function classifyCsr(
  csr: number,
  access: CsrAccessKind,
  mode: Mode,
  profile: IsaProfile = STANDARD_PROFILE,
): Classification {
  checkMode(mode);
  if (!Number.isInteger(csr) || csr < 0 || csr > 0xfff) {
    throw new IsaError("ISA_OPERAND_RANGE", `CSR number ${csr} is out of range: CSR numbers are 0..0xfff`);
  }
  const kind: CsrAccess = access === "read" ? "read" : "write";
  const name = csrName(csr) ?? `0x${csr.toString(16).padStart(3, "0")}`;
  return assemble({ kind: "csr", csr, name, access: kind }, mode, csrFacts(csr, kind), profile);
}

/**
 * The CSR accesses a Zicsr instruction performs, by the spec's rules (Zicsr
 * chapter): csrrw/csrrwi with rd=x0 do not read; csrrs/csrrc with rs1=x0, and
 * csrrsi/csrrci with uimm=0, do not write. The decision is by register index,
 * not value: csrrs with a non-x0 source holding zero still writes.
 */
export function csrAccesses(instruction: string, rd: number, rs1OrUimm: number): readonly CsrAccess[] {
  switch (instruction) {
    case "csrrw":
    case "csrrwi":
      return rd === 0 ? ["write"] : ["read", "write"];
    case "csrrs":
    case "csrrc":
    case "csrrsi":
    case "csrrci":
      return rs1OrUimm === 0 ? ["read"] : ["read", "write"];
    default:
      throw new IsaError(
        "ISA_UNKNOWN_INSTRUCTION",
        `"${instruction}" is not a CSR instruction: use csrrw, csrrs, csrrc or an immediate form`,
      );
  }
}

/** A short label for an operation: `sret`, `csrr sstatus` or `csrw sstatus`. */
export function subjectLabel(s: Subject): string {
  return s.kind === "instruction" ? s.name : `${s.access === "read" ? "csrr" : "csrw"} ${s.name}`;
}

/** Checks that every override of a profile names an instruction of the table or a named CSR, and a known mode. */
export function validateProfile(profile: IsaProfile): void {
  for (const o of profile.nonTrapping) {
    checkMode(o.mode);
    if (o.kind === "instruction" && !instructionFacts(o.instruction)) {
      throw new IsaError(
        "ISA_UNKNOWN_INSTRUCTION",
        `profile "${profile.name}" overrides unknown instruction "${o.instruction}": use a mnemonic from INSTRUCTIONS`,
      );
    }
    if (o.kind === "csr" && csrName(o.csr) === undefined) {
      throw new IsaError(
        "ISA_OPERAND_RANGE",
        `profile "${profile.name}" overrides CSR ${o.csr}, which this hart does not implement: use a number from allCsrs()`,
      );
    }
  }
}

/**
 * Every classification: each instruction of the table and each access (read,
 * write) to each named CSR, in every mode, under `profile`.
 */
export function allClassifications(profile: IsaProfile = STANDARD_PROFILE): Classification[] {
  validateProfile(profile);
  const out: Classification[] = [];
  for (const insn of INSTRUCTIONS) {
    const f = instructionFacts(insn.name)!;
    for (const mode of MODES) out.push(assemble({ kind: "instruction", name: insn.name }, mode, f, profile));
  }
  for (const [csr, name, access, f] of allCsrFacts()) {
    for (const mode of MODES) out.push(assemble({ kind: "csr", csr, name, access }, mode, f, profile));
  }
  return out;
}
