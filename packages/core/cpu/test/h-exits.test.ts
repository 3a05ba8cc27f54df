/**
 * Guest-mode exit controls (hart.guestExits), driven the way a host VMM
 * drives the hart: it enters the guest with setMode(PRV_S, 1) and run(),
 * selects which guest events exit (exceptions, CSR reads and writes,
 * instructions, interrupts, MMIO pages), emulates the exiting instruction
 * and resumes with completeExit(). Unselected events stay inside run(),
 * delivered by the hardware. Also: the VM-entry, exit and two-stage walk
 * counters, setMode's checks, and the V=0 exit controls beside them.
 */
import { CSR } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import {
  Cause,
  CounterSlot,
  CpuError,
  CsrSlot,
  EmptyBus,
  ExitReason,
  GuestInstruction,
  GuestStat,
  Hart,
  PRV_M,
  PRV_S,
  PRV_U,
  readCsr,
} from "../src/index.js";
import { G_ON, GUEST_MEMORY, hGuest, vsTraps } from "./h-guest.js";
import type { Guest } from "./helpers.js";

const OUT = ".align 3\nout: .zero 512\n";

interface Vm {
  g: Guest;
  hart: Hart;
  /** Run until an exit other than BUDGET. */
  run(): number;
  sym(name: string): bigint;
}

/**
 * Load `guest` (code entered directly in VS-mode, or VU-mode with `mode` 0)
 * after running `setup` in M-mode (page tables, delegation), the way a VMM
 * would leave the hart before entering a guest.
 */
function vm(guest: string, setup = "", mode: 0 | 1 = 1): Vm {
  const g = hGuest(
    `
${setup}
  la t0, guest
  csrw mepc, t0
  j setup_done
guest:
${guest}
  j pass
setup_done:
`,
    { noRun: true, data: GUEST_MEMORY + OUT },
  );
  const hart = g.machine.hart;
  // Run the M-mode prologue and setup up to setup_done (the guest has not run yet).
  const done = BigInt(g.sym("setup_done"));
  for (let i = 0; i < 100_000 && hart.pc !== done; i++) hart.run(1);
  expect(hart.pc).toBe(done);
  hart.setPc(BigInt(g.sym("guest")));
  hart.setMode(mode === 1 ? PRV_S : PRV_U, 1);
  return {
    g,
    hart,
    run() {
      for (let i = 0; i < 1000; i++) {
        const r = hart.run(100_000);
        if (r !== ExitReason.BUDGET) return r;
      }
      throw new Error("the guest did not exit");
    },
    sym: (name) => BigInt(g.sym(name)),
  };
}

const csr64 = (h: Hart, num: number): bigint => {
  readCsr(h, num);
  return (BigInt(h.csrHi >>> 0) << 32n) | BigInt(h.csrLo >>> 0);
};

describe("the exception bitmap", () => {
  it("a selected guest exception exits with cause, pc and instruction, writing no trap CSR; an unselected one is delivered inside run()", () => {
    const v = vm(
      `
ec:
  ecall
ill:
  .word 0
`,
      `
  li t0, 1 << 2
  csrw medeleg, t0
  csrw hedeleg, t0                # illegal instruction: to VS
`,
    );
    const h = v.hart;
    h.guestExits.exceptions = 1 << Cause.ECALL_VS;
    expect(v.run()).toBe(ExitReason.TRAP);
    const e = h.exit;
    expect([e.cause, e.pc, e.insn, e.insnLength, e.mode, e.virt, e.gpa]).toEqual([
      Cause.ECALL_VS,
      v.sym("ec"),
      0x73,
      4,
      PRV_S,
      1,
      0n,
    ]);
    expect([h.csr[CsrSlot.MCAUSE], h.csr[CsrSlot.SCAUSE], h.csr[CsrSlot.VSCAUSE]]).toEqual([0, 0, 0]);
    expect(h.virt).toBe(1);
    // The VMM emulates the ecall (a hypercall) and resumes after it.
    h.setPc(e.pc + 4n);
    expect(v.run()).toBe(ExitReason.HALT); // the illegal instruction went to vstvec; the guest passed
    expect(vsTraps(v.g).map((t) => [t.cause, t.epc])).toEqual([[2n, v.sym("ill")]]);
    const s = h.guestStats;
    expect([
      s[GuestStat.ENTRIES],
      s[GuestStat.EXITS + ExitReason.TRAP],
      s[GuestStat.EXITS + ExitReason.HALT],
    ]).toEqual([2, 1, 1]);
  });

  it("a guest-page fault exits with the guest physical address and the guest virtual one", () => {
    const v = vm(
      `
  li t0, 0x4000
gpf:
  ld a0, 8(t0)
`,
      `${G_ON()}
  li t0, ((vsroot >> 12) | (8 << 60))
  csrw vsatp, t0
`,
    );
    v.hart.guestExits.exceptions = 1 << Cause.LOAD_GUEST_PAGE_FAULT;
    expect(v.run()).toBe(ExitReason.TRAP);
    const e = v.hart.exit;
    expect([e.cause, e.tval, e.gpa, e.pc, e.insn]).toEqual([
      21,
      0x4008n,
      0x4000_4008n,
      v.sym("gpf"),
      0x0082b503,
    ]);
  });
});

describe("the CSR-access bitmap", () => {
  it("exits on selected reads and writes separately; completeExit writes rd and steps over; others run as usual", () => {
    const v = vm(`
  li a1, 0x55
r1:
  csrr a0, sscratch               # read selected: exit
  csrw sscratch, a1               # write not selected: runs (vsscratch)
r2:
  csrrs a2, sscratch, a1          # reads and writes: exits
  csrr a3, sscratch
`);
    const h = v.hart;
    h.guestExits.exitOnCsr(CSR.sscratch, true, false);
    expect(v.run()).toBe(ExitReason.CSR);
    let e = h.exit;
    expect([e.csr, e.read, e.write, e.rd, e.pc, e.insn, e.insnLength]).toEqual([
      CSR.sscratch,
      1,
      0,
      10,
      v.sym("r1"),
      0x14002573,
      4,
    ]);
    h.completeExit(0x1234);
    expect(h.getX(10)).toBe(0x1234n);
    expect(v.run()).toBe(ExitReason.CSR);
    e = h.exit;
    expect([e.csr, e.read, e.write, e.rd, e.data, e.pc]).toEqual([
      CSR.sscratch,
      1,
      1,
      12,
      0x55n,
      v.sym("r2"),
    ]);
    expect(csr64(h, CSR.vsscratch)).toBe(0x55n); // the csrw ran in the guest
    h.completeExit(-1, -1);
    expect(h.getX(12)).toBe(-1n);
    // Now writes only.
    h.guestExits.exitOnCsr(CSR.sscratch, false, true);
    expect(v.run()).toBe(ExitReason.HALT); // csrr a3 does not exit
    expect(h.getX(13)).toBe(0x55n);
    expect(() => h.completeExit()).toThrow(CpuError);
  });

  it("privilege checks come first: a VU-mode read of a selected supervisor CSR raises virtual-instruction", () => {
    const v = vm(
      `
  csrr a0, sscratch
`,
      "",
      0,
    );
    v.hart.guestExits.exitOnCsr(CSR.sscratch, true, true);
    v.hart.guestExits.exceptions = 1 << Cause.VIRTUAL_INSTRUCTION;
    expect(v.run()).toBe(ExitReason.TRAP);
    expect([v.hart.exit.cause, v.hart.exit.tval]).toEqual([Cause.VIRTUAL_INSTRUCTION, 0x14002573n]);
  });

  it("an exit replaces the hypervisor's own gates: rdtime exits although hcounteren.TM = 0", () => {
    const v = vm(
      `
  rdtime a0
`,
      `
  li t0, 2
  csrw mcounteren, t0
`,
    );
    v.hart.guestExits.exitOnCsr(CSR.time, true, false);
    expect(v.run()).toBe(ExitReason.CSR);
    expect(v.hart.exit.csr).toBe(CSR.time);
    v.hart.completeExit(42);
    expect(v.hart.getX(10)).toBe(42n);
  });
});

describe("per-instruction exit controls", () => {
  it("wfi, sfence.vma, hfence, satp writes, sret and ecall in VS-mode exit before executing", () => {
    const v = vm(`
  li a1, 0x123
i_wfi:
  wfi
i_sfence:
  sfence.vma
i_hfence:
  hfence.gvma
i_satp:
  csrw satp, a1
  csrr a2, satp                   # reads do not exit
i_sret:
  sret
i_ecall:
  ecall
`);
    const h = v.hart;
    h.guestExits.instructions = 0x1f;
    const seen: [number, bigint, number, number][] = [];
    for (let i = 0; i < 6; i++) {
      expect(v.run()).toBe(ExitReason.INSTRUCTION);
      seen.push([h.exit.cause, h.exit.pc, h.exit.insn, h.exit.csr]);
      if (h.exit.cause === GuestInstruction.SATP_WRITE) expect(h.exit.data).toBe(0x123n);
      h.completeExit();
    }
    expect(seen).toEqual([
      [GuestInstruction.WFI, v.sym("i_wfi"), 0x10500073, 0],
      [GuestInstruction.SFENCE, v.sym("i_sfence"), 0x12000073, 0],
      [GuestInstruction.SFENCE, v.sym("i_hfence"), 0x62000073, 0],
      [GuestInstruction.SATP_WRITE, v.sym("i_satp"), 0x18059073, CSR.satp],
      [GuestInstruction.SRET, v.sym("i_sret"), 0x10200073, 0],
      [GuestInstruction.ECALL, v.sym("i_ecall"), 0x73, 0],
    ]);
    expect(h.getX(12)).toBe(0n); // vsatp was never written
    expect(v.run()).toBe(ExitReason.HALT);
  });

  it("a control beats hstatus.VTVM/VTSR/VTW; without one, those raise virtual-instruction inside run()", () => {
    const v = vm(
      `
  sfence.vma
`,
      `
  li t0, (1 << 20) | (1 << 21) | (1 << 22)
  csrs hstatus, t0
`,
    );
    v.hart.guestExits.instructions = 1 << GuestInstruction.SFENCE;
    expect(v.run()).toBe(ExitReason.INSTRUCTION);
    v.hart.guestExits.instructions = 0;
    v.hart.guestExits.exceptions = 1 << Cause.VIRTUAL_INSTRUCTION;
    expect(v.run()).toBe(ExitReason.TRAP);
    expect(v.hart.exit.cause).toBe(Cause.VIRTUAL_INSTRUCTION);
  });

  it("in VU-mode, sret is a virtual-instruction exception even with the sret control; ecall exits", () => {
    const v = vm(
      `
  ecall
  sret
`,
      "",
      0,
    );
    const h = v.hart;
    h.guestExits.instructions = (1 << GuestInstruction.ECALL) | (1 << GuestInstruction.SRET);
    h.guestExits.exceptions = 1 << Cause.VIRTUAL_INSTRUCTION;
    expect(v.run()).toBe(ExitReason.INSTRUCTION);
    expect([h.exit.cause, h.exit.mode]).toEqual([GuestInstruction.ECALL, PRV_U]);
    h.completeExit();
    expect(v.run()).toBe(ExitReason.TRAP);
    expect(h.exit.cause).toBe(Cause.VIRTUAL_INSTRUCTION);
  });
});

describe("interrupt exits", () => {
  it("a selected interrupt exits when it becomes takeable in the guest, undelivered; clear, it is delivered to VS", () => {
    const v = vm(
      `
  nop
  nop
`,
      `
  li t0, 0x400
  csrw hideleg, t0
  csrw hie, t0
  csrw hvip, t0
  li t0, 2
  csrw vsstatus, t0
`,
    );
    const h = v.hart;
    h.exitOnInterrupt = true; // the V=0 control: no effect at V=1
    h.guestExits.interrupts = 1 << 10;
    expect(v.run()).toBe(ExitReason.INTERRUPT);
    expect([h.exit.cause, h.exit.virt, h.exit.pc]).toEqual([10, 1, v.sym("guest")]);
    expect(h.csr[CsrSlot.VSCAUSE]).toBe(0);
    h.guestExits.interrupts = 0;
    expect(v.run()).toBe(ExitReason.HALT);
    expect(vsTraps(v.g).map((t) => t.cause)).toEqual([BigInt.asIntN(64, (1n << 63n) | 9n)]);
  });
});

describe("MMIO exits", () => {
  const MMIO_SETUP = `${G_ON()}
  li t0, ((vsroot >> 12) | (8 << 60))
  csrw vsatp, t0
`;

  it("aligned loads and stores to a guest-physical MMIO page exit with gpa, size and data; completeExit extends loads", () => {
    const v = vm(
      `
  li t0, 0                        # GVA 0 -> GPA 0x4000_0000: the MMIO page
  li a2, 0x12345
  li a3, -2
m_lw:
  lw a0, 4(t0)
  lbu a1, 5(t0)
m_sh:
  sh a2, 6(t0)
  sd a3, 8(t0)
  li s1, 16
m_clw:
  .half 0x4080                    # c.lw s0, 0(s1)
`,
      MMIO_SETUP,
    );
    const h = v.hart;
    h.guestExits.addMmio(0x4000_0000, 0x1000);
    const results: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      expect(v.run()).toBe(ExitReason.MMIO);
      const e = h.exit;
      results.push([e.cause, e.gpa, e.tval, e.size, e.write, e.rd, e.data, e.insnLength]);
      h.completeExit(i === 0 ? 0x80000000 : 0x1ff);
    }
    expect(results).toEqual([
      [21, 0x4000_0004n, 4n, 4, 0, 10, 0n, 4],
      [21, 0x4000_0005n, 5n, 1, 0, 11, 0n, 4],
      [23, 0x4000_0006n, 6n, 2, 1, 0, 0x2345n, 4],
      [23, 0x4000_0008n, 8n, 8, 1, 0, BigInt.asUintN(64, -2n), 4],
      [21, 0x4000_0010n, 16n, 4, 0, 8, 0n, 2],
    ]);
    expect(h.getX(10)).toBe(-0x80000000n); // lw sign-extends
    expect(h.getX(11)).toBe(0xffn); // lbu zero-extends
    expect(h.getX(8)).toBe(0x1ffn);
    expect(v.run()).toBe(ExitReason.HALT);
    expect(h.guestStats[GuestStat.EXITS + ExitReason.MMIO]).toBe(5);
  });

  it("misaligned accesses, atomics and pages outside the ranges take the guest-page fault instead", () => {
    const v = vm(
      `
  li t0, 0
  lw a0, 2(t0)                    # misaligned
  amoadd.w a0, a0, (t0)           # atomic
  li t0, 0x4000
  ld a0, 0(t0)                    # no U at G: not an MMIO page
`,
      MMIO_SETUP,
    );
    const h = v.hart;
    h.guestExits.addMmio(0x4000_0000, 0x1000);
    h.guestExits.exceptions = (1 << 21) | (1 << 23);
    const got: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      expect(v.run()).toBe(ExitReason.TRAP);
      got.push([h.exit.cause, h.exit.gpa]);
      h.setPc(h.exit.pc + 4n);
    }
    expect(got).toEqual([
      [21, 0x4000_0002n],
      [23, 0x4000_0000n],
      [21, 0x4000_4000n],
    ]);
    expect(() => h.guestExits.addMmio(0x1234, 0x1000)).toThrow(CpuError);
  });
});

describe("counters", () => {
  it("count VM entries, exits by reason, two-stage walks and their steps; instret by guest mode", () => {
    const v = vm(
      `
  li t0, 0x1000
  ld a0, 0(t0)
`,
      `${G_ON()}
  li t0, ((vsroot >> 12) | (8 << 60))
  csrw vsatp, t0
`,
    );
    const h = v.hart;
    const s = h.guestStats;
    // Step to the ld with a warm fetch TLB, then count its walk alone.
    expect(h.run(1)).toBe(ExitReason.BUDGET);
    const walks = s[GuestStat.WALKS]!;
    const steps = s[GuestStat.WALK_STEPS]!;
    expect(h.run(1)).toBe(ExitReason.BUDGET);
    expect(s[GuestStat.WALKS]! - walks).toBe(1);
    // VS-stage: 3 PTEs, each after a one-step G-stage walk of its table (a gigapage), then the
    // G-stage walk of GPA 0x4000_1000: 3 steps.
    expect(s[GuestStat.WALK_STEPS]! - steps).toBe(9);
    expect(h.getX(10)).toBe(0x1111n);
    expect(s[GuestStat.ENTRIES]).toBe(2);
    expect(s[GuestStat.EXITS + ExitReason.BUDGET]).toBe(2);
    expect(h.counters[CounterSlot.INSTRET_VS]).toBe(2);
    expect(h.counters[CounterSlot.INSTRET_S]).toBe(0);
  });
});

describe("setMode and the V=0 controls", () => {
  it("setMode refuses V=1 without the H extension, and V=1 with M-mode", () => {
    const plain = new Hart({
      memory: { ram: new Uint8Array(4096), ramBase: 0x80000000, bus: new EmptyBus() },
    });
    expect(() => plain.setMode(PRV_S, 1)).toThrow(/hypervisor: true/);
    const v = vm("  nop\n");
    expect(() => v.hart.setMode(PRV_M, 1)).toThrow(CpuError);
  });

  it("exitOnException applies to V=0 only; guestExits to V=1 only", () => {
    const v = vm(
      `
vs_ecall:
  ecall
`,
      `
  li t0, 1 << 10
  csrw medeleg, t0
  la t0, hs_code
  csrw stvec, t0
  j 1f
hs_code:
  ecall                           # HS-mode: cause 9
1:
`,
    );
    const h = v.hart;
    h.exitOnException[PRV_S] = (1 << Cause.ECALL_S) | (1 << Cause.ECALL_VS);
    // The VS ecall is delivered to HS (stvec = hs_code): not an exit. HS's own ecall exits.
    expect(v.run()).toBe(ExitReason.TRAP);
    expect([h.exit.cause, h.exit.virt, h.exit.pc]).toEqual([Cause.ECALL_S, 0, v.sym("hs_code")]);
    expect(csr64(h, CSR.scause)).toBe(10n);
  });
});
