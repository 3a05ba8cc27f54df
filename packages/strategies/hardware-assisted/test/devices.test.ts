/**
 * Devices seen from a guest under hardware-assisted virtualization: a guest
 * kernel probes every kind of access to device and non-RAM addresses, with
 * translation off and through its own page tables, and must print what it
 * prints under emulation (values, exception causes, trap values) with
 * nested paging and with shadow paging:
 *  - aligned loads and stores of every width (MMIO exits);
 *  - misaligned accesses, floating-point loads and stores, LR/SC and AMOs,
 *    and an instruction fetch from a device (a window onto the device page);
 *  - a hole, the VMM's private RAM right above guest RAM (which the guest
 *    must not reach: an access fault, as on the real machine where nothing
 *    is there), an access straddling the end of guest RAM, beyond 4 GiB;
 *  - a guest page table pointing into device space (an access fault on the
 *    walk) and a guest leaf mapping a device page.
 * Plus hvkit-kernel over a virtio-blk disk: MMIO exits, DMA into guest RAM,
 * the same CHECK lines and the same bytes on the disk as under emulation.
 */
import { emulation } from "@hvkit/emulation";
import { hvkitBootargs, parseHvkitOutput } from "@hvkit/guests";
import { readHvkitImage } from "@hvkit/guests/node";
import { type StrategyDefinition, Vm, type VmConfig } from "@hvkit/hypervisor";
import { type ContractGuest, contractSuite, runGuest } from "@hvkit/hypervisor/testing";
import { assembleElf } from "@hvkit/isa";
import { MemoryDisk, VirtioBlk, virtioMmio } from "@hvkit/virtio";
import { describe, expect, it } from "vitest";
import {
  hardwareAssisted,
  hardwareAssistedNested,
  hardwareAssistedShadow,
  hardwareAssistedShadowWriteProtect,
} from "../src/index.js";

const MIB = 1024 * 1024;
const RAM_END = 0x8000_0000 + 64 * MIB;

const PROBE = `
.equ UART, 0x10000000
.equ EID_DBCN, 0x4442434E
.equ EID_SRST, 0x53525354
.globl _start
_start:
  la t0, trap
  csrw stvec, t0
  la s0, log
  li s1, UART
  li t0, 1 << 13
  csrs sstatus, t0              # FP on
  # Aligned loads of every width (LSR at offset 5), a store and load of the scratch register.
  li a0, -1
  lb a0, 5(s1)
  call rec
  lbu a0, 5(s1)
  call rec
  lh a0, 4(s1)
  call rec
  lhu a0, 4(s1)
  call rec
  lw a0, 4(s1)
  call rec
  lwu a0, 4(s1)
  call rec
  ld a0, 0(s1)
  call rec
  li t0, 0xa5
  sb t0, 7(s1)
  lbu a0, 7(s1)
  call rec
  li t0, 0x5a
  sh t0, 6(s1)
  lhu a0, 6(s1)
  call rec
  # Misaligned, floating point, atomics.
  lw a0, 5(s1)
  call rec
  ld a0, 3(s1)
  call rec
  sw t0, 7(s1)
  flw fa0, 4(s1)
  fmv.x.w a0, fa0
  call rec
  fld fa0, 0(s1)
  fmv.x.d a0, fa0
  call rec
  fmv.w.x fa0, zero
  fsw fa0, 4(s1)
  li a0, -1
  amoadd.w a0, t0, (s1)
  call rec
  li a0, -1
  lr.w a0, (s1)
  call rec
  li a0, -1
  sc.w a0, t0, (s1)
  call rec
  # A hole, past guest RAM (the VMM's RAM under a hypervisor), straddling its end, beyond 4 GiB.
  li t1, 0x50000000
  li a0, -1
  ld a0, 0(t1)
  call rec
  sd t0, 8(t1)
  li t1, ${RAM_END + 0x1000}
  li a0, -1
  ld a0, 0(t1)
  call rec
  sw t0, 0(t1)
  li a0, -1
  flw fa0, 0(t1)
  amoswap.w a0, t0, (t1)
  call rec
  li t1, ${RAM_END - 2}
  li a0, -1
  lw a0, 0(t1)
  call rec
  sw t0, 0(t1)
  li t1, 1
  slli t1, t1, 32
  li a0, -1
  ld a0, 0(t1)
  call rec
  # An instruction fetch from a device and from past guest RAM.
  la ra, 1f
  jr s1
1:
  la ra, 2f
  li t1, ${RAM_END}
  jr t1
2:
  # Paging (Sv39): VA 0x0000 -> the UART page, 0x1000 -> data, and VA 0x200000 through a
  # level-0 table the root says is at a device address.
  la t1, l0
  la t2, l1
  la t3, root
  srli t0, s1, 12
  slli t0, t0, 10
  ori t0, t0, 0xc7            # V R W A D
  sd t0, 0(t1)
  la t0, data
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, 0xc7
  sd t0, 8(t1)
  srli t0, t1, 12
  slli t0, t0, 10
  ori t0, t0, 1
  sd t0, 0(t2)
  li t0, 0x10001000
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, 1
  sd t0, 8(t2)
  srli t0, t2, 12
  slli t0, t0, 10
  ori t0, t0, 1
  sd t0, 0(t3)
  # The code, data and log stay where they are: root entry 2 maps the GiB at 0x80000000 to itself.
  li t0, 0x80000000
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, 0xcf            # V R W X A D
  sd t0, 16(t3)
  srli t0, t3, 12
  li t1, 8
  slli t1, t1, 60
  or t0, t0, t1
  csrw satp, t0
  sfence.vma
  li t1, 0x5
  li a0, -1
  lbu a0, 0(t1)
  call rec
  li a0, -1
  lw a0, 1(t1)
  call rec
  li t0, 0x77
  sb t0, 7(zero)
  lbu a0, 7(zero)
  call rec
  li t1, 0x1000
  li t0, 1234
  sd t0, 0(t1)
  ld a0, 0(t1)
  call rec
  li t1, 0x200000
  li a0, -1
  ld a0, 0(t1)
  call rec
  sd t0, 0(t1)
paged_done:
  csrw satp, zero
  sfence.vma
  # Print the log: one hex dword per line.
  la s2, log
3:
  bgeu s2, s0, 4f
  ld a0, 0(s2)
  call hex
  addi s2, s2, 8
  j 3b
4:
  li a0, 0
  li a1, 0
  li a6, 0
  li a7, EID_SRST
  ecall
5: j 5b

# Exceptions: log scause and stval, skip the instruction (a fetch fault returns to ra).
.align 2
trap:
  csrr t5, scause
  sd t5, 0(s0)
  csrr t6, stval
  sd t6, 8(s0)
  addi s0, s0, 16
  li t6, 1
  beq t5, t6, 6f
  csrr t5, sepc
  lhu t6, 0(t5)
  andi t6, t6, 3
  addi t5, t5, 2
  li t4, 3
  bne t6, t4, 7f
  addi t5, t5, 2
7:
  csrw sepc, t5
  sret
6:
  csrw sepc, ra
  sret

rec:
  sd a0, 0(s0)
  addi s0, s0, 8
  ret

hex:
  mv t3, a0
  li t2, 60
8:
  srl t0, t3, t2
  andi t0, t0, 15
  li t1, 10
  blt t0, t1, 9f
  addi t0, t0, 39
9:
  addi a0, t0, 48
  li a6, 2
  li a7, EID_DBCN
  ecall
  addi t2, t2, -4
  bgez t2, 8b
  li a0, 10
  li a6, 2
  li a7, EID_DBCN
  ecall
  ret

.data
.align 12
root: .zero 4096
l1: .zero 4096
l0: .zero 4096
data: .zero 4096
.align 3
log: .zero 4096
`;

const probe: ContractGuest = {
  name: "device probe (every access kind to devices, holes, past RAM, through page tables)",
  config: () => ({
    kernel: assembleElf(PROBE, { base: 0x80200000n, fileName: "probe.s" }),
    memory: 64 * MIB,
  }),
  maxSteps: 1_000_000,
  expect: { exitStatus: 0 },
};

contractSuite({
  baseline: emulation,
  strategies: [
    hardwareAssistedNested,
    hardwareAssisted({ gstageMode: "sv48x4", gstagePageSize: "2m", name: "hardware-assisted (sv48x4, 2m)" }),
    hardwareAssistedShadow,
    hardwareAssistedShadowWriteProtect,
  ],
  guests: [probe],
});

describe("the device probe", () => {
  it("takes the faults it should under emulation, and the hypervisors' windows and MMIO exits do them", () => {
    const base = runGuest(emulation, probe);
    const lines = base.output.trim().split("\n");
    // Load and store access faults (5, 7) and fetch access faults (1) are all in the log.
    for (const cause of ["0000000000000005", "0000000000000007", "0000000000000001"])
      expect(lines, cause).toContain(cause);
    expect(lines).toContain("0000000000000060"); // the LSR through a byte load
    const nested = runGuest(hardwareAssistedNested, probe);
    const c = nested.vm.stats.counters;
    expect(c["mmio.exits"]).toBeGreaterThan(10);
    expect(c["mmio.windows"]).toBeGreaterThan(5);
    expect(c["nested.windowsOpen"]).toBe(0);
    expect(c["nested.tablePages"]).toBe(c["nested.tablePagesPeak"]! - 2);
    expect(nested.vm.stats.steps).toBe(base.vm.stats.steps);
    const shadow = runGuest(hardwareAssistedShadow, probe);
    // Shadow paging: plain accesses done directly, the odd ones (and fetches) through windows.
    expect(shadow.vm.stats.counters["mmio.exits"]).toBeGreaterThan(10);
    expect(shadow.vm.stats.counters["mmio.windows"]).toBeGreaterThan(5);
    expect(shadow.vm.stats.steps).toBe(base.vm.stats.steps);
  });
});

/** hvkit-kernel's selftest and io workloads on a virtio-blk disk; the disk's bytes after. */
function onDisk(strategy: StrategyDefinition) {
  const disk = new MemoryDisk(8192 * 512);
  const config: VmConfig = {
    kernel: readHvkitImage("hvkit-kernel.elf"),
    cmdline: hvkitBootargs({ workloads: ["selftest", "io"], sizes: { io: 128 } }),
    memory: 64 * MIB,
    devices: [virtioMmio(new VirtioBlk({ backend: disk }))],
  };
  const vm = Vm.create(strategy, config);
  let output = "";
  vm.onOutput((b) => {
    output += new TextDecoder().decode(b);
  });
  const result = vm.run({ steps: 400_000_000 });
  return { vm, result, output, disk };
}

describe("hvkit-kernel over virtio-blk", () => {
  it("prints emulation's CHECK lines and leaves emulation's bytes on the disk, with nested and shadow paging", () => {
    const base = onDisk(emulation);
    expect(base.result).toEqual({ stop: "poweroff", exitStatus: 0 });
    expect(base.output).toMatch(/virtio-blk/);
    const checks = parseHvkitOutput(base.output).checks.map((x) => x.line);
    for (const strategy of [
      hardwareAssistedNested,
      hardwareAssistedShadow,
      hardwareAssistedShadowWriteProtect,
    ]) {
      const r = onDisk(strategy);
      expect(r.result, strategy.name).toEqual({ stop: "poweroff", exitStatus: 0 });
      expect(parseHvkitOutput(r.output).checks.map((x) => x.line)).toEqual(checks);
      expect(Buffer.from(r.disk.data).equals(Buffer.from(base.disk.data)), strategy.name).toBe(true);
      expect(r.vm.stats.steps).toBe(base.vm.stats.steps);
      expect(r.vm.stats.cycles.byCategory.virtqueueNotify).toBeGreaterThan(0);
    }
  });
});
