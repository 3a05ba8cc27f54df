/**
 * Sensitivity classification of every instruction and CSR access, per mode,
 * in Popek and Goldberg's terms (privileged, control-sensitive,
 * behaviour-sensitive, innocuous); ISA profiles; and the virtualizability
 * check. See docs/sensitivity.md.
 */

export {
  type CheckOptions,
  checkVirtualizable,
  type Offender,
  type Theorem,
  type TheoremVerdict,
  type TrapRequirement,
  type VirtualizabilityResult,
} from "./sensitivity/check.js";
export {
  allClassifications,
  classifyCsr,
  classifyInstruction,
  csrAccesses,
  subjectLabel,
  validateProfile,
} from "./sensitivity/classify.js";
export { NON_VIRTUALIZABLE_PROFILE, STANDARD_PROFILE } from "./sensitivity/profiles.js";
export {
  profileMarkdown,
  type SensitivityRow,
  sensitivityMarkdown,
  sensitivityTable,
} from "./sensitivity/table.js";
export { describeTrap, evaluateTrap } from "./sensitivity/traps.js";
export * from "./sensitivity/types.js";
