/**
 * The VMM-core hooks for strategies that run the guest in the hart's guest
 * mode (H extension): `hypervisorExtension` gives the board's hart the H
 * extension; SBI calls reach the guest's own VS-level state (send_ipi sets
 * vsip.SSIP, set_timer arms vstimecmp); an emulated WFI waits for the VS
 * timer; instructions count as the guest's S and U; and `VmConfig.exitOn`
 * (parsed from command-line words, checked, refused by strategies without
 * guest mode).
 */
import { Cause, CounterSlot, CsrSlot, ExitReason, GuestInstruction, Irq, PRV_S, writeCsr } from "@hvkit/cpu";
import { assembleElf, CSR } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import {
  HypervisorError,
  NO_EXTRA_EXITS,
  parseExitOn,
  resolveExitOn,
  type StrategyDefinition,
  Vm,
} from "../src/index.js";

const KERNEL = 0x80200000n;
const MIB = 1024 * 1024;
const VS_IRQS = (1 << Irq.VSSI) | (1 << Irq.VSTI) | (1 << Irq.VSEI);

/**
 * A minimal guest-mode strategy: the guest in VS-mode with hgatp Bare, its
 * traps and interrupts delegated to it, Sstc for it; ecall from VS (SBI) and
 * WFI exit, and the VMM emulates WFI through core.waitForInterrupt.
 */
const vsStrategy: StrategyDefinition = {
  name: "test-vs",
  description: "the guest in VS-mode",
  techniques: { cpu: "hardware-assisted", memory: "native", io: [] },
  hypervisorExtension: true,
  create(core) {
    const hart = core.hart;
    return {
      start() {
        writeCsr(hart, CSR.hideleg, VS_IRQS, 0);
        writeCsr(hart, CSR.hedeleg, 0xb1ff, 0);
        writeCsr(hart, CSR.henvcfg, 0, 0x80000000 | 0);
        writeCsr(hart, CSR.hcounteren, 7, 0);
        hart.guestExits.exceptions = 1 << Cause.ECALL_VS;
        hart.guestExits.instructions = 1 << GuestInstruction.WFI;
        hart.setMode(PRV_S, 1);
      },
      handleExit(e) {
        if (e.reason === ExitReason.TRAP && e.cause === Cause.ECALL_VS) {
          core.hypercall();
          hart.setPc(e.pc + 4n);
          return true;
        }
        if (e.reason === ExitReason.INSTRUCTION && e.cause === GuestInstruction.WFI) {
          hart.completeExit();
          const mie = hart.csr[CsrSlot.MIE]!;
          if ((hart.mip() & mie) === 0) core.waitForInterrupt(mie);
          return true;
        }
        return false;
      },
    };
  },
};

/** A strategy without guest mode (it runs nothing itself: the tests only create VMs). */
const plainStrategy: StrategyDefinition = {
  name: "test-plain",
  description: "no guest mode",
  techniques: { cpu: "trap-and-emulate", memory: "native", io: [] },
  create: () => ({ start() {} }),
};

const GUEST = `
.equ EID_DBCN, 0x4442434E
.equ EID_SRST, 0x53525354
.equ EID_IPI, 0x735049
.equ EID_TIME, 0x54494D45
.globl _start
_start:
  # send_ipi to ourselves: the guest's own software interrupt, vsip.SSIP.
  li a0, 1
  li a1, 0
  li a6, 0
  li a7, EID_IPI
  ecall
  csrr t0, sip
  andi t0, t0, 2
  beqz t0, fail
  csrci sip, 2
  # set_timer 1000 ticks ahead: vstimecmp. Then wait for it in WFI (emulated: time skips).
  rdtime s1
  addi a0, s1, 1000
  li a6, 0
  li a7, EID_TIME
  ecall
  li t0, 1 << 5
  csrs sie, t0
  wfi
  csrr t0, sip
  andi t0, t0, 1 << 5
  beqz t0, fail
  rdtime s2
  sub s2, s2, s1
  li t0, 1000
  blt s2, t0, fail
  la a1, ok
  li a0, 3
  j out
fail:
  la a1, bad
  li a0, 4
out:
  li a2, 0
  li a6, 0
  li a7, EID_DBCN
  ecall
  li a0, 0
  li a1, 0
  li a6, 0
  li a7, EID_SRST
  ecall
1: j 1b
.data
ok: .ascii "ok\\n"
bad: .ascii "bad\\n"
`;

describe("guest mode (H extension) in the VMM core", () => {
  it("gives the hart the H extension, and routes SBI IPIs, timers and WFI to the guest's VS-level state", () => {
    const vm = Vm.create(vsStrategy, {
      kernel: assembleElf(GUEST, { base: KERNEL, compress: false }),
      memory: 32 * MIB,
    });
    expect(vm.hart.hypervisor).toBe(true);
    let out = "";
    vm.onOutput((b) => {
      out += new TextDecoder().decode(b);
    });
    expect(vm.run({ steps: 1_000_000 })).toEqual({ stop: "poweroff", exitStatus: 0 });
    expect(out).toBe("ok\n");
    const s = vm.stats;
    // VS-mode instructions count as the guest's S-mode ones.
    expect(vm.hart.counters[CounterSlot.INSTRET_VS]).toBeGreaterThan(20);
    expect(s.instructions.byMode.S).toBe(vm.hart.counters[CounterSlot.INSTRET_VS]);
    expect(s.instructions.byMode.U).toBe(0);
    expect(s.steps).toBeLessThan(200); // the wait was skipped, not spun
    // A strategy without guest mode keeps the plain hart.
    const plain = Vm.create(plainStrategy, {
      kernel: assembleElf(GUEST, { base: KERNEL, compress: false }),
      memory: 32 * MIB,
    });
    expect(plain.hart.hypervisor).toBe(false);
  });

  it("refuses exitOn for a strategy that does not run the guest in guest mode", () => {
    const config = {
      kernel: assembleElf(GUEST, { base: KERNEL, compress: false }),
      memory: 32 * MIB,
      exitOn: { csr: ["sstatus"] },
    };
    let err: unknown;
    try {
      Vm.create(plainStrategy, config);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HypervisorError);
    expect((err as HypervisorError).code).toBe("HV_INVALID_COMBINATION");
    expect((err as HypervisorError).message).toMatch(/exitOn/);
    expect(Vm.create(vsStrategy, config).config.exitOn.csrs).toEqual([CSR.sstatus]);
    // Asking for nothing is not asking.
    expect(() => Vm.create(plainStrategy, { ...config, exitOn: {} })).not.toThrow();
  });
});

describe("a guest-mode exit the strategy does not handle", () => {
  it("stops the VM with a fault naming the exit", () => {
    const strict: StrategyDefinition = {
      ...vsStrategy,
      name: "test-strict",
      create(core) {
        const inner = vsStrategy.create(core);
        return {
          start() {
            inner.start();
            core.hart.guestExits.exitOnCsr(CSR.sscratch, true, true);
          },
          handleExit: (e) => (e.reason === ExitReason.CSR ? false : inner.handleExit!(e)),
        };
      },
    };
    const vm = Vm.create(strict, {
      kernel: assembleElf(".globl _start\n_start:\n  csrw sscratch, zero\n1: j 1b\n", { base: KERNEL }),
      memory: 32 * MIB,
    });
    const r = vm.run({ steps: 1000 });
    expect(r.stop).toBe("fault");
    expect(r.message).toBe("the test-strict strategy did not handle a csr exit at pc 0x80200000 (CSR 0x140)");
  });
});

describe("exitOn", () => {
  it("parses command-line words: key=value switches the field, bare words add to it", () => {
    expect(parseExitOn("csr=sstatus,sie")).toEqual({ csr: ["sstatus", "sie"] });
    expect(parseExitOn(["wfi,sret", "csr=all"])).toEqual({ csr: "all", instructions: ["wfi", "sret"] });
    expect(parseExitOn("csr=none")).toEqual({ csr: "none" });
    expect(parseExitOn("exceptions=page-fault,3,interrupts=timer")).toEqual({
      exceptions: ["page-fault", 3],
      interrupts: ["timer"],
    });
    expect(parseExitOn("instructions=all").instructions).toEqual([
      "wfi",
      "sfence",
      "satp-write",
      "sret",
      "ecall",
    ]);
    expect(() => parseExitOn("registers=all")).toThrow(/unknown field "registers"/);
  });

  it("resolves names to numbers and bitmasks, and names what is wrong", () => {
    expect(resolveExitOn(undefined)).toBe(NO_EXTRA_EXITS);
    const r = resolveExitOn({
      csr: ["sstatus", "0x104", 0x180],
      instructions: ["wfi", "ecall"],
      exceptions: ["page-fault", 3],
      interrupts: ["timer", "external"],
    });
    expect(r.allCsrs).toBe(false);
    expect(r.csrs).toEqual([0x100, 0x104, 0x180]);
    expect(r.instructions).toBe((1 << GuestInstruction.WFI) | (1 << GuestInstruction.ECALL));
    expect(r.exceptions).toBe((1 << 12) | (1 << 13) | (1 << 15) | (1 << 3));
    expect(r.interrupts).toBe((1 << Irq.VSTI) | (1 << Irq.VSEI));
    expect(resolveExitOn({ csr: "all", exceptions: "all", interrupts: "all" })).toMatchObject({
      allCsrs: true,
      exceptions: 0xb1ff,
      interrupts: VS_IRQS,
    });
    for (const [bad, msg] of [
      [{ csr: ["nosuch"] }, /not a CSR/],
      [{ csr: [0x7ff] }, /not a CSR/],
      [{ instructions: ["halt"] }, /unknown instruction "halt"/],
      [{ exceptions: [10] }, /not one a guest kernel handles/],
      [{ exceptions: ["overflow"] }, /not one a guest kernel handles/],
      [{ interrupts: ["nmi"] }, /unknown interrupt "nmi"/],
      [{ csr: "some" }, /"all", "none" or a list/],
      [{ registers: [] }, /unknown field "registers"/],
    ] as const) {
      let err: unknown;
      try {
        resolveExitOn(bad as never);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(bad)).toBeInstanceOf(HypervisorError);
      expect((err as HypervisorError).code).toBe("HV_INVALID_CONFIG");
      expect((err as HypervisorError).message).toMatch(msg);
    }
  });
});
