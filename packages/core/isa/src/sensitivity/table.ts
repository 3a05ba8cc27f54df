/**
 * The classification as a compact table: operations with the same
 * sensitivity, reason and trap behaviour in every mode share one row. The
 * documentation's tables are rendered from it, and a test checks that
 * docs/sensitivity.md matches, so the two cannot drift.
 */

import { checkVirtualizable } from "./check.js";
import { allClassifications } from "./classify.js";
import { STANDARD_PROFILE } from "./profiles.js";
import { describeTrap } from "./traps.js";
import {
  type Classification,
  type CsrAccess,
  type CsrMask,
  type IsaProfile,
  MODES,
  type Mode,
  type SensitivityCategory,
  type VirtualizedBy,
} from "./types.js";

/** One row of the compact table. */
export interface SensitivityRow {
  /** Instructions or CSR accesses. */
  readonly kind: "instruction" | "csr";
  /** For CSR rows: which access. */
  readonly access?: CsrAccess;
  /** The instructions or CSRs of the row, in table order. */
  readonly names: readonly string[];
  /** The names, with numbered runs compacted (`pmpaddr0..63`). */
  readonly label: string;
  /** Whether the row's operations are sensitive. */
  readonly sensitive: boolean;
  /** Their Popek-Goldberg category. */
  readonly category: SensitivityCategory;
  /** How a trap-and-emulate VMM keeps control of them. */
  readonly virtualizedBy: VirtualizedBy;
  /** Why. */
  readonly reason: string;
  /** Whether they trap, per mode, in the short form of {@link describeTrap}. */
  readonly traps: Readonly<Record<Mode, string>>;
}

/** The trap column of a row; the numbered counter-enable bits read `HPMn` so hpmcounter3..31 share one row. */
const trapText = (c: Classification): string =>
  c.override ? `no (${c.override.behaviour})` : describeTrap(c.trap).replace(/\.HPM\d+=/g, ".HPMn=");

/** Joins names, writing runs of three or more consecutive numbered names as `prefixA..B`. */
export function compactNames(names: readonly string[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < names.length) {
    const m = /^(.*?)(\d+)$/.exec(names[i]!);
    let j = i + 1;
    if (m) {
      const [, prefix, first] = m;
      let n = Number(first);
      while (j < names.length && names[j] === `${prefix}${n + 1}`) {
        n++;
        j++;
      }
      if (j - i >= 3) {
        out.push(`${prefix}${first}..${n}`);
        i = j;
        continue;
      }
    }
    out.push(names[i]!);
    i++;
  }
  return out.join(", ");
}

/** The classification grouped into rows: instructions in table order, then CSR accesses by number. */
export function sensitivityTable(profile: IsaProfile = STANDARD_PROFILE): SensitivityRow[] {
  const all = allClassifications(profile);
  const groups = new Map<string, { first: Classification; traps: Record<Mode, string>; names: string[] }>();
  for (let i = 0; i < all.length; i += MODES.length) {
    const first = all[i]!;
    const traps = {} as Record<Mode, string>;
    for (let k = 0; k < MODES.length; k++) traps[all[i + k]!.mode] = trapText(all[i + k]!);
    const s = first.subject;
    const key = [
      s.kind,
      s.kind === "csr" ? s.access : "",
      first.category,
      first.virtualizedBy,
      first.reason,
      ...MODES.map((m) => traps[m]),
    ].join("\u0000");
    const g = groups.get(key);
    if (g) g.names.push(s.name);
    else groups.set(key, { first, traps, names: [s.name] });
  }
  return [...groups.values()].map(({ first, traps, names }) => ({
    kind: first.subject.kind,
    ...(first.subject.kind === "csr" ? { access: first.subject.access } : {}),
    names,
    label: compactNames(names),
    sensitive: first.sensitive,
    category: first.category,
    virtualizedBy: first.virtualizedBy,
    reason: first.reason,
    traps,
  }));
}

const cell = (s: string): string => s.replace(/\|/g, "\\|");
const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(" | ")} |`;

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/**
 * The documentation tables, in Markdown: sensitive instructions, sensitive
 * CSR accesses, and the innocuous rest.
 */
export function sensitivityMarkdown(profile: IsaProfile = STANDARD_PROFILE): string {
  const rows = sensitivityTable(profile);
  const trapCells = (r: SensitivityRow): string[] => MODES.map((m) => r.traps[m]);
  const insns = rows.filter((r) => r.sensitive && r.kind === "instruction");
  const csrs = rows.filter((r) => r.sensitive && r.kind === "csr");
  const rest = rows.filter((r) => !r.sensitive);
  return [
    "### Sensitive instructions",
    "",
    table(
      ["Instructions", "Sensitivity", "Handled by", ...MODES, "Why"],
      insns.map((r) => [r.label, r.category, r.virtualizedBy, ...trapCells(r), r.reason]),
    ),
    "",
    "### Sensitive CSR accesses",
    "",
    table(
      ["CSRs", "Access", "Sensitivity", "Handled by", ...MODES, "Why"],
      csrs.map((r) => [r.label, r.access!, r.category, r.virtualizedBy, ...trapCells(r), r.reason]),
    ),
    "",
    "### Innocuous operations",
    "",
    table(
      ["Operations", "Access", ...MODES, "Why"],
      rest.map((r) => [r.label, r.access ?? "", ...trapCells(r), r.reason]),
    ),
    "",
  ].join("\n");
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, "0")}`;
const maskText = (m: CsrMask): string => `hi ${hex(m.hi)}, lo ${hex(m.lo)}`;

/** A profile's overrides and its verdicts, in Markdown. */
export function profileMarkdown(profile: IsaProfile): string {
  const v = checkVirtualizable(profile);
  const verdict = (ok: boolean, n: number): string => (ok ? "yes" : `no (${n} offending)`);
  const lines = [
    `### Profile \`${profile.name}\``,
    "",
    profile.description,
    "",
    `Theorem 1 (trap-and-emulate): ${verdict(v.virtualizable, v.offending.length)}. Theorem 3 (hybrid): ${verdict(v.other.virtualizable, v.other.offending.length)}.`,
    "",
  ];
  for (const o of profile.nonTrapping) {
    const what = o.kind === "csr" ? `${o.instruction} ${o.csrName}` : o.instruction;
    const masks =
      o.behaviour === "read-masked"
        ? `; mask ${maskText(o.mask)}`
        : o.behaviour === "write-ignore-privileged"
          ? `; mask ${maskText(o.mask)}; ignored ${maskText(o.ignored)}`
          : "";
    lines.push(
      `- \`${what}\` in ${o.mode}-mode: \`${o.behaviour}\`${masks}. ${o.description} Models ${o.analogue}.`,
    );
  }
  if (profile.nonTrapping.length > 0) lines.push("");
  return lines.join("\n");
}
