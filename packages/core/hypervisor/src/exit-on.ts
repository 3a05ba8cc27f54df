/**
 * `VmConfig.exitOn`: guest exits a VM asks for beyond the ones its strategy
 * needs, so users can experiment with the cost of exiting (every CSR access,
 * every WFI, every page fault...). Strategies that run the guest in the
 * hart's guest mode (H extension) program them into the hart's exit
 * controls and emulate or reflect what exits; the guest sees no difference,
 * only the exit counts and modeled cycles change. Other strategies refuse a
 * VmConfig that asks for exits.
 */
import { GUEST_INSTRUCTION_NAMES, Irq } from "@hvkit/cpu";
import { csrName, csrNumber } from "@hvkit/isa";
import { HypervisorError } from "./errors.js";

/** Extra guest exits (see the module comment). Every field defaults to none. */
export interface ExitOnConfig {
  /** Guest CSR accesses (reads and writes) that exit: "all", "none", or CSR names or numbers. */
  readonly csr?: "all" | "none" | readonly (string | number)[];
  /** Guest instructions that exit: "wfi", "sfence", "satp-write", "sret", "ecall". */
  readonly instructions?: readonly string[];
  /**
   * Guest exceptions that exit (the VMM reflects them into the guest): "all",
   * "none", or names ({@link EXIT_ON_EXCEPTIONS}) or cause numbers.
   */
  readonly exceptions?: "all" | "none" | readonly (string | number)[];
  /** Guest interrupts that exit (the VMM injects them): "all", "none", or "software", "timer", "external". */
  readonly interrupts?: "all" | "none" | readonly string[];
}

/** An {@link ExitOnConfig} as numbers and bitmasks. */
export interface ResolvedExitOn {
  /** Every CSR access exits. */
  readonly allCsrs: boolean;
  /** The CSR numbers whose accesses exit (empty when `allCsrs`). */
  readonly csrs: readonly number[];
  /** Instructions that exit: bits `1 << GuestInstruction.X`. */
  readonly instructions: number;
  /** Exceptions that exit: bit `cause`. */
  readonly exceptions: number;
  /** Interrupts that exit: bit `irq` (VSSI, VSTI, VSEI). */
  readonly interrupts: number;
}

/** Nothing beyond what the strategy needs. */
export const NO_EXTRA_EXITS: ResolvedExitOn = {
  allCsrs: false,
  csrs: [],
  instructions: 0,
  exceptions: 0,
  interrupts: 0,
};

/**
 * Exception names for `exceptions`, by the causes they select: the ones a
 * guest kernel handles (delivered to its trap vector), singly and in groups.
 */
export const EXIT_ON_EXCEPTIONS: Readonly<Record<string, readonly number[]>> = {
  "misaligned-fetch": [0],
  "fetch-access": [1],
  "illegal-instruction": [2],
  breakpoint: [3],
  "misaligned-load": [4],
  "load-access": [5],
  "misaligned-store": [6],
  "store-access": [7],
  "ecall-u": [8],
  "fetch-page-fault": [12],
  "load-page-fault": [13],
  "store-page-fault": [15],
  misaligned: [0, 4, 6],
  "access-fault": [1, 5, 7],
  "page-fault": [12, 13, 15],
};
/** Every exception a guest kernel handles: causes 0-8, 12, 13, 15. */
const GUEST_EXCEPTIONS = 0xb1ff;

/** Interrupt names for `interrupts`, by the VS-level interrupt they select. */
export const EXIT_ON_INTERRUPTS: Readonly<Record<string, number>> = {
  software: Irq.VSSI,
  timer: Irq.VSTI,
  external: Irq.VSEI,
};

function bad(message: string): never {
  throw new HypervisorError("HV_INVALID_CONFIG", `VmConfig.exitOn: ${message}`);
}

function list(field: string, v: unknown): readonly unknown[] | "all" | "none" {
  if (v === undefined || v === "none") return "none";
  if (v === "all") return "all";
  if (!Array.isArray(v)) bad(`${field} must be "all", "none" or a list (got ${JSON.stringify(v)})`);
  return v;
}

/** Validate an {@link ExitOnConfig} and turn it into numbers; throws HV_INVALID_CONFIG naming what is wrong. */
export function resolveExitOn(config: ExitOnConfig | undefined): ResolvedExitOn {
  if (config === undefined) return NO_EXTRA_EXITS;
  if (typeof config !== "object" || config === null) bad("expected an object such as { csr: ['sstatus'] }");
  for (const k of Object.keys(config)) {
    if (!["csr", "instructions", "exceptions", "interrupts"].includes(k))
      bad(`unknown field "${k}"; the fields are csr, instructions, exceptions, interrupts`);
  }
  const csrList = list("csr", config.csr);
  const csrs: number[] = [];
  if (csrList !== "all" && csrList !== "none") {
    for (const c of csrList) {
      const n = typeof c === "number" ? c : typeof c === "string" ? csrByName(c) : -1;
      if (!Number.isInteger(n) || n < 0 || n > 0xfff || (typeof c === "number" && csrName(n) === undefined))
        bad(`csr ${JSON.stringify(c)} is not a CSR name or number the hart implements`);
      if (!csrs.includes(n)) csrs.push(n);
    }
  }
  let instructions = 0;
  const ins = config.instructions ?? [];
  if (!Array.isArray(ins)) bad("instructions must be a list such as ['wfi', 'sret']");
  for (const name of ins) {
    const i = GUEST_INSTRUCTION_NAMES.indexOf(String(name));
    if (i < 0)
      bad(
        `unknown instruction ${JSON.stringify(name)}; the choices are ${GUEST_INSTRUCTION_NAMES.join(", ")}`,
      );
    instructions |= 1 << i;
  }
  let exceptions = 0;
  const exc = list("exceptions", config.exceptions);
  if (exc === "all") exceptions = GUEST_EXCEPTIONS;
  else if (exc !== "none") {
    for (const e of exc) {
      const causes = typeof e === "number" ? [e] : typeof e === "string" ? (EXIT_ON_EXCEPTIONS[e] ?? []) : [];
      if (
        causes.length === 0 ||
        causes.some((c) => !Number.isInteger(c) || ((GUEST_EXCEPTIONS >>> c) & 1) === 0)
      )
        bad(
          `exception ${JSON.stringify(e)} is not one a guest kernel handles; give a cause (0-8, 12, 13, 15) or one of ${Object.keys(EXIT_ON_EXCEPTIONS).join(", ")}`,
        );
      for (const c of causes) exceptions |= 1 << c;
    }
  }
  let interrupts = 0;
  const irqs = list("interrupts", config.interrupts);
  if (irqs === "all") interrupts = (1 << Irq.VSSI) | (1 << Irq.VSTI) | (1 << Irq.VSEI);
  else if (irqs !== "none") {
    for (const name of irqs) {
      const irq = EXIT_ON_INTERRUPTS[String(name)];
      if (irq === undefined)
        bad(
          `unknown interrupt ${JSON.stringify(name)}; the choices are ${Object.keys(EXIT_ON_INTERRUPTS).join(", ")}`,
        );
      interrupts |= 1 << irq;
    }
  }
  return { allCsrs: csrList === "all", csrs, instructions, exceptions, interrupts };
}

function csrByName(name: string): number {
  if (/^(0x[0-9a-f]+|\d+)$/i.test(name)) {
    const n = Number(name);
    return csrName(n) === undefined ? -1 : n;
  }
  const n = csrNumber(name);
  return n >= 0 && csrName(n) === name ? n : -1;
}

/**
 * Parse exit specifications as the command line gives them (`--exit-on`,
 * repeatable): comma-separated words, where `key=value` switches to the
 * field `key` (csr, instructions, exceptions, interrupts) and a bare word
 * adds to the current field (instructions at first). So
 * `csr=sstatus,sie`, `wfi,sret`, `csr=all`, `exceptions=page-fault,breakpoint`.
 * The result is checked by the VM like any ExitOnConfig.
 */
export function parseExitOn(specs: string | readonly string[]): ExitOnConfig {
  const fields: { csr: string[]; instructions: string[]; exceptions: string[]; interrupts: string[] } = {
    csr: [],
    instructions: [],
    exceptions: [],
    interrupts: [],
  };
  const whole: Partial<Record<keyof typeof fields, "all" | "none">> = {};
  for (const spec of typeof specs === "string" ? [specs] : specs) {
    let key: keyof typeof fields = "instructions";
    for (const raw of spec.split(",")) {
      let word = raw.trim();
      if (word === "") continue;
      const eq = word.indexOf("=");
      if (eq >= 0) {
        const k = word.slice(0, eq).trim();
        const alias =
          k === "instruction"
            ? "instructions"
            : k === "exception"
              ? "exceptions"
              : k === "interrupt"
                ? "interrupts"
                : k;
        if (!(alias in fields))
          bad(`unknown field "${k}" in "${spec}"; the fields are csr, instructions, exceptions, interrupts`);
        key = alias as keyof typeof fields;
        word = word.slice(eq + 1).trim();
        if (word === "") continue;
      }
      if (word === "all" || word === "none") {
        if (key === "instructions") {
          if (word === "all") fields.instructions.push(...GUEST_INSTRUCTION_NAMES);
          continue;
        }
        whole[key] = word;
        continue;
      }
      fields[key].push(word);
    }
  }
  const pick = (k: "csr" | "exceptions" | "interrupts") =>
    whole[k] === "all" ? "all" : fields[k].length > 0 ? fields[k] : whole[k] === "none" ? "none" : undefined;
  const out: { -readonly [K in keyof ExitOnConfig]: ExitOnConfig[K] } = {};
  const csr = pick("csr");
  if (csr !== undefined) out.csr = csr;
  if (fields.instructions.length > 0) out.instructions = fields.instructions;
  const exceptions = pick("exceptions");
  if (exceptions !== undefined)
    out.exceptions =
      exceptions === "all" || exceptions === "none"
        ? exceptions
        : exceptions.map((e) => (/^\d+$/.test(e) ? Number(e) : e));
  const interrupts = pick("interrupts");
  if (interrupts !== undefined) out.interrupts = interrupts;
  return out;
}

/** Whether a resolved exit set asks for anything. */
export function asksForExits(e: ResolvedExitOn): boolean {
  return e.allCsrs || e.csrs.length > 0 || e.instructions !== 0 || e.exceptions !== 0 || e.interrupts !== 0;
}
