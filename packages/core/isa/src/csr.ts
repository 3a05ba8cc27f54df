/**
 * Control and status register numbers and names (privileged spec, "CSR
 * Listing" tables, including the hypervisor extension and Sstc).
 *
 * The address itself encodes access rules (privileged spec 2.1): bits 11:10
 * are 0b11 for read-only CSRs and bits 9:8 give the lowest privilege level
 * that may access it (0 U, 1 S, 2 HS/hypervisor, 3 M).
 */

/** CSR numbers by name, for code that touches specific registers. */
export const CSR = {
  fflags: 0x001,
  frm: 0x002,
  fcsr: 0x003,
  cycle: 0xc00,
  time: 0xc01,
  instret: 0xc02,
  sstatus: 0x100,
  sie: 0x104,
  stvec: 0x105,
  scounteren: 0x106,
  senvcfg: 0x10a,
  sscratch: 0x140,
  sepc: 0x141,
  scause: 0x142,
  stval: 0x143,
  sip: 0x144,
  stimecmp: 0x14d,
  satp: 0x180,
  hstatus: 0x600,
  hedeleg: 0x602,
  hideleg: 0x603,
  hie: 0x604,
  htimedelta: 0x605,
  hcounteren: 0x606,
  hgeie: 0x607,
  henvcfg: 0x60a,
  htval: 0x643,
  hip: 0x644,
  hvip: 0x645,
  htinst: 0x64a,
  hgatp: 0x680,
  hgeip: 0xe12,
  vsstatus: 0x200,
  vsie: 0x204,
  vstvec: 0x205,
  vsscratch: 0x240,
  vsepc: 0x241,
  vscause: 0x242,
  vstval: 0x243,
  vsip: 0x244,
  vstimecmp: 0x24d,
  vsatp: 0x280,
  mvendorid: 0xf11,
  marchid: 0xf12,
  mimpid: 0xf13,
  mhartid: 0xf14,
  mconfigptr: 0xf15,
  mstatus: 0x300,
  misa: 0x301,
  medeleg: 0x302,
  mideleg: 0x303,
  mie: 0x304,
  mtvec: 0x305,
  mcounteren: 0x306,
  menvcfg: 0x30a,
  mcountinhibit: 0x320,
  mscratch: 0x340,
  mepc: 0x341,
  mcause: 0x342,
  mtval: 0x343,
  mip: 0x344,
  mtinst: 0x34a,
  mtval2: 0x34b,
  mseccfg: 0x747,
  mcycle: 0xb00,
  minstret: 0xb02,
  tselect: 0x7a0,
  tdata1: 0x7a1,
  tdata2: 0x7a2,
  tdata3: 0x7a3,
  dcsr: 0x7b0,
  dpc: 0x7b1,
  dscratch0: 0x7b2,
  dscratch1: 0x7b3,
} as const;

/** Name of a CSR by number. */
export type CsrName = keyof typeof CSR;

const NAME_BY_NUMBER = new Map<number, string>();
const NUMBER_BY_NAME = new Map<string, number>();

function add(name: string, num: number): void {
  if (!NAME_BY_NUMBER.has(num)) NAME_BY_NUMBER.set(num, name);
  NUMBER_BY_NAME.set(name, num);
}

for (const [name, num] of Object.entries(CSR)) add(name, num);
for (let i = 3; i < 32; i++) {
  add(`hpmcounter${i}`, 0xc00 + i);
  add(`mhpmcounter${i}`, 0xb00 + i);
  add(`mhpmevent${i}`, 0x320 + i);
}
for (let i = 0; i < 16; i++) add(`pmpcfg${i}`, 0x3a0 + i);
for (let i = 0; i < 64; i++) add(`pmpaddr${i}`, 0x3b0 + i);
// Assembler-only spellings.
NUMBER_BY_NAME.set("dscratch", 0x7b2);

/** The standard name of a CSR, or undefined when the number has none. */
export function csrName(num: number): string | undefined {
  return NAME_BY_NUMBER.get(num);
}

/** The number of a CSR by name, or -1 when unknown. */
export function csrNumber(name: string): number {
  return NUMBER_BY_NAME.get(name) ?? -1;
}

/**
 * Names the disassembler prints beyond the CSRs above: ones hvkit does not
 * implement but llvm-objdump 14 still names — the withdrawn N extension's
 * user trap CSRs, the vector CSRs, Zkr's seed, Smstateen and the debug
 * context registers — so listings match LLVM's. {@link csrNumber} knows
 * them too, so listings assemble; they stay out of {@link csrName} and
 * {@link allCsrs}, which describe the hart.
 */
const PRINT_ONLY: ReadonlyMap<number, string> = new Map([
  [0x000, "ustatus"],
  [0x004, "uie"],
  [0x005, "utvec"],
  [0x008, "vstart"],
  [0x009, "vxsat"],
  [0x00a, "vxrm"],
  [0x00f, "vcsr"],
  [0x015, "seed"],
  [0x040, "uscratch"],
  [0x041, "uepc"],
  [0x042, "ucause"],
  [0x043, "utval"],
  [0x044, "uip"],
  [0x102, "sedeleg"],
  [0x103, "sideleg"],
  [0x10c, "sstateen0"],
  [0x10d, "sstateen1"],
  [0x10e, "sstateen2"],
  [0x10f, "sstateen3"],
  [0x30c, "mstateen0"],
  [0x30d, "mstateen1"],
  [0x30e, "mstateen2"],
  [0x30f, "mstateen3"],
  [0x5a8, "scontext"],
  [0x60c, "hstateen0"],
  [0x60d, "hstateen1"],
  [0x60e, "hstateen2"],
  [0x60f, "hstateen3"],
  [0x6a8, "hcontext"],
  [0x7a8, "mcontext"],
  [0xc20, "vl"],
  [0xc21, "vtype"],
  [0xc22, "vlenb"],
  [0xda0, "scountovf"],
]);

// The assembler accepts what the disassembler prints.
for (const [num, name] of PRINT_ONLY) NUMBER_BY_NAME.set(name, num);

/** Whether the CSR exists only on RV32: the odd pmpcfg registers (privileged spec 3.7.1). */
const rv32Only = (num: number): boolean => num >= 0x3a1 && num <= 0x3af && (num & 1) === 1;

/**
 * The name the disassembler prints for a CSR number, as llvm-objdump 14
 * prints it for RV64: the standard name, a few names of CSRs hvkit does not
 * implement, and none (a number is printed) for RV32-only CSRs.
 */
export function csrPrintedName(num: number): string | undefined {
  if (rv32Only(num)) return undefined;
  return NAME_BY_NUMBER.get(num) ?? PRINT_ONLY.get(num);
}

/** All named CSRs as [number, name] pairs, sorted by number. */
export function allCsrs(): [number, string][] {
  return [...NAME_BY_NUMBER.entries()].sort((a, b) => a[0] - b[0]);
}

/** Lowest privilege level that may access the CSR (0 U, 1 S, 2 H, 3 M), from address bits 9:8. */
export const csrPrivilege = (num: number): number => (num >>> 8) & 3;

/** Whether the CSR is read-only by its address (bits 11:10 = 0b11). */
export const csrReadOnly = (num: number): boolean => num >>> 10 === 3;
