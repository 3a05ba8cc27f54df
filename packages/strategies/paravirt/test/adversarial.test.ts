/**
 * Safety through the hypercall interface (Xen's validated mmu_update): an
 * adversarial paravirtual guest, assembled here, registers with the ABI,
 * switches to page tables it built, and then asks the VMM, call after call,
 * to map the VMM's private memory right above its RAM (4 KiB and 2 MiB
 * leaves), memory beyond 4 GiB and below RAM, a page table writable from
 * user mode, malformed entries, tables that link such entries, roots that
 * are misaligned, outside its RAM, pinned at another level or full of bad
 * entries; it sends batches too large and request arrays outside its RAM,
 * stores straight into a pinned page table, releases its own root, writes
 * the console from the VMM's memory and kicks a device it does not have;
 * last, it executes privileged instructions a PV guest has no use for.
 * Every attempt is refused with the ABI's error (printed by the guest), the
 * entries stay as they were, the counters name each refusal, and the guest
 * and the host carry on: a valid update afterwards works, and so does the
 * next VM. The stray privileged instructions are emulated and reported as
 * unexpected, by name.
 */
import { Vm } from "@hvkit/hypervisor";
import { assembleElf } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import { type ParavirtVmm, PvCall, PvFlush, paravirt } from "../src/index.js";
import { call, PRINT_ROUTINES } from "./guest-asm.js";

const MIB = 1024 * 1024;
const MEMORY = 64 * MIB;
const RAM = 0x8000_0000;
/** The first byte above guest RAM: the VMM's private memory. */
const VMM = RAM + MEMORY;

const V = 1;
const R = 2;
const W = 4;
const X = 8;
const U = 0x10;
const AD = 0x40 | 0x80;
const pte = (pa: number, flags: number): string => `0x${(Math.floor(pa / 4096) * 1024 + flags).toString(16)}`;

/** a0 = result of PV call `fid` with a0..a3 already set; then print "<name>: <error>". */

/** t1 = a constant PTE. */
const li = (value: string) => `  li t1, ${value}`;
/** t1 = a PTE pointing at the page at `label`, with `flags` (and `extra` asm after). */
const at = (label: string, flags: number, extra = "") =>
  `  la t1, ${label}\n  srli t1, t1, 2\n  ori t1, t1, ${flags}${extra}`;

/** One MMU_UPDATE of the entry at label `table` + 8 * `index` to the value `value` puts in t1; prints "<name>: <error> <applied> <entry>". */
function update(name: string, table: string, index: number, value: string): string {
  return `
${value}
  la t0, ${table}
  addi t0, t0, ${8 * index}
  la a0, reqs
  sd t0, 0(a0)
  sd t1, 8(a0)
  li a1, 1
  li a2, ${PvFlush.ALL}
  li a3, 0
${call(PvCall.MMU_UPDATE)}
  la t0, ${table}
  ld s9, ${8 * index}(t0)
  mv s7, a1
  mv s8, a0
  la a0, n_${name}
  call print_str
  mv a0, s8
  call print_int
  li a0, ' '
  call putc
  mv a0, s7
  call print_int
  li a0, ' '
  call putc
  mv a0, s9
  call print_hex_low
  li a0, '\\n'
  call putc
`;
}

/** A call with a0..a3 given; prints "<name>: <error>". */
function attempt(name: string, fid: number, args: string[]): string {
  const regs = args.map((a, i) => (a.startsWith("=") ? `  la a${i}, ${a.slice(1)}` : `  li a${i}, ${a}`));
  return `
${regs.join("\n")}
${call(fid)}
  mv s8, a0
  la a0, n_${name}
  call print_str
  mv a0, s8
  call print_int
  li a0, '\\n'
  call putc
`;
}

/** A store (or AMO) straight into a pinned page table; prints "<name>: fault <scause> <entry>". */
function store(name: string, insn: string): string {
  return `
  li s10, -1
  la t0, root
  li t1, 0x1234
  ${insn}
  la a0, n_${name}
  call print_str
  mv a0, s10
  call print_int
  li a0, ' '
  call putc
  la t0, root
  ld a0, 0(t0)
  call print_hex_low
  li a0, '\\n'
  call putc
`;
}

const STEPS: [string, string][] = [
  ["vmm-4k", update("vmm_4k", "l0", 0, li(pte(VMM, R | W | AD | V)))],
  ["vmm-4k-last", update("vmm_4k_last", "l0", 0, li(pte(VMM + 31 * MIB, R | AD | V)))],
  ["vmm-2m", update("vmm_2m", "l1", 32, li(pte(VMM, R | W | X | AD | V)))],
  ["vmm-2m-straddle", update("vmm_2m_straddle", "l1", 33, li(pte(VMM - 2 * MIB + 4096, R | AD | V)))],
  ["vmm-link", update("vmm_link", "l1b", 1, li(pte(VMM, V)))],
  ["above-4g", update("above_4g", "l0", 0, li(pte(2 ** 32, R | W | AD | V)))],
  ["below-ram", update("below_ram", "l0", 0, li(pte(RAM - 4096, R | W | AD | V)))],
  ["no-device", update("no_device", "l0", 0, li(pte(0x3000_0000, R | W | AD | V)))],
  ["pt-user-writable", update("pt_user_writable", "l0", 0, at("root", R | W | U | AD | V))],
  ["link-at-level-0", update("link_at_level_0", "l0", 0, at("data", V))],
  [
    "reserved-bits",
    update(
      "reserved_bits",
      "l0",
      0,
      at("data", R | AD | V, "\n  li t2, 1\n  slli t2, t2, 54\n  or t1, t1, t2"),
    ),
  ],
  ["write-only", update("write_only", "l0", 0, at("data", W | V))],
  ["misaligned-2m", update("misaligned_2m", "l1", 33, li(pte(RAM + 4096, R | AD | V)))],
  ["bad-table", update("bad_table", "l1b", 1, at("evil", V))],
  ["level-conflict", update("level_conflict", "l1b", 2, at("l1", V))],
  ["batch-2049", attempt("batch_2049", PvCall.MMU_UPDATE, ["=reqs", "2049", "0", "0"])],
  ["batch-huge", attempt("batch_huge", PvCall.MMU_UPDATE, ["=reqs", "0x10000000000", "0", "0"])],
  ["reqs-in-vmm", attempt("reqs_in_vmm", PvCall.MMU_UPDATE, [`${VMM}`, "1", "0", "0"])],
  ["reqs-straddle", attempt("reqs_straddle", PvCall.MMU_UPDATE, [`${VMM - 16}`, "2", "0", "0"])],
  ["ptr-in-vmm", "PTR_IN_VMM"],
  ["store-root", store("store_root", "sd t1, 0(t0)")],
  ["amo-root", store("amo_root", "amoswap.d zero, t1, (t0)")],
  ["root-misaligned", attempt("root_misaligned", PvCall.SET_ROOT, ["=root_plus_8", "0", "0", "0"])],
  ["root-in-vmm", attempt("root_in_vmm", PvCall.SET_ROOT, [`${VMM}`, "0", "0", "0"])],
  ["root-level-0", attempt("root_level_0", PvCall.SET_ROOT, ["=l0", "0", "0", "0"])],
  ["root-evil", attempt("root_evil", PvCall.SET_ROOT, ["=evil", "0", "0", "0"])],
  ["release-root", attempt("release_root", PvCall.TABLE_RELEASE, ["=root", "0", "0", "0"])],
  ["release-data", attempt("release_data", PvCall.TABLE_RELEASE, ["=data", "0", "0", "0"])],
  ["console-vmm", attempt("console_vmm", PvCall.CONSOLE_WRITE, [`${VMM}`, "16", "0", "0"])],
  ["console-huge", attempt("console_huge", PvCall.CONSOLE_WRITE, ["=data", "0x100000", "0", "0"])],
  ["notify-bogus", attempt("notify_bogus", PvCall.BLK_NOTIFY, ["0x10000000", "0", "0", "0"])],
  ["shared-in-vmm", attempt("shared_in_vmm", PvCall.SET_SHARED, [`${VMM}`, "0", "0", "0"])],
  ["shared-on-table", attempt("shared_on_table", PvCall.SET_SHARED, ["=l1", "0", "0", "0"])],
  ["valid", update("valid", "l0", 0, at("data", R | W | AD | V))],
];

function source(): string {
  const body = STEPS.map(([name, code]) =>
    code === "PTR_IN_VMM"
      ? `
  la a0, reqs
  li t0, ${VMM}
  sd t0, 0(a0)
  li t0, ${pte(RAM, R | AD | V)}
  sd t0, 8(a0)
  li a1, 1
  li a2, 0
  li a3, 0
${call(PvCall.MMU_UPDATE)}
  mv s8, a0
  la a0, n_${name.replace(/-/g, "_")}
  call print_str
  mv a0, s8
  call print_int
  li a0, '\\n'
  call putc
`
      : code,
  ).join("");
  const names = STEPS.map(([n]) => `n_${n.replace(/-/g, "_")}: .asciz "${n}: "`).join("\n");
  return `
.globl _start
_start:
  la sp, stack_top
${attempt("version", PvCall.GET_VERSION, [])}
${attempt("set_shared", PvCall.SET_SHARED, ["=shared", "0", "0", "0"])}
${attempt("set_trap", PvCall.SET_TRAP, ["=trap", "7", "0", "0"])}
  # Tables built with plain stores (not page tables yet), then pinned by SET_ROOT.
  la t0, root
  la t1, l1
  srli t1, t1, 2
  ori t1, t1, ${V}
  sd t1, 16(t0)
  la t1, l1b
  srli t1, t1, 2
  ori t1, t1, ${V}
  sd t1, 8(t0)
  la t0, l1b
  la t1, l0
  srli t1, t1, 2
  ori t1, t1, ${V}
  sd t1, 0(t0)
  # Guest RAM identity-mapped with 2 MiB leaves (R W X), 32 of them.
  la t0, l1
  li t1, ${pte(RAM, R | W | X | AD | V)}
  li t2, 32
  li t3, ${(2 * MIB) / 4}
1:sd t1, 0(t0)
  add t1, t1, t3
  addi t0, t0, 8
  addi t2, t2, -1
  bnez t2, 1b
  # A table with an entry mapping the VMM's memory (never linked: every attempt is refused).
  la t0, evil
  li t1, ${pte(VMM, R | W | AD | V)}
  sd t1, 0(t0)
  la t0, data
  li t1, 0x1234
  sd t1, 0(t0)
${attempt("set_root", PvCall.SET_ROOT, ["=root", "0", "0", "0"])}
${body}
  # Through the one valid update: VA 0x4000_0000 is the data page now.
  li t0, 0x40000000
  ld a0, 0(t0)
  call print_hex_low
  li a0, '\\n'
  call putc
  # The page that held a bad entry was never pinned: the guest may still write it.
  li s10, -1
  la t0, evil
  sd zero, 0(t0)
  la a0, n_evil_store
  call print_str
  mv a0, s10
  call print_int
  li a0, '\\n'
  call putc
  # Privileged instructions a PV guest should not need: emulated, counted as unexpected.
  csrw sie, zero
  csrr t0, satp
  sfence.vma
  li a0, 0
${call(PvCall.SHUTDOWN)}
1:j 1b

.align 2
trap:
  csrr s10, scause
  csrr t6, sepc
  addi t6, t6, 4
  csrw sepc, t6
  sret

${PRINT_ROUTINES}
.data
n_version: .asciz "version: "
n_set_shared: .asciz "set_shared: "
n_set_trap: .asciz "set_trap: "
n_set_root: .asciz "set_root: "
n_evil_store: .asciz "store to the unpinned page: "
${names}

.align 12
root: .zero 8
root_plus_8: .zero 4088
l1: .zero 4096
l1b: .zero 4096
l0: .zero 4096
evil: .zero 4096
shared: .zero 4096
reqs: .zero 4096
data: .zero 4096
stack: .zero 4096
stack_top:
`;
}

function runAdversary() {
  const kernel = assembleElf(source(), { base: 0x8020_0000n, fileName: "adversary.s" });
  let vmm: ParavirtVmm | undefined;
  const spy = {
    ...paravirt,
    create(core: Parameters<typeof paravirt.create>[0]) {
      vmm = paravirt.create(core) as ParavirtVmm;
      return vmm;
    },
  };
  const vm = Vm.create(spy, { kernel, memory: MEMORY });
  let output = "";
  const decoder = new TextDecoder();
  vm.onOutput((b) => {
    output += decoder.decode(b, { stream: true });
  });
  const result = vm.run({ steps: 50_000_000 });
  return { vm, vmm, output, result };
}

describe("an adversarial paravirtual guest", () => {
  it("is refused every time, the entries stay as they were, and the host carries on", () => {
    const { vm, vmm, output, result } = runAdversary();
    expect(result, output).toEqual({ stop: "poweroff", exitStatus: 0 });
    const lines = output.trim().split("\n");
    const got = (name: string) => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
    expect(got("version")).toBe("0000");
    expect(got("set_shared")).toBe("0000");
    expect(got("set_trap")).toBe("0000");
    expect(got("set_root")).toBe("0000");
    // MMU_UPDATE refusals: "<error> <applied> <entry's low word after>", the entry unchanged.
    expect(got("vmm-4k")).toBe(`-0005 0000 00000000`);
    expect(got("vmm-4k-last")).toBe(`-0005 0000 00000000`);
    expect(got("vmm-2m")).toBe(`-0005 0000 00000000`);
    expect(got("vmm-2m-straddle")).toBe(`-0003 0000 00000000`);
    expect(got("vmm-link")).toBe(`-0005 0000 00000000`);
    expect(got("above-4g")).toBe(`-0005 0000 00000000`);
    expect(got("below-ram")).toBe(`-0005 0000 00000000`);
    expect(got("no-device")).toBe(`-0005 0000 00000000`);
    expect(got("pt-user-writable")).toBe(`-0004 0000 00000000`);
    expect(got("link-at-level-0")).toBe(`-0003 0000 00000000`);
    expect(got("reserved-bits")).toBe(`-0003 0000 00000000`);
    expect(got("write-only")).toBe(`-0003 0000 00000000`);
    expect(got("misaligned-2m")).toBe(`-0003 0000 00000000`);
    expect(got("bad-table")).toBe(`-0005 0000 00000000`);
    expect(got("level-conflict")).toBe(`-0004 0000 00000000`);
    expect(got("batch-2049")).toBe("-0003");
    expect(got("batch-huge")).toBe("-0003");
    expect(got("reqs-in-vmm")).toBe("-0005");
    expect(got("reqs-straddle")).toBe("-0005");
    expect(got("ptr-in-vmm")).toBe("-0005");
    // Stores into a pinned table: a store page fault (15), the entry still the link to l1b.
    expect(got("store-root")).toBe("0015 00000000");
    expect(got("amo-root")).toBe(got("store-root"));
    expect(got("root-misaligned")).toBe("-0005");
    expect(got("root-in-vmm")).toBe("-0005");
    expect(got("root-level-0")).toBe("-0004");
    // As a root, the VMM leaf is a 1 GiB leaf at a 64 MiB boundary: malformed before anything else.
    expect(got("root-evil")).toBe("-0003");
    expect(got("release-root")).toBe("-0004");
    expect(got("release-data")).toBe("-0003");
    expect(got("console-vmm")).toBe("-0005");
    expect(got("console-huge")).toBe("-0005");
    expect(got("notify-bogus")).toBe("-0003");
    expect(got("shared-in-vmm")).toBe("-0005");
    expect(got("shared-on-table")).toBe("-0004");
    // The guest carries on: a valid update applies, and the mapping works.
    expect(got("valid")).toMatch(/^0000 0001 [0-9a-f]{6}c7$/);
    expect(lines).toContain("00001234");
    expect(got("store to the unpinned page")).toBe("-0001");
    const c = vm.stats.counters;
    expect(c["pv.rejected.vmm-memory"]).toBe(11);
    expect(c["pv.rejected.foreign"]).toBe(3);
    expect(c["pv.rejected.pt-writable"]).toBe(1);
    expect(c["pv.rejected.malformed"]).toBe(6);
    expect(c["pv.rejected.level-conflict"]).toBe(2);
    expect(c["pv.rejected.batch-too-large"]).toBe(2);
    expect(c["pv.rejected.pt-store"]).toBe(2);
    expect(c["pv.rejected.bad-release"]).toBe(2);
    expect(c["pv.rejected.bad-argument"]).toBe(4);
    // One refusal per attempt (every step but the last, valid one).
    expect(c["pv.rejected"]).toBe(STEPS.length - 1);
    expect(c["pv.mmu.ptesApplied"]).toBe(1);
    // Nothing it asked for ever reached the VMM's memory: the shadow maps guest RAM only.
    expect(vmm!.shadow.check({ safetyOnly: true })).toBeUndefined();
    // Its trap handler's CSR accesses and sret are trap-frame work; the three at the end are not.
    expect(c["pv.privileged.unexpected"]).toBe(3);
    expect(c["pv.privileged.unexpected.sie"]).toBe(1);
    expect(c["pv.privileged.unexpected.satp"]).toBe(1);
    expect(c["pv.privileged.unexpected.sfence.vma"]).toBe(1);
    expect(c["pv.privileged.trapFrame"]).toBe(2 * 4); // two faults: scause, sepc read and write, sret
    // The host runs the next VM as if nothing happened.
    const again = runAdversary();
    expect(again.output).toBe(output);
  });
});
