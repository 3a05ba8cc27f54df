import type { ControlBit, TrapCause, TrapCondition, TrapRule } from "./types.js";

/** Never traps. */
export const NEVER: TrapRule = { when: "never", cause: null, conditions: [] };

/** Trap rule of a CSR instruction: decided by its CSR operand. */
export const PER_CSR: TrapRule = { when: "per-csr", cause: null, conditions: [] };

/** Traps whatever the configuration (conditions, checked first, may raise another cause). */
export const always = (cause: TrapCause, ...conditions: TrapCondition[]): TrapRule => ({
  when: "always",
  cause,
  conditions,
});

/** Traps when one of the conditions holds; with none, never traps. */
export const trapsIf = (...conditions: TrapCondition[]): TrapRule =>
  conditions.length === 0 ? NEVER : { when: "conditional", cause: null, conditions };

/** Illegal-instruction when `control` is `value`. */
export const illegalIf = (control: ControlBit, value: number): TrapCondition => ({
  control,
  value,
  cause: "illegal-instruction",
});

/** Virtual-instruction when `control` is `value`. */
export const virtualIf = (control: ControlBit, value: number): TrapCondition => ({
  control,
  value,
  cause: "virtual-instruction",
});

/**
 * The exception an operation raises under a configuration, or null when it
 * executes. `controls` maps `csr.FIELD` names to values; a missing field reads
 * as 0. A `per-csr` rule returns null: classify the CSR operand instead.
 */
export function evaluateTrap(
  rule: TrapRule,
  controls: Readonly<Record<string, number>> = {},
): TrapCause | null {
  for (const c of rule.conditions) if ((controls[c.control] ?? 0) === c.value) return c.cause;
  return rule.when === "always" ? rule.cause : null;
}

const SHORT: Record<TrapCause, string> = {
  "illegal-instruction": "illegal",
  "virtual-instruction": "virtual",
  "environment-call": "ecall",
  breakpoint: "breakpoint",
};

function conditionText(conditions: readonly TrapCondition[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < conditions.length) {
    const cause = conditions[i]!.cause;
    const same: string[] = [];
    while (i < conditions.length && conditions[i]!.cause === cause) {
      same.push(`${conditions[i]!.control}=${conditions[i]!.value}`);
      i++;
    }
    parts.push(`${SHORT[cause]} if ${same.join(" or ")}`);
  }
  return parts.join("; ");
}

/** A short human-readable form of a trap rule, as the documentation tables print it. */
export function describeTrap(rule: TrapRule): string {
  switch (rule.when) {
    case "never":
      return "no";
    case "per-csr":
      return "per CSR";
    case "conditional":
      return conditionText(rule.conditions);
    case "always": {
      const base = SHORT[rule.cause!];
      return rule.conditions.length === 0 ? base : `${base}; ${conditionText(rule.conditions)}`;
    }
  }
}
