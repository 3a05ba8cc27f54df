/**
 * The exit controls as an experiment: with every exit `exitOn` can ask for
 * (every CSR access, WFI, sfence, satp writes, sret, ecall, every exception
 * a guest kernel handles, every VS interrupt), the VMM emulates or reflects
 * each one and the guests still print what they print under emulation, step
 * for step, with nested and with shadow paging. Also: exits per operation
 * of hvkit-kernel's nanobenchmarks as the design says (2n - n), the
 * non-virtualizable ISA profile (the guest kernel in VS-mode is unaffected;
 * its user programs get the profile's behaviour), and the options a
 * strategy refuses.
 */
import { emulation } from "@hvkit/emulation";
import { hvkitBareMetalGuests, hvkitKernelGuests } from "@hvkit/guests/node";
import { HypervisorError, type StrategyDefinition, Vm } from "@hvkit/hypervisor";
import { builtinGuests, type ContractGuest, contractSuite, runGuest } from "@hvkit/hypervisor/testing";
import { NON_VIRTUALIZABLE_PROFILE } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import {
  hardwareAssisted,
  hardwareAssistedNested,
  hardwareAssistedShadow,
  hardwareAssistedShadowWriteProtect,
} from "../src/index.js";

const EVERYTHING = {
  csr: "all",
  instructions: ["wfi", "sfence", "satp-write", "sret", "ecall"],
  exceptions: "all",
  interrupts: "all",
} as const;

const allExits = [
  hardwareAssisted({ exitOn: EVERYTHING, name: "hardware-assisted, every exit" }),
  hardwareAssisted({ memory: "shadow", exitOn: EVERYTHING, name: "hardware-assisted+shadow, every exit" }),
];

contractSuite({
  baseline: emulation,
  strategies: allExits,
  guests: [
    ...builtinGuests(),
    ...hvkitBareMetalGuests(),
    ...hvkitKernelGuests({
      workloads: ["selftest", "syscall", "pgfault", "trap", "ptemod", "ctxswitch", "echo"],
    }),
  ],
});

describe("every exit taken", () => {
  it("exits on each CSR access, instruction, exception and interrupt, step for step with emulation", () => {
    const guest = hvkitKernelGuests({ workloads: ["selftest"] })[0]!;
    const base = runGuest(emulation, guest);
    const r = runGuest(allExits[0]!, guest);
    const exits = r.vm.stats.exits.byReason;
    for (const reason of ["csr", "sret", "ecall", "exception", "interrupt", "sfence.vma", "mmio", "sbi"])
      expect(exits[reason], reason).toBeGreaterThan(0);
    const c = r.vm.stats.counters;
    expect(c["csr.sstatus.write"]).toBeGreaterThan(0);
    expect(c["csr.satp.write"]).toBeGreaterThan(0);
    expect(c["trap.load-page-fault"]).toBeGreaterThan(0);
    expect(r.vm.stats.steps).toBe(base.vm.stats.steps);
    expect(r.vm.stats.instructions.byMode).toEqual(base.vm.stats.instructions.byMode);
    expect(r.vm.stats.cycles.byCategory.exitControlRead).toBeGreaterThan(0);
    // A guest waiting for its timer in WFI: emulated, with time skipped as the board would.
    const timer = builtinGuests()[0]!;
    const e = runGuest(allExits[0]!, timer);
    expect(e.vm.stats.exits.byReason.wfi).toBeGreaterThan(0);
    expect(e.vm.stats.steps).toBe(runGuest(emulation, timer).vm.stats.steps);
  });
});

/** Exits, modeled cycles and instructions of a workload run with n operations. */
function measure(strategy: StrategyDefinition, workload: string, n: number) {
  const guest = hvkitKernelGuests({ workloads: [workload], sizes: { [workload]: n } })[0]!;
  const r = runGuest(strategy, { ...guest, config: () => ({ ...guest.config(), costProfile: "p4-2006" }) });
  expect(r.result.stop, `${strategy.name} ${workload}`).toBe("poweroff");
  return { exits: r.vm.stats.exits.total, cycles: r.vm.stats.cycles.total, steps: r.vm.stats.steps };
}

describe("exits per operation (2n - n) of the nanobenchmarks", () => {
  /** Exits per operation; the workload's own printing (its MEASURE line's digits) adds a few MMIO exits, under 0.05 an operation here. */
  const perOp = (strategy: StrategyDefinition, workload: string, n: number): number => {
    const a = measure(strategy, workload, n);
    const b = measure(strategy, workload, 2 * n);
    return (b.exits - a.exits) / n;
  };

  it("nested paging: none but the device read, whose MMIO exit is one", () => {
    for (const w of ["syscall", "csr-write", "call-ret", "trap", "ptemod"])
      expect(perOp(hardwareAssistedNested, w, 256), w).toBeCloseTo(0, 1);
    expect(perOp(hardwareAssistedNested, "pgfault", 128)).toBeCloseTo(0, 1);
    expect(perOp(hardwareAssistedNested, "mmio-read", 256)).toBeCloseTo(1, 1);
  });

  it("shadow paging: the page-table work exits (first-generation VT-x), the rest does not", () => {
    for (const w of ["syscall", "csr-write", "call-ret", "trap"])
      expect(perOp(hardwareAssistedShadow, w, 256), w).toBeCloseTo(0, 1);
    expect(perOp(hardwareAssistedShadow, "mmio-read", 256)).toBeCloseTo(1, 1);
    expect(perOp(hardwareAssistedShadow, "pgfault", 128)).toBeGreaterThanOrEqual(2);
    expect(perOp(hardwareAssistedShadow, "ptemod", 256)).toBeGreaterThanOrEqual(1.9); // sfence.vma, then the refill
    expect(perOp(hardwareAssistedShadowWriteProtect, "ptemod", 256)).toBeGreaterThanOrEqual(0.9); // the traced PTE write
  });
});

describe("the non-virtualizable ISA profile", () => {
  /** hvkit-kernel's selftest on the profile: a user program's csrr sstatus no longer kills it. */
  const onProfile = (g: ContractGuest): ContractGuest => ({
    ...g,
    name: `${g.name} on the non-virtualizable profile`,
    config: () => ({ ...g.config(), isaProfile: NON_VIRTUALIZABLE_PROFILE }),
    expect: {},
  });
  const guests = [onProfile(hvkitKernelGuests({ workloads: ["selftest"] })[0]!)];
  contractSuite({
    baseline: emulation,
    strategies: [hardwareAssistedNested, hardwareAssistedShadow],
    guests,
  });

  it("changes what the guest's user programs see, and the VMM reproduces it", () => {
    const base = runGuest(emulation, guests[0]!);
    expect(base.output).toMatch(/CHECK selftest kill-on-privileged-instruction FAIL/);
    const r = runGuest(hardwareAssistedNested, guests[0]!);
    expect(r.vm.stats.counters.profileEmulated).toBeGreaterThan(0);
    expect(r.vm.stats.steps).toBe(base.vm.stats.steps);
  });
});

describe("options and combinations", () => {
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      return e instanceof HypervisorError ? e.code : String(e);
    }
    return undefined;
  };

  it("refuses options that do not fit the memory mode, and bad values", () => {
    expect(code(() => hardwareAssisted({ shadow: "write-protect" }))).toBe("HV_INVALID_COMBINATION");
    expect(code(() => hardwareAssisted({ shadowMemory: 1 << 20 }))).toBe("HV_INVALID_COMBINATION");
    expect(code(() => hardwareAssisted({ memory: "shadow", gstagePageSize: "2m" }))).toBe(
      "HV_INVALID_COMBINATION",
    );
    expect(code(() => hardwareAssisted({ memory: "shadow", gstageMode: "sv48x4" }))).toBe(
      "HV_INVALID_COMBINATION",
    );
    expect(code(() => hardwareAssisted({ memory: "paged" as never }))).toBe("HV_INVALID_CONFIG");
    expect(code(() => hardwareAssisted({ memory: "shadow", shadowMemory: 1000 }))).toBe("HV_INVALID_CONFIG");
    expect(code(() => hardwareAssisted({ gstagePageSize: "1g" as never }))).toBe("HV_INVALID_CONFIG");
    expect(code(() => hardwareAssisted({ exitOn: { csr: ["nope"] } }))).toBe("HV_INVALID_CONFIG");
  });

  it("refuses an M-mode firmware underneath", () => {
    const guest = builtinGuests()[0]!;
    for (const s of [hardwareAssistedNested, hardwareAssistedShadow]) {
      let err: unknown;
      try {
        Vm.create(s, { ...guest.config(), firmware: new Uint8Array(4096) });
      } catch (e) {
        err = e;
      }
      expect((err as HypervisorError).code).toBe("HV_UNSUPPORTED");
      expect((err as Error).message).toMatch(/firmware must be "builtin"/);
    }
  });

  it("names its techniques, and keeps its tables in VMM-private RAM sized to the guest", () => {
    expect(hardwareAssistedNested.techniques).toEqual({
      cpu: "hardware-assisted",
      memory: "nested-paging",
      io: ["emulated", "virtio", "passthrough"],
    });
    expect(hardwareAssistedShadow.techniques.memory).toBe("shadow-paging");
    expect(hardwareAssistedShadowWriteProtect.name).toBe("hardware-assisted+shadow+wp");
    expect(hardwareAssistedNested.hypervisorExtension).toBe(true);
    const vm = Vm.create(hardwareAssistedNested, builtinGuests()[0]!.config());
    // 64 MiB of guest RAM: the 16 KiB root, one megapage-level table, 32 leaf tables, window spares.
    expect(vm.privateRam.length).toBe((4 + 8 + 1 + 32) * 4096);
    const shadow = Vm.create(hardwareAssistedShadow, builtinGuests()[0]!.config());
    expect(shadow.privateRam.length).toBe((4 + 8 + 1) * 4096 + 32 * 1024 * 1024);
  });
});
