import type { Mode, TrapRule, VirtualizedBy } from "./types.js";

/**
 * What an operation is, independently of the mode: its sensitivity (what it
 * would do if it executed) plus, per mode, whether it traps on the standard
 * architecture and any mode-specific remark.
 */
export interface OperationFacts {
  /** Changes the configuration of resources. */
  readonly control: boolean;
  /** Its effect depends on the configuration. */
  readonly behaviour: boolean;
  /** One line saying why. */
  readonly reason: string;
  /** How a trap-and-emulate VMM keeps control of it. */
  readonly virtualizedBy: VirtualizedBy;
  /** Whether it traps, per mode, on the standard architecture. */
  readonly traps: Readonly<Record<Mode, TrapRule>>;
  /** Mode-specific remarks. */
  readonly notes?: Readonly<Partial<Record<Mode, string>>>;
}

/** Trap rules written in the order U, S, M, VS, VU. */
export const perMode = (
  u: TrapRule,
  s: TrapRule,
  m: TrapRule,
  vs: TrapRule,
  vu: TrapRule,
): Record<Mode, TrapRule> => ({
  U: u,
  S: s,
  M: m,
  VS: vs,
  VU: vu,
});

/** The same trap rule in every mode. */
export const everyMode = (rule: TrapRule): Record<Mode, TrapRule> => perMode(rule, rule, rule, rule, rule);
