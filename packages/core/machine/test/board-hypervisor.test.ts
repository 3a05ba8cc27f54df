/**
 * The board with a hypervisor's hart (`hypervisor: true`): the hart has the
 * H extension while the devicetree still describes the plain machine, and
 * a guest in VS-mode waiting in WFI for its own timer (vstimecmp) gets time
 * skipped to it, as a guest in S-mode waiting for stimecmp does; the same
 * rule is public as `ticksToWake` for VMMs that emulate a guest's WFI.
 */
import { CsrSlot, Irq, readCsr, writeCsr } from "@hvkit/cpu";
import { CSR } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import { RISCV_ISA, readDtb, VIRT_MEMORY_MAP, VirtBoard } from "../src/index.js";
import { guest } from "./helpers.js";

const MIB = 1 << 20;
const STCE_HI = 0x80000000 | 0;

describe("a board for a hypervisor", () => {
  it("gives the hart the H extension (misa.H) and leaves the devicetree's ISA alone", () => {
    const plain = new VirtBoard({ ramSize: 16 * MIB });
    const hyp = new VirtBoard({ ramSize: 16 * MIB, hypervisor: true });
    expect(plain.hart.hypervisor).toBe(false);
    expect(hyp.hart.hypervisor).toBe(true);
    readCsr(hyp.hart, CSR.misa);
    expect(hyp.hart.csrLo & (1 << 7)).not.toBe(0);
    const cpu = readDtb(hyp.devicetree()).root.find("/cpus/cpu@0");
    expect(cpu?.string("riscv,isa")).toBe(RISCV_ISA);
  });

  it("skips time to vstimecmp when a VS-mode guest waits in WFI for its timer", () => {
    // M-mode: Sstc for HS and VS, VSTI delegated and enabled, vstimecmp 5000 ticks ahead; mret into VS.
    const g = guest(
      `
_start:
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0
  li t0, 1
  slli t0, t0, 63
  csrw menvcfg, t0
  csrw henvcfg, t0
  li t0, 2
  csrw mcounteren, t0
  csrw hcounteren, t0
  li t0, 1 << 6
  csrw hideleg, t0
  csrw mie, t0
  rdtime t0
  li t1, 5000
  add t0, t0, t1
  csrw vstimecmp, t0
  la t0, vs
  csrw mepc, t0
  li t0, 1 << 11
  csrs mstatus, t0
  li t0, 1
  slli t0, t0, 39
  csrs mstatus, t0
  mret
vs:
  wfi
  csrr t0, sip
  andi t0, t0, 1 << 5
  beqz t0, vs
  li t0, ${VIRT_MEMORY_MAP.uart0.base}
  li t1, 'T'
  sb t1, 0(t0)
  li t0, ${VIRT_MEMORY_MAP.test.base}
  li t1, 0x5555
  sw t1, 0(t0)
1: j 1b
`,
      { hypervisor: true },
    );
    const hart = g.board.hart;
    const r = g.run(1_000_000);
    expect(r.reason).toBe("poweroff");
    expect(g.output).toBe("T");
    expect(hart.virt).toBe(1);
    // Time jumped to the deadline; the guest did not spin towards it.
    expect(hart.time()).toBeGreaterThanOrEqual(5000);
    expect(r.steps).toBeLessThan(100);
  });

  it("ticksToWake: the nearest of mtimecmp, stimecmp and vstimecmp (with htimedelta) among the enables given", () => {
    const board = new VirtBoard({ ramSize: 16 * MIB, hypervisor: true });
    const hart = board.hart;
    hart.skipTime(1_000_000);
    const now = hart.time();
    expect(board.ticksToWake(-1)).toBe(0); // nothing armed
    writeCsr(hart, CSR.menvcfg, 0, STCE_HI);
    writeCsr(hart, CSR.henvcfg, 0, STCE_HI);
    writeCsr(hart, CSR.mcounteren, 2, 0);
    writeCsr(hart, CSR.stimecmp, now + 700, 0);
    writeCsr(hart, CSR.vstimecmp, now + 900, 0);
    expect(board.ticksToWake(1 << Irq.STI)).toBe(700);
    expect(board.ticksToWake(1 << Irq.VSTI)).toBe(900);
    expect(board.ticksToWake((1 << Irq.STI) | (1 << Irq.VSTI))).toBe(700);
    // Guest time runs 400 ticks ahead of the host's: vstimecmp comes 400 ticks sooner.
    writeCsr(hart, CSR.htimedelta, 400, 0);
    expect(board.ticksToWake(1 << Irq.VSTI)).toBe(500);
    // A negative offset (htimedelta is two's complement): later.
    writeCsr(hart, CSR.htimedelta, -100, -1);
    expect(board.ticksToWake(1 << Irq.VSTI)).toBe(1000);
    // Off without henvcfg.STCE, and pending already: nothing to wait for.
    writeCsr(hart, CSR.henvcfg, 0, 0);
    expect(board.ticksToWake(1 << Irq.VSTI)).toBe(0);
    writeCsr(hart, CSR.henvcfg, 0, STCE_HI);
    writeCsr(hart, CSR.vstimecmp, 0, 0);
    expect(board.ticksToWake(1 << Irq.VSTI)).toBe(0);
    // Default: the hart's mie.
    hart.csr[CsrSlot.MIE] = 1 << Irq.STI;
    expect(board.ticksToWake()).toBe(700);
    // Without the H extension, VSTI means nothing.
    const plain = new VirtBoard({ ramSize: 16 * MIB });
    expect(plain.ticksToWake(1 << Irq.VSTI)).toBe(0);
  });
});
