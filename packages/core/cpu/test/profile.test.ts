/**
 * The opt-in non-virtualizable ISA profile (@hvkit/isa
 * NON_VIRTUALIZABLE_PROFILE): in U-mode, reading sstatus returns a masked
 * view, writing it drops the privileged bits, reading satp returns the real
 * value, and sret is a no-op — none of them trap, which is exactly what makes
 * trap-and-emulate lose fidelity (the x86 PUSHF/POPF lesson). Under the
 * standard profile each of them traps.
 */
import { NON_VIRTUALIZABLE_PROFILE, STANDARD_PROFILE } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import { runGuest } from "./helpers.js";

/**
 * M-mode sets sstatus.SIE and SPIE, a satp value, and an M trap handler that
 * counts traps and skips the instruction; then U-mode runs the four
 * sensitive operations and reports through an ecall.
 */
const PROGRAM = `
_start:
  la t0, mtrap
  csrw mtvec, t0
  li t0, 0x22                # SIE | SPIE
  csrs sstatus, t0
  li t0, 0x0000000000012345  # satp: bare mode, but a PPN and no ASID is still readable
  csrw satp, t0
  la t0, user
  csrw mepc, t0
  li t0, 0x1800
  csrc mstatus, t0           # MPP = U
  mret
user:
  csrr s1, sstatus           # 1: read
  csrci sstatus, 2           # 2: clear SIE
  csrr s2, satp              # 3: read satp
  sret                       # 4: return
  ecall
mtrap:
  csrr t0, mcause
  li t1, 8
  beq t0, t1, done           # ecall from U: finished
  la t1, traps
  ld t2, 0(t1)
  addi t2, t2, 1
  sd t2, 0(t1)
  csrr t0, mepc
  addi t0, t0, 4
  csrw mepc, t0
  mret
done:
  csrr s3, sstatus           # what M-mode sees after U-mode's attempts
  j pass
.align 3
traps: .dword 0
`;

describe("ISA profiles", () => {
  it("standard: every sensitive operation traps in U-mode", () => {
    const g = runGuest(PROGRAM, { isaProfile: STANDARD_PROFILE });
    expect(g.reason).toBe("exit");
    expect(g.dword("traps")).toBe(4n);
    expect(g.machine.hart.getX(9)).toBe(0n); // s1 never written
    expect(g.machine.hart.getX(19) & 2n).toBe(2n); // SIE still set
    expect(g.machine.hart.profileNonTraps).toBe(0);
  });

  it("non-virtualizable: the four operations complete silently, with the x86-like results", () => {
    const g = runGuest(PROGRAM, { isaProfile: NON_VIRTUALIZABLE_PROFILE });
    expect(g.reason).toBe("exit");
    expect(g.dword("traps")).toBe(0n);
    const s1 = g.machine.hart.getX(9);
    expect(s1 & 2n).toBe(2n); // the real SIE shows through (PUSHF exposing IF)
    expect(s1 & 0x20n).toBe(0n); // SPIE is masked out of the view
    expect(BigInt.asUintN(64, s1) >> 32n).toBe(0x2n); // UXL = 64-bit visible, SD clear
    expect(g.machine.hart.getX(18)).toBe(0x12345n); // satp leaks (SGDT)
    expect(g.machine.hart.getX(19) & 2n).toBe(2n); // csrc SIE was silently dropped (POPF)
    expect(g.machine.hart.profileNonTraps).toBe(4);
  });
});
