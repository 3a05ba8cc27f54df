/**
 * The virtual CPU against the real one: an assembled guest kernel exercises
 * the supervisor architecture a deprivileged kernel must not be able to tell
 * apart (WARL rules of every supervisor CSR, illegal accesses, vectored
 * interrupts, self-IPIs, the timer, WFI with an interrupt pending, user mode
 * with its counter enables, FP state and illegal instructions, SUM and MXR,
 * a misaligned load across a page boundary, sfence.vma after a PTE change,
 * MMIO of every width including FP and misaligned accesses, atomics on a
 * device) and prints what it sees. Trap-and-emulate must print exactly what
 * the emulation baseline prints, with both shadow policies, and run step for
 * step with it (same instructions retired, by mode, and same steps).
 */
import { emulation } from "@hvkit/emulation";
import { HypervisorError, type StrategyDefinition, Vm } from "@hvkit/hypervisor";
import { assembleElf } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import { trapAndEmulate, trapAndEmulateSfence, trapAndEmulateWriteProtect } from "../src/index.js";
import { PRINT_DATA, PRINT_ROUTINES } from "./guest-asm.js";

const KERNEL = 0x8020_0000n;
const USER_VA = 0x10000;

/** `label: <what>` then the value in hex. */
function show(label: string, value: string): string {
  return `
  ${value}
  mv s1, a0
  la a0, ${label}
  call print_str
  mv a0, s1
  call print_hex
  li a0, '\\n'
  call putc
`;
}

const GUEST = `
.globl _start
_start:
  la sp, stack_top
  la t0, trap_stack_top
  csrw sscratch, t0
  la t0, trap
  csrw stvec, t0

  # --- WARL rules of the supervisor CSRs.
  li t0, -1
  csrw sstatus, t0
${show("l_sstatus", "csrr a0, sstatus")}
  csrw sstatus, zero
${show("l_sstatus0", "csrr a0, sstatus")}
  li t0, 0x80000003
  csrw stvec, t0
${show("l_stvec", "csrr a0, stvec")}
  la t0, trap
  csrw stvec, t0
  li t0, 0x1235
  csrw sepc, t0
${show("l_sepc", "csrr a0, sepc")}
  li t0, -1
  csrw senvcfg, t0
${show("l_senvcfg", "csrr a0, senvcfg")}
  li t0, -1
  csrw scounteren, t0
${show("l_scounteren", "csrr a0, scounteren")}
  csrw scounteren, zero
  li t0, -1
  csrw sie, t0
${show("l_sie", "csrr a0, sie")}
  csrw sie, zero
  li t0, 10 << 60
  csrw satp, t0
${show("l_satp57", "csrr a0, satp")}
  li t0, 0x1234
  csrw stimecmp, t0
${show("l_stimecmp", "csrr a0, stimecmp")}
  li t0, -1
  csrw stimecmp, t0
  csrw sscratch, zero
${show("l_sscratch", "csrr a0, sscratch")}
  la t0, trap_stack_top
  csrw sscratch, t0
  li t0, 0x7fff
  csrw scause, t0
${show("l_scause", "csrr a0, scause")}
  li t0, 0x7fff
  csrw stval, t0
${show("l_stval", "csrr a0, stval")}

  # --- Illegal in S-mode: M-mode CSRs, writes to read-only counters, mret, ebreak.
  csrr a0, mstatus
  csrw cycle, zero
  csrr a0, hstatus
  mret
  ebreak

  # --- Interrupts: a self-IPI, then the timer through a vectored stvec, WFI with one pending.
  li t0, (1 << 1) | (1 << 5)
  csrw sie, t0
  csrsi sstatus, 2
  csrsi sip, 2
  nop
  csrci sstatus, 2
  la t0, vectors
  ori t0, t0, 1
  csrw stvec, t0
  rdtime t0
  addi t0, t0, 20
  csrw stimecmp, t0
  wfi
  csrsi sstatus, 2
  nop
  csrci sstatus, 2
  la t0, trap
  csrw stvec, t0
  csrsi sip, 2
  wfi                      # SSIP pending and enabled: falls through though SIE = 0
${show("l_sip", "csrr a0, sip")}
  csrci sip, 2

  # --- Paging: Sv39, kernel identity 1 GiB, user pages, an X-only page, devices.
  la t0, root
  srli t0, t0, 12
  li t1, 8 << 60
  or t0, t0, t1
  csrw satp, t0
  sfence.vma
${show("l_satp", "csrr a0, satp")}

  # S-mode and user pages: a fault without SUM, a load with it, never a fetch.
  li s2, ${USER_VA + 0x1000}
${show("l_nosum", "li s10, -1\n  ld a0, 0(s2)\n  mv a0, s10")}
  li t0, 1 << 18
  csrs sstatus, t0
${show("l_sum", "ld a0, 0(s2)")}
  la s11, 1f
  jr s2                    # fetch from a user page in S-mode: instruction page fault
1:
  # Misaligned across into the X-only page: faults at the page boundary.
${show("l_cross", `li s10, -1\n  li t0, ${USER_VA + 0x1ffc}\n  ld a0, 0(t0)\n  mv a0, s10`)}
  li t0, 1 << 18
  csrc sstatus, t0
  # MXR: the X-only (kernel) page becomes readable.
  li s3, ${USER_VA + 0x2000}
${show("l_nomxr", "li s10, -1\n  ld a0, 0(s3)\n  mv a0, s10")}
  li t0, 1 << 19
  csrs sstatus, t0
${show("l_mxr", "ld a0, 0(s3)")}
  csrc sstatus, t0

  # sfence.vma: point VA 0x14000 at another page, fence it, read through it.
  li s4, ${USER_VA + 0x4000}
${show("l_before", "ld a0, 0(s4)")}
  la t0, l0
  la t1, page_b
  srli t1, t1, 12
  slli t1, t1, 10
  ori t1, t1, 0xc3         # V R A D
  sd t1, 0x14*8(t0)
  sfence.vma s4
${show("l_after", "ld a0, 0(s4)")}

  # --- User mode: counters off, FP off, privileged instructions, a kernel page, then ecall.
  li t0, 3 << 13
  csrc sstatus, t0         # FS = off
  li t0, 1 << 8
  csrc sstatus, t0         # SPP = U
  li t0, ${USER_VA}
  csrw sepc, t0
  la s11, back1
  sret
back1:
${show("l_fs_off", "csrr a0, sstatus\n  srli a0, a0, 13\n  andi a0, a0, 3")}
  # Again with the time counter and FP enabled: FS becomes dirty.
  li t0, 2
  csrw scounteren, t0
  li t0, 1 << 13
  csrs sstatus, t0
  li t0, 1 << 8
  csrc sstatus, t0
  li t0, ${USER_VA + 0x100}
  csrw sepc, t0
  la s11, back2
  sret
back2:
${show("l_fs_dirty", "csrr a0, sstatus\n  srli a0, a0, 13\n  andi a0, a0, 3")}
${show("l_user_time", `li t0, ${USER_VA + 0x1000}\n  li a0, 1 << 18\n  csrs sstatus, a0\n  ld a0, 8(t0)\n  li t1, 1 << 18\n  csrc sstatus, t1\n  snez a0, a0`)}

  # --- MMIO: every width, FP, misaligned, atomics.
  li s5, 0x10000007          # UART scratch register
  li t0, 0x5a
  sb t0, 0(s5)
${show("l_uart", "lbu a0, 0(s5)")}
  li s6, 0xc000028           # PLIC priority of source 10
  li t0, 3
  sw t0, 0(s6)
${show("l_plic", "lw a0, 0(s6)")}
  li s7, 0x2004000           # CLINT mtimecmp
  li t0, 0x1122334455667788
  fmv.d.x f1, t0
  fsd f1, 0(s7)
  fld f2, 0(s7)
${show("l_fp_mmio", "fmv.x.d a0, f2")}
${show("l_mis_mmio", "lw a0, 2(s7)")}
${show("l_mtime", "li t0, 0x200bff8\n  ld a0, 0(t0)")}
  li t0, 1
  amoadd.w zero, t0, (s6)
  lr.w t1, (s6)

  # --- Done.
  li a0, 0
  li a1, 0
  li a6, 0
  li a7, 0x53525354
  ecall
9:j 9b

${PRINT_ROUTINES}

# a0: value, printed as 16 hex digits.
print_hex:
  addi sp, sp, -32
  sd ra, 0(sp)
  sd s0, 8(sp)
  sd s1, 16(sp)
  mv s0, a0
  li s1, 60
1:srl a0, s0, s1
  andi a0, a0, 15
  li t0, 10
  blt a0, t0, 2f
  addi a0, a0, 'a' - 10
  j 3f
2:addi a0, a0, '0'
3:call putc
  addi s1, s1, -4
  bgez s1, 1b
  ld ra, 0(sp)
  ld s0, 8(sp)
  ld s1, 16(sp)
  addi sp, sp, 32
  ret

.align 6
vectors:
  j trap
  j trap
  j trap
  j trap
  j trap
  j vectored_timer
  j trap
  j trap
  j trap
  j trap

vectored_timer:
  csrrw sp, sscratch, sp
  addi sp, sp, -16
  sd a0, 0(sp)
  sd ra, 8(sp)
  la a0, l_vectored
  call print_str
  ld a0, 0(sp)
  ld ra, 8(sp)
  addi sp, sp, 16
  csrrw sp, sscratch, sp
  j trap

.align 2
trap:
  csrrw sp, sscratch, sp
  addi sp, sp, -160
  sd ra, 0(sp)
  sd a0, 8(sp)
  sd a1, 16(sp)
  sd a6, 24(sp)
  sd a7, 32(sp)
  sd t0, 40(sp)
  sd t1, 48(sp)
  sd t2, 56(sp)
  sd s0, 64(sp)
  sd s1, 72(sp)
  csrr s0, scause
  csrr s1, stval
  bltz s0, interrupt
  mv s10, s0
  la a0, l_exc
  call print_str
  mv a0, s0
  call print_hex
  li a0, ' '
  call putc
  mv a0, s1
  call print_hex
  csrr t0, sstatus
  andi t0, t0, 1 << 8
  la a0, l_from_u
  beqz t0, 1f
  la a0, l_from_s
1:call print_str
  li t0, 12
  beq s0, t0, recover      # a fetch fault: no instruction to step over
  li t0, 8
  bne s0, t0, 2f
  ld t1, 32(sp)            # ecall from U with a7 = 99: back to the kernel
  li t0, 99
  bne t1, t0, 2f
recover:
  csrw sepc, s11
  li t0, 1 << 8
  csrs sstatus, t0
  j 3f
2:csrr t0, sepc
  addi t0, t0, 4
  csrw sepc, t0
  j 3f
interrupt:
  la a0, l_irq
  call print_str
  slli a0, s0, 1
  srli a0, a0, 1
  call print_hex
  li a0, '\\n'
  call putc
  li t0, 1
  slli a0, s0, 1
  srli a0, a0, 1
  bne a0, t0, 4f
  csrci sip, 2
4:li t0, 5
  bne a0, t0, 3f
  li t0, -1
  csrw stimecmp, t0
3:ld ra, 0(sp)
  ld a0, 8(sp)
  ld a1, 16(sp)
  ld a6, 24(sp)
  ld a7, 32(sp)
  ld t0, 40(sp)
  ld t1, 48(sp)
  ld t2, 56(sp)
  ld s0, 64(sp)
  ld s1, 72(sp)
  addi sp, sp, 160
  csrrw sp, sscratch, sp
  sret

# --- The user program (mapped at ${USER_VA} with U=1).
.align 12
user_code:
  rdtime a0                # scounteren.TM = 0: illegal
  fadd.d f0, f0, f0        # FS = off: illegal
  csrr a0, sstatus         # privileged: illegal
  sret
  wfi
  sfence.vma
  li t0, 0x80200000
  ld a0, 0(t0)             # a kernel page: page fault
  li t0, ${USER_VA + 0x1000}
  li t1, 42
  sd t1, 0(t0)
  li a7, 99
  ecall
.align 8
user_code2:                # at ${USER_VA + 0x100}
  rdtime a0
  fadd.d f0, f0, f0
  li t0, ${USER_VA + 0x1000}
  sd a0, 8(t0)
  li a7, 99
  ecall

.data
${PRINT_DATA}
l_sstatus: .asciz "sstatus after -1: "
l_sstatus0: .asciz "sstatus after 0: "
l_stvec: .asciz "stvec: "
l_sepc: .asciz "sepc: "
l_senvcfg: .asciz "senvcfg: "
l_scounteren: .asciz "scounteren: "
l_sie: .asciz "sie: "
l_satp57: .asciz "satp after Sv57: "
l_stimecmp: .asciz "stimecmp: "
l_sscratch: .asciz "sscratch: "
l_scause: .asciz "scause: "
l_stval: .asciz "stval: "
l_sip: .asciz "sip: "
l_satp: .asciz "satp: "
l_nosum: .asciz "S load of a U page without SUM: "
l_sum: .asciz "with SUM: "
l_cross: .asciz "misaligned across a page: "
l_nomxr: .asciz "X-only without MXR: "
l_mxr: .asciz "X-only with MXR: "
l_before: .asciz "before sfence: "
l_after: .asciz "after sfence: "
l_fs_off: .asciz "FS after user ran with FP off: "
l_fs_dirty: .asciz "FS after user used FP: "
l_user_time: .asciz "user read the time: "
l_uart: .asciz "UART scratch: "
l_plic: .asciz "PLIC priority: "
l_fp_mmio: .asciz "mtimecmp by fsd/fld: "
l_mis_mmio: .asciz "misaligned MMIO word: "
l_mtime: .asciz "mtime: "
l_exc: .asciz "exception "
l_irq: .asciz "interrupt "
l_vectored: .asciz "(vectored) "
l_from_u: .asciz " from U\\n"
l_from_s: .asciz " from S\\n"

.align 12
root:
  .dword ((l1 >> 12) << 10) | 1
  .zero 8
  .dword (0x80000 << 10) | 0xcf      # 1 GiB identity at 0x80000000: V R W X A D
  .zero 4096 - 24
l1:
  .dword ((l0 >> 12) << 10) | 1
  .zero 0x10 * 8 - 8
  .dword (0x2000 << 10) | 0xc7       # 0x2000000: CLINT, 2 MiB, V R W A D
  .zero (0x60 - 0x11) * 8
  .dword (0xc000 << 10) | 0xc7       # 0xc000000: PLIC
  .zero (0x80 - 0x61) * 8
  .dword (0x10000 << 10) | 0xc7      # 0x10000000: UART
  .zero 4096 - 0x81 * 8
l0:
  .zero 0x10 * 8
  .dword ((user_code >> 12) << 10) | 0xdb    # V R X U A D
  .dword ((user_data >> 12) << 10) | 0xd7    # V R W U A D
  .dword ((xonly >> 12) << 10) | 0xc9        # V X A D (kernel)
  .zero 8
  .dword ((page_a >> 12) << 10) | 0xc3       # V R A D
  .zero 4096 - 0x15 * 8
user_data:
  .dword 0x5555
  .zero 4096 - 8
xonly:
  .dword 0x7777
  .zero 4096 - 8
page_a:
  .dword 0xaaaa
  .zero 4096 - 8
page_b:
  .dword 0xbbbb
  .zero 4096 - 8
stack:
  .zero 4096
stack_top:
trap_stack:
  .zero 4096
trap_stack_top:
`;

const kernel = (): Uint8Array => assembleElf(GUEST, { base: KERNEL, compress: false });

function run(strategy: StrategyDefinition) {
  const vm = Vm.create(strategy, { kernel: kernel(), memory: 32 * 1024 * 1024 });
  let output = "";
  vm.onOutput((b) => {
    output += new TextDecoder().decode(b);
  });
  const result = vm.run({ steps: 5_000_000 });
  return { vm, output, result };
}

describe("the virtual CPU is indistinguishable from the real one", () => {
  const baseline = run(emulation);

  it("the baseline runs the whole guest", () => {
    expect(baseline.result.stop, baseline.result.message).toBe("poweroff");
    const out = baseline.output;
    expect(out).toContain("sstatus after -1: 80000002000c6122"); // SD, UXL; SIE SPIE SPP FS SUM MXR
    expect(out).toContain("scounteren: 00000000ffffffff");
    expect(out).toContain("sie: 0000000000000222");
    expect(out).toContain("satp after Sv57: 0000000000000000");
    expect(out).toContain("exception 0000000000000002"); // illegal instructions
    expect(out).toContain("exception 0000000000000003"); // ebreak
    expect(out).toContain("interrupt 0000000000000001"); // the self-IPI
    expect(out).toContain("(vectored) interrupt 0000000000000005"); // the timer, vectored
    expect(out).toContain("exception 000000000000000c"); // fetch from a user page in S
    expect(out).toContain("after sfence: 000000000000bbbb");
    expect(out).toContain("exception 0000000000000008"); // the user's ecall
    expect(out).toContain("FS after user used FP: 0000000000000003");
    expect(out).toContain("UART scratch: 000000000000005a");
    expect(out).toContain("mtimecmp by fsd/fld: 1122334455667788");
    expect(out).toContain("exception 0000000000000007 000000000c000028"); // AMO on a device
    expect(out).toContain("exception 0000000000000005 000000000c000028"); // LR on a device
  });

  it.each([trapAndEmulateSfence, trapAndEmulateWriteProtect])(
    "$name prints the same, step for step",
    (strategy) => {
      const r = run(strategy);
      expect(r.result.stop, r.result.message).toBe("poweroff");
      expect(r.output).toBe(baseline.output);
      expect(r.vm.stats.instructions).toEqual(baseline.vm.stats.instructions);
      expect(r.vm.stats.steps).toBe(baseline.vm.stats.steps);
      const c = r.vm.stats.counters;
      expect(c["reflected.illegal-instruction"]).toBeGreaterThan(5);
      expect(c["injected.supervisor-software"]).toBe(1);
      expect(c["injected.supervisor-timer"]).toBe(1);
      expect(c["csr.stvec.write"]).toBeGreaterThan(0);
      expect(c["emulated.wfi"]).toBe(2);
      expect(c["emulated.load"]).toBeGreaterThan(0);
      expect(c["emulated.store"]).toBeGreaterThan(0);
      expect(r.vm.stats.exits.byReason.mmio).toBeGreaterThan(0);
    },
  );
});

describe("options", () => {
  it("registers under two names by policy, plus +forced", () => {
    expect(trapAndEmulateSfence.name).toBe("trap-and-emulate");
    expect(trapAndEmulateWriteProtect.name).toBe("trap-and-emulate+wp");
    expect(trapAndEmulate({ shadow: "write-protect", forceNonVirtualizable: true }).name).toBe(
      "trap-and-emulate+wp+forced",
    );
    expect(trapAndEmulateSfence.techniques).toEqual({
      cpu: "trap-and-emulate",
      memory: "shadow-paging",
      io: ["emulated", "virtio", "passthrough"],
    });
  });

  it("refuses bad options and configurations with typed errors", () => {
    expect(() => trapAndEmulate({ shadow: "lazy" as never })).toThrowError(HypervisorError);
    expect(() => trapAndEmulate({ shadowMemory: 1000 })).toThrowError(/multiple of 4 KiB/);
    let error: unknown;
    try {
      Vm.create(trapAndEmulateSfence, { kernel: kernel(), firmware: new Uint8Array(16) });
    } catch (e) {
      error = e;
    }
    expect((error as HypervisorError).code).toBe("HV_UNSUPPORTED");
    expect(() =>
      Vm.create(trapAndEmulateSfence, { kernel: kernel(), memory: 2048 * 1024 * 1024 }),
    ).toThrowError(/2 GiB/);
  });
});
