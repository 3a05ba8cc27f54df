/**
 * Popek and Goldberg's virtualizability conditions, checked against the
 * classification for the trap-and-emulate setup: the guest kernel (virtual
 * S-mode) and its user programs both run deprivileged in real U-mode.
 *
 * Theorem 1: every sensitive operation must trap when the deprivileged guest
 * runs it. Theorem 3 (hybrid VMM, which interprets all of virtual supervisor
 * mode): only the user-sensitive ones must, i.e. those that still depend on
 * or change the real configuration when a user program runs them in U-mode.
 *
 * Memory accesses are left to address translation, as Popek and Goldberg
 * leave them to the relocation register; conditional traps count as traps
 * when the controlling bit lives in a register the VMM holds (every one does:
 * mstatus, hstatus, the counter enables, menvcfg/henvcfg), and are listed as
 * requirements the VMM must arm.
 */

import { allClassifications, subjectLabel } from "./classify.js";
import { describeTrap } from "./traps.js";
import type { Classification, CsrAccess, IsaProfile, Mode, OverrideBehaviour } from "./types.js";

/** Which of Popek and Goldberg's theorems to check. */
export type Theorem = "theorem1" | "theorem3";

/** A sensitive operation that does not trap where the theorem needs it to. */
export interface Offender {
  /** The instruction, or `csrr`/`csrw` for a CSR read/write. */
  readonly instruction: string;
  /** The CSR, for a CSR access. */
  readonly csr?: string;
  /** The kind of CSR access. */
  readonly access?: CsrAccess;
  /** The mode it fails to trap in. */
  readonly mode: Mode;
  /** Why that breaks the VMM. */
  readonly why: string;
  /** What the profile makes it do instead, when an override is the cause. */
  readonly behaviour?: OverrideBehaviour;
}

/** The verdict for one theorem. */
export interface TheoremVerdict {
  /** The theorem checked. */
  readonly theorem: Theorem;
  /** Whether the profile meets its condition. */
  readonly virtualizable: boolean;
  /** The operations that break it. */
  readonly offending: readonly Offender[];
}

/** Control bits a VMM must hold at a trapping value while the guest runs, so that these operations trap. */
export interface TrapRequirement {
  /** Any one of these settings makes the operations trap (`csr.FIELD=value`). */
  readonly anyOf: readonly string[];
  /** The operations concerned. */
  readonly subjects: readonly string[];
}

/** The result of {@link checkVirtualizable}. */
export interface VirtualizabilityResult extends TheoremVerdict {
  /** The profile checked. */
  readonly profile: string;
  /** Where the deprivileged guest runs in the trap-and-emulate setup. */
  readonly deprivilegedMode: "U";
  /** Conditional traps the VMM must arm. */
  readonly requires: readonly TrapRequirement[];
  /** Sensitive memory accesses left to address-translation virtualization (shadow or nested paging), not to traps. */
  readonly viaTranslation: readonly string[];
  /** The verdict for the other theorem. */
  readonly other: TheoremVerdict;
}

/** Options of {@link checkVirtualizable}. */
export interface CheckOptions {
  /** The theorem whose verdict is the result's own (default `theorem1`); the other is reported in `other`. */
  readonly mode?: Theorem;
}

const DEPRIVILEGED = "U" satisfies Mode;

const DOES: Record<OverrideBehaviour | "executes", string> = {
  "read-masked": "returns the real value, masked,",
  "write-ignore-privileged": "silently drops the writes to privileged bits",
  "read-through": "returns the real value",
  nop: "does nothing",
  executes: "executes",
};

/** Whether a non-trapping operation still touches the real configuration when a user program runs it. */
function userSensitive(c: Classification): boolean {
  const o = c.override;
  if (!o) return true;
  switch (o.behaviour) {
    case "nop":
      return false;
    case "read-through":
      return true;
    case "read-masked":
    case "write-ignore-privileged":
      return o.mask.lo !== 0 || o.mask.hi !== 0;
  }
}

function offender(c: Classification, theorem: Theorem): Offender {
  const does = DOES[c.override?.behaviour ?? "executes"];
  const why =
    theorem === "theorem1"
      ? `${c.reason}; in U-mode it ${does} instead of trapping, so the VMM never sees the deprivileged guest kernel run it`
      : `${c.reason}; a guest user program runs it directly in U-mode, where it ${does} instead of trapping and so observes or changes the real configuration`;
  const base =
    c.subject.kind === "instruction"
      ? { instruction: c.subject.name }
      : {
          instruction: c.subject.access === "read" ? "csrr" : "csrw",
          csr: c.subject.name,
          access: c.subject.access,
        };
  return { ...base, mode: c.mode, why, ...(c.override ? { behaviour: c.override.behaviour } : {}) };
}

/**
 * Whether the profile meets Popek and Goldberg's condition for a
 * trap-and-emulate VMM (Theorem 1, the default) or a hybrid VMM (Theorem 3),
 * with the offending operations named; the other theorem's verdict is in
 * `other`.
 */
export function checkVirtualizable(profile: IsaProfile, options: CheckOptions = {}): VirtualizabilityResult {
  const theorem = options.mode ?? "theorem1";
  const t1: Offender[] = [];
  const t3: Offender[] = [];
  const requires = new Map<string, { anyOf: string[]; subjects: string[] }>();
  const viaTranslation: string[] = [];
  for (const c of allClassifications(profile)) {
    if (c.mode !== DEPRIVILEGED || !c.sensitive) continue;
    if (c.virtualizedBy === "per-csr" && !c.override) continue; // decided by the CSR rows
    if (c.virtualizedBy === "address-translation") {
      viaTranslation.push(subjectLabel(c.subject));
      continue;
    }
    switch (c.trap.when) {
      case "always":
        break;
      case "conditional": {
        const anyOf = c.trap.conditions.map((k) => `${k.control}=${k.value}`);
        const key = describeTrap(c.trap);
        const r = requires.get(key) ?? { anyOf, subjects: [] };
        r.subjects.push(subjectLabel(c.subject));
        requires.set(key, r);
        break;
      }
      case "never":
      case "per-csr":
        t1.push(offender(c, "theorem1"));
        if (userSensitive(c)) t3.push(offender(c, "theorem3"));
        break;
    }
  }
  const v1: TheoremVerdict = { theorem: "theorem1", virtualizable: t1.length === 0, offending: t1 };
  const v3: TheoremVerdict = { theorem: "theorem3", virtualizable: t3.length === 0, offending: t3 };
  const [main, other] = theorem === "theorem1" ? [v1, v3] : [v3, v1];
  return {
    ...main,
    profile: profile.name,
    deprivilegedMode: DEPRIVILEGED,
    requires: [...requires.values()],
    viaTranslation,
    other,
  };
}
