/**
 * Interrupts with the H extension (H 1.0, "Hypervisor Interrupt Registers",
 * "Trap Entry"; Sstc's vstimecmp): VS-level interrupts injected through hvip
 * and delegated by hideleg reach VS-mode as SEI/SSI/STI (vscause 9/1/5,
 * vectored through vstvec by that cause); undelegated they reach HS-mode as
 * 10/2/6; they are never taken with V=0; HS-level interrupts preempt a guest
 * whatever sstatus.SIE; priorities; and the VS timer from vstimecmp and
 * htimedelta, woken from wfi.
 */
import { describe, expect, it } from "vitest";
import { causes, enterGuest, enterHost, hPass, hsTraps, irq, mTraps, toM, vsTraps } from "./h-guest.js";

describe("VS-level interrupts", () => {
  it("hvip injects VSEI, VSSI and VSTI; delegated by hideleg they reach VS-mode as SEI, SSI, STI, in that priority order", () => {
    const g = hPass(`
  li t0, 0x444
  csrw hideleg, t0
  csrw hie, t0
  li t0, 2
  csrw vsstatus, t0               # vsstatus.SIE
  li t0, 0x444
  csrw hvip, t0
${enterGuest(1)}
  nop
  nop
  nop
${toM()}
  csrr s0, hvip
`);
    expect(vsTraps(g).map((t) => t.cause)).toEqual([irq(9), irq(1), irq(5)]);
    expect(hsTraps(g)).toEqual([]);
    // The VS handler cleared vsip.SSIP (hvip.VSSIP); VSEIP and VSTIP stay in hvip (their enables were cleared).
    expect(g.x(8)).toBe(0x440n);
  });

  it("vectored vstvec jumps to base + 4 x the translated cause", () => {
    const g = hPass(`
  la t0, vs_vectors
  ori t0, t0, 1
  csrw vstvec, t0
  li t0, 0x400
  csrw hideleg, t0
  csrw hie, t0
  csrw hvip, t0
  li t0, 2
  csrw vsstatus, t0
${enterGuest(1)}
  nop
${toM()}
  j main_end
.align 6
vs_vectors:
${"  j 1f\n".repeat(9)}  li s0, 9                        # entry 9: SEI
  csrw sie, zero
  sret
1:
  li s0, -1
  csrw sie, zero
  sret
main_end:
`);
    expect(g.x(8)).toBe(9n);
  });

  it("without hideleg they go to HS-mode as VSEI, VSSI, VSTI (10, 2, 6), taken from V=1 whatever sstatus.SIE", () => {
    const g = hPass(`
  li t0, 0x444
  csrw hie, t0
  csrw hvip, t0
  csrw sstatus, zero              # HS-level SIE = 0: does not mask interrupts for HS while V=1
${enterGuest(1)}
  nop
  nop
  nop
${toM()}
`);
    expect(hsTraps(g).map((t) => t.cause)).toEqual([irq(10), irq(2), irq(6)]);
    // Taken from VS-mode: SPV = 1, SPP = 1.
    for (const t of hsTraps(g)) expect(t.status & 0x80n).toBe(0x80n);
    expect(vsTraps(g)).toEqual([]);
  });

  it("are never taken with V=0, and in VS-mode only with vsstatus.SIE; in VU-mode always", () => {
    const g = hPass(`
  li t0, 0x400
  csrw hideleg, t0
  csrw hie, t0
  csrw hvip, t0                   # VSEIP pending and delegated
${enterHost(1)}
  li t0, 2
  csrs sstatus, t0                # HS-level SIE on: still not taken in HS
  nop
  nop
${toM()}
${enterGuest(1)}
  nop                             # vsstatus.SIE = 0: not taken
  nop
${toM()}
${enterGuest(0)}
  nop                             # VU-mode: taken
${toM()}
`);
    expect(vsTraps(g).map((t) => t.cause)).toEqual([irq(9)]);
    expect(vsTraps(g)[0]!.status & 0x100n).toBe(0n); // vsstatus.SPP = 0: from VU
    expect(hsTraps(g)).toEqual([]);
  });

  it("an HS-level interrupt preempts a pending VS-level one", () => {
    const g = hPass(`
  li t0, 0x2
  csrw mideleg, t0                # SSI to HS
  li t0, 0x402
  csrw mie, t0                    # SSIE, VSEIE
  li t0, 0x400
  csrw hideleg, t0
  csrw hvip, t0
  li t0, 2
  csrw vsstatus, t0
  li t0, 2
  csrs mip, t0                    # SSIP
${enterGuest(1)}
  nop
  nop
${toM()}
`);
    expect(causes(hsTraps(g))).toEqual([irq(1)]);
    expect(causes(vsTraps(g))).toEqual([irq(9)]);
  });

  it("M-level interrupts are taken from V=1 into M-mode with MPV set", () => {
    const g = hPass(`
  li t0, 0x2
  csrw mie, t0                    # SSIE, not delegated: an M-level interrupt
  csrs mip, t0
${enterGuest(1)}
  nop
${toM()}
`);
    const m = mTraps(g);
    expect(m.map((t) => t.cause)).toEqual([irq(1), 2n]);
    expect((m[0]!.status >> 39n) & 1n).toBe(1n);
  });
});

describe("the VS timer (Sstc)", () => {
  it("vstimecmp fires when time + htimedelta reaches it: VSTIP in hip, STI in VS-mode, waking the guest's wfi", () => {
    const g = hPass(`
  li t0, 1
  slli t0, t0, 63
  csrs menvcfg, t0                # STCE
  csrs henvcfg, t0
  li t0, 2
  csrw mcounteren, t0             # TM
  csrw hcounteren, t0
  li t0, 1000000000
  csrw htimedelta, t0
  li t0, -1
  csrw vstimecmp, t0
  li t0, 0x40
  csrw hideleg, t0
  csrw vsstatus, zero
${enterGuest(1)}
  li t0, 0x20
  csrs sie, t0                    # vsie.STIE -> hie.VSTIE
  csrr s0, time                   # guest time (with the delta)
  addi t0, s0, 500
  csrw stimecmp, t0               # vstimecmp
  li t0, 2
  csrs sstatus, t0                # vsstatus.SIE
  wfi
  csrr s1, time
${toM()}
  csrr s2, hip
  csrr s3, vstimecmp
  csrr s4, time
`);
    expect(causes(vsTraps(g))).toEqual([irq(5)]);
    expect(g.x(8)).toBeGreaterThan(1000000000n);
    expect(g.x(9)).toBeGreaterThanOrEqual(g.x(8) + 500n); // woke at the deadline
    expect(g.x(18) & 0x40n).toBe(0x40n); // hip.VSTIP stays pending until vstimecmp is rewritten
    expect(g.x(19)).toBe(g.x(8) + 500n);
    expect(g.x(20) + 1000000000n).toBeGreaterThanOrEqual(g.x(19));
  });

  it("henvcfg.STCE = 0 makes stimecmp a virtual-instruction exception in VS-mode; menvcfg.STCE = 0 an illegal one", () => {
    const g = hPass(`
  li t0, 2
  csrw mcounteren, t0
  csrw hcounteren, t0
${enterGuest(1)}
  csrr a0, stimecmp               # menvcfg.STCE = 0: illegal
${toM()}
  li t0, 1
  slli t0, t0, 63
  csrs menvcfg, t0
${enterGuest(1)}
  csrr a0, stimecmp               # henvcfg.STCE = 0: virtual
${toM()}
  li t0, 1
  slli t0, t0, 63
  csrs henvcfg, t0
  csrw hcounteren, zero
${enterGuest(1)}
  csrr a0, stimecmp               # hcounteren.TM = 0: virtual
${toM()}
`);
    expect(causes(mTraps(g))).toEqual([2n, 2n, 22n, 2n, 22n, 2n]);
  });
});
