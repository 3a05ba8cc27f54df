/**
 * hvkit-kernel's interface as seen from the host: the workloads it runs,
 * the kernel command line that selects them, and the console output format.
 *
 * Output lines (one per line, "\n"-terminated):
 *
 * - `CHECK <workload> <key>=<value>... <ok|FAIL>`: deterministic results
 *   (checksums, counts). Byte-identical under every hypervisor strategy.
 * - `MEASURE <workload> n=<n> [<key>=<value>...] instret_per_op=<x.y> cycles_per_op=<x.y> ns_per_op=<x.y>`:
 *   counters per operation (rdinstret, rdcycle, rdtime). They legitimately
 *   differ between strategies and are left out of equivalence comparisons.
 * - `DONE status=<0|1>`: the last line; the kernel then powers off through
 *   SBI SRST with reason 0 (success) or 1 (a check failed).
 * - `PANIC: <message>` before `DONE status=1` when the kernel hit a bug.
 * - Anything else (`hvkit-kernel: ...` banner and progress lines, messages
 *   about killed processes) is deterministic too and compared as-is.
 */

/** Where a workload runs. */
export type HvkitWorkloadMode = "kernel" | "user";
/** What a workload is for. */
export type HvkitWorkloadKind = "nano" | "macro" | "test" | "interactive";

/** One workload of hvkit-kernel. */
export interface HvkitWorkload {
  /** Name on the command line (`workload=<name>`). */
  readonly name: string;
  /** A nanobenchmark, a macro workload, a self-test, or interactive (needs console input). */
  readonly kind: HvkitWorkloadKind;
  /** Kernel (S-mode loop) or user (a U-mode process). */
  readonly mode: HvkitWorkloadMode;
  /** n when the command line gives none. */
  readonly defaultN: number;
  /** What n counts. */
  readonly unit: string;
  /** One line on what it does. */
  readonly description: string;
  /** The analogue in Adams & Agesen's nanobenchmarks (ASPLOS 2006, figure 4), if any. */
  readonly paper?: string;
}

/** Every workload, in the order `workload=all` runs them (echo is not in "all"). */
export const HVKIT_WORKLOADS: readonly HvkitWorkload[] = [
  {
    name: "selftest",
    kind: "test",
    mode: "user",
    defaultN: 1,
    unit: "(ignored)",
    description:
      "the kernel's contracts checked from user mode: bad pointers, COW, kills, preemption, pipes, block device",
  },
  {
    name: "syscall",
    kind: "nano",
    mode: "user",
    defaultN: 10000,
    unit: "getpid() calls",
    description: "a null system call (getpid) from U-mode",
    paper: "syscall",
  },
  {
    name: "mmio-read",
    kind: "nano",
    mode: "kernel",
    defaultN: 10000,
    unit: "register reads",
    description: "read a device register (the UART's line status register)",
    paper: "in",
  },
  {
    name: "csr-write",
    kind: "nano",
    mode: "kernel",
    defaultN: 10000,
    unit: "CSR writes",
    description: "write sie with its own value (a privileged control register, no side effect)",
    paper: "cr8wr",
  },
  {
    name: "call-ret",
    kind: "nano",
    mode: "kernel",
    defaultN: 100000,
    unit: "calls",
    description: "call and return of a kernel function that is not inlined",
    paper: "call/ret",
  },
  {
    name: "pgfault",
    kind: "nano",
    mode: "user",
    defaultN: 2048,
    unit: "page faults",
    description: "user page faults resolved with demand-zero pages (then up to 256 copy-on-write faults)",
    paper: "pgfault",
  },
  {
    name: "trap",
    kind: "nano",
    mode: "user",
    defaultN: 10000,
    unit: "ebreak traps",
    description: "an exception delivered to the kernel and resumed (ebreak from U-mode)",
    paper: "divzero",
  },
  {
    name: "ptemod",
    kind: "nano",
    mode: "kernel",
    defaultN: 10000,
    unit: "PTE updates",
    description: "rewrite a live kernel PTE, sfence.vma it, and load through it",
    paper: "ptemod",
  },
  {
    name: "forkwait",
    kind: "macro",
    mode: "user",
    defaultN: 40000,
    unit: "fork/exit/wait cycles",
    description: "fork a child that exits at once, and wait for it (the paper's forkwait)",
  },
  {
    name: "compute",
    kind: "macro",
    mode: "user",
    defaultN: 10,
    unit: "rounds",
    description: "CPU-bound: heapsort of 4096 words, CRC-32 of 64 KiB, a 32x32 matrix product per round",
  },
  {
    name: "ctxswitch",
    kind: "macro",
    mode: "user",
    defaultN: 10000,
    unit: "round trips",
    description: "two processes pass a token back and forth through two pipes",
  },
  {
    name: "io",
    kind: "macro",
    mode: "user",
    defaultN: 2048,
    unit: "sectors",
    description: "write n 512-byte sectors to the block device, read them back and verify",
  },
  {
    name: "echo",
    kind: "interactive",
    mode: "user",
    defaultN: 1,
    unit: "(ignored)",
    description: "read one line of console input and print it (not part of workload=all)",
  },
];

/** The nanobenchmarks, in the paper's order. */
export const HVKIT_NANOBENCHMARKS: readonly string[] = HVKIT_WORKLOADS.filter((w) => w.kind === "nano").map(
  (w) => w.name,
);

/** Options of {@link hvkitBootargs}. */
export interface HvkitBootargsOptions {
  /** Workloads or groups (`nano`, `macro`, `all`), in order. */
  workloads: readonly string[];
  /** Size of every selected workload (else each one's default). */
  n?: number;
  /** Sizes of single workloads (`<name>.n=`), winning over `n`. */
  sizes?: Readonly<Record<string, number>>;
  /** Preemption time slice in microseconds of guest time (default 10000). */
  quantumUs?: number;
  /** RAM disk size in 512-byte sectors (default 8192). */
  diskSectors?: number;
}

/** The kernel command line for a selection of workloads. */
export function hvkitBootargs(options: HvkitBootargsOptions): string {
  const words = [`workload=${options.workloads.join(",")}`];
  if (options.n !== undefined) words.push(`n=${options.n}`);
  for (const [name, n] of Object.entries(options.sizes ?? {})) words.push(`${name}.n=${n}`);
  if (options.quantumUs !== undefined) words.push(`quantum=${options.quantumUs}`);
  if (options.diskSectors !== undefined) words.push(`disk=${options.diskSectors}`);
  return words.join(" ");
}

/** A CHECK line. */
export interface HvkitCheck {
  /** The workload (first word after CHECK). */
  workload: string;
  /** key=value words. */
  fields: Record<string, string>;
  /** Words without "=" between the workload and the verdict (e.g. a selftest's test name). */
  words: string[];
  /** The verdict: the last word is "ok". */
  ok: boolean;
  /** The whole line. */
  line: string;
}

/** A MEASURE line. */
export interface HvkitMeasure {
  /** The workload. */
  workload: string;
  /** Operations measured. */
  n: number;
  /** The other key=value words (e.g. kind=demand-zero, op=read-sector). */
  fields: Record<string, string>;
  /** Instructions retired per operation (rdinstret). */
  instretPerOp: number;
  /** Cycles per operation (rdcycle: hvkit steps, i.e. instructions plus traps). */
  cyclesPerOp: number;
  /** Guest-time nanoseconds per operation (rdtime). */
  nsPerOp: number;
  /** The whole line. */
  line: string;
}

/** What an hvkit-kernel or bare-metal run printed, parsed. */
export interface HvkitOutput {
  checks: HvkitCheck[];
  measures: HvkitMeasure[];
  /** The DONE line's status, undefined if the run did not finish. */
  doneStatus: number | undefined;
  /** The PANIC message, if any. */
  panic: string | undefined;
}

function keyValues(words: readonly string[]): { fields: Record<string, string>; bare: string[] } {
  const fields: Record<string, string> = {};
  const bare: string[] = [];
  for (const w of words) {
    const eq = w.indexOf("=");
    if (eq > 0) fields[w.slice(0, eq)] = w.slice(eq + 1);
    else bare.push(w);
  }
  return { fields, bare };
}

/** Parse console output into CHECK and MEASURE lines, the DONE status and a panic message. */
export function parseHvkitOutput(output: string): HvkitOutput {
  const result: HvkitOutput = { checks: [], measures: [], doneStatus: undefined, panic: undefined };
  for (const raw of output.split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (line.startsWith("CHECK ")) {
      const words = line.slice(6).split(" ").filter(Boolean);
      const verdict = words.length > 1 ? words[words.length - 1]! : "";
      const { fields, bare } = keyValues(words.slice(1, -1));
      result.checks.push({ workload: words[0] ?? "", fields, words: bare, ok: verdict === "ok", line });
    } else if (line.startsWith("MEASURE ")) {
      const words = line.slice(8).split(" ").filter(Boolean);
      const { fields } = keyValues(words.slice(1));
      const num = (k: string): number => {
        const v = fields[k];
        delete fields[k];
        return v === undefined ? Number.NaN : Number(v);
      };
      const m: HvkitMeasure = {
        workload: words[0] ?? "",
        n: num("n"),
        instretPerOp: num("instret_per_op"),
        cyclesPerOp: num("cycles_per_op"),
        nsPerOp: num("ns_per_op"),
        fields,
        line,
      };
      result.measures.push(m);
    } else if (line.startsWith("DONE ")) {
      const status = keyValues(line.slice(5).split(" ")).fields.status;
      result.doneStatus = status === undefined ? undefined : Number(status);
    } else if (line.startsWith("PANIC: ")) {
      result.panic = line.slice(7);
    }
  }
  return result;
}

/** Output for equivalence comparisons: everything but the MEASURE lines. */
export function normalizeHvkitOutput(output: string): string {
  return output
    .split("\n")
    .filter((line) => !line.startsWith("MEASURE "))
    .join("\n");
}
