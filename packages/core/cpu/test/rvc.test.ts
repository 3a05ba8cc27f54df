/**
 * The C extension (unprivileged spec chapter 16): every RV64C integer form
 * behaves as its 32-bit expansion, links and sequential pcs advance by 2,
 * and the reserved encodings raise illegal-instruction with the 16 bits in
 * mtval.
 */
import { describe, expect, it } from "vitest";
import { outcome, runGuest, s64 } from "./helpers.js";

function results(body: string, count: number): bigint[] {
  const g = runGuest(`
_start:
  la s0, results
${body}
  j pass
.align 3
results: .zero ${8 * count}
.align 3
data: .dword 0xfedcba9876543210, 0x0123456789abcdef
`);
  expect(outcome(g)).toBe("pass");
  return g.dwords("results", count);
}

const st = (r: string) => `  sd ${r}, 0(s0)\n  addi s0, s0, 8\n`;

describe("C extension: arithmetic", () => {
  it("immediates are sign-extended; W forms sign-extend 32-bit results", () => {
    const r = results(
      `
  c.li a0, -32
${st("a0")}  c.li a0, 31
${st("a0")}  c.lui a1, 0xfffe0
${st("a1")}  c.lui a1, 0x1f
${st("a1")}  c.addi a0, -1
${st("a0")}  li a2, 0x7fffffff
  c.addiw a2, 1
${st("a2")}  li a2, 0x1ffffffff
  c.addiw a2, 0           # sext.w
${st("a2")}  li a3, 0x80000000
  li a4, 0x80000000
  c.addw a3, a4
${st("a3")}  li a3, 0
  li a4, 1
  c.subw a3, a4
${st("a3")}`,
      9,
    );
    expect(r).toEqual([-32n, 31n, -0x20000n, 0x1f000n, 30n, -0x80000000n, -1n, 0n, -1n]);
  });

  it("register forms and shifts by 1, 31, 32 and 63", () => {
    const r = results(
      `
  li s1, 0x8000000000000001
  mv a0, s1
  c.slli a0, 63
${st("a0")}  mv a0, s1
  c.srli a0, 32
${st("a0")}  mv a0, s1
  c.srai a0, 63
${st("a0")}  mv a0, s1
  c.srai a0, 31
${st("a0")}  mv a0, s1
  c.slli a0, 1
${st("a0")}  li a0, -1
  c.andi a0, -16
${st("a0")}  li a0, 0xff
  li a1, 0x0f
  c.sub a0, a1
${st("a0")}  li a0, 0xff
  c.xor a0, a1
${st("a0")}  li a0, 0xf00
  c.or a0, a1
${st("a0")}  li a0, 0x3c
  c.and a0, a1
${st("a0")}  c.mv a2, a1
${st("a2")}  c.add a2, a1
${st("a2")}`,
      12,
    );
    expect(r).toEqual([
      s64(0x8000000000000000n),
      0x80000000n,
      -1n,
      -0x100000000n,
      2n,
      -16n,
      0xf0n,
      0xf0n,
      0xf0fn,
      0xcn,
      0xfn,
      0x1en,
    ]);
  });

  it("c.addi16sp and c.addi4spn scale their immediates", () => {
    const r = results(
      `
  mv s2, sp
  li sp, 0x1000
  c.addi16sp sp, -512
${st("sp")}  c.addi16sp sp, 496
${st("sp")}  c.addi4spn a0, sp, 1020
${st("a0")}  c.addi4spn a0, sp, 4
${st("a0")}  mv sp, s2
`,
      4,
    );
    expect(r).toEqual([0x1000n - 512n, 0x1000n - 16n, 0x1000n - 16n + 1020n, 0x1000n - 16n + 4n]);
  });
});

describe("C extension: memory", () => {
  it("loads and stores, sp-relative and register-relative", () => {
    const r = results(
      `
  la a0, data
  c.lw a1, 0(a0)
${st("a1")}  c.ld a1, 8(a0)
${st("a1")}  mv s2, sp
  mv sp, a0
  c.lwsp a2, 4(sp)
${st("a2")}  c.ldsp a2, 0(sp)
${st("a2")}  li a3, 0x55
  c.sw a3, 0(a0)
  c.sdsp a3, 8(sp)
  c.swsp a3, 4(sp)
  mv sp, s2
  ld a4, 0(a0)
${st("a4")}  c.ld a4, 8(a0)
${st("a4")}`,
      6,
    );
    expect(r).toEqual([
      0x76543210n,
      0x0123456789abcdefn,
      s64(0xfffffffffedcba98n),
      s64(0xfedcba9876543210n),
      0x0000005500000055n,
      0x55n,
    ]);
  });
});

describe("C extension: floating-point loads and stores", () => {
  it("c.fld/c.fsd/c.fldsp/c.fsdsp move 64-bit patterns unchanged", () => {
    const g = runGuest(`
_start:
  li t0, 0x2000
  csrs mstatus, t0          # FS = Initial
  la a0, data
  c.fld fa0, 0(a0)
  c.fsd fa0, 8(a0)
  mv s2, sp
  mv sp, a0
  c.fldsp fa1, 8(sp)
  c.fsdsp fa1, 16(sp)
  mv sp, s2
  ld s1, 16(a0)
  j pass
.align 3
data: .dword 0x7ff4000000000001, 0, 0
`);
    expect(outcome(g)).toBe("pass");
    expect(g.x(9)).toBe(0x7ff4000000000001n); // a signalling NaN, moved bit for bit
  });
});

describe("C extension: control flow", () => {
  it("c.j, c.jr, c.jalr (links pc+2), c.beqz/c.bnez", () => {
    const g = runGuest(`
_start:
  li gp, 1
  c.j 1f
  j fail
1:
  li gp, 2
  la t0, 2f
  c.jr t0
  j fail
2:
  li gp, 3
  la t0, sub
  c.jalr t0
after:
  la t1, after
  bne ra, t1, fail
  li gp, 4
  li a0, 0
  c.beqz a0, 3f
  j fail
3:
  c.bnez a0, fail
  li a0, -1
  c.bnez a0, 4f
  j fail
4:
  c.beqz a0, fail
  j pass
sub:
  c.jr ra
`);
    expect(outcome(g)).toBe("pass");
  });

  it("c.ebreak raises a breakpoint with mepc at the 2-byte instruction", () => {
    const g = runGuest(`
_start:
  la t0, handler
  csrw mtvec, t0
  li gp, 1
bp:
  c.ebreak
  c.nop
  la t0, bp
  bne s3, t0, fail
  li t0, 3
  bne s2, t0, fail
  j pass
handler:
  csrr s2, mcause
  csrr s3, mepc
  addi t0, s3, 2
  csrw mepc, t0
  mret
`);
    expect(outcome(g)).toBe("pass");
  });
});

describe("C extension: HINTs", () => {
  it("HINT encodings (rd=x0 forms, shifts by 0, c.nop with an immediate) execute as no-ops", () => {
    // Unprivileged spec 16.7: these are HINTs, not reserved, so they must not trap.
    const hints = [0x0005, 0x4001, 0x6005, 0x802a, 0x902a, 0x0006, 0x8101, 0x8501, 0x0502];
    const g = runGuest(`
_start:
  la t0, handler
  csrw mtvec, t0
  li a0, 5
${hints.map((h) => `  .half ${h}`).join("\n")}
  mv s1, a0
  j pass
handler:
  j fail
`);
    expect(outcome(g)).toBe("pass");
    expect(g.x(9)).toBe(5n);
  });
});

describe("C extension: reserved encodings", () => {
  // Each raises illegal instruction with mtval = the 16 bits (privileged spec 3.1.16).
  const RESERVED: [string, number][] = [
    ["all zeros", 0x0000],
    ["c.addi4spn with nzuimm 0", 0x0004],
    ["c.lui with imm 0", 0x6081],
    ["c.addi16sp with imm 0", 0x6101],
    ["c.lwsp rd=0", 0x4002],
    ["c.ldsp rd=0", 0x6002],
    ["c.jr rs1=0", 0x8002],
    ["c.addiw rd=0", 0x2001],
  ];
  for (const [name, bits] of RESERVED) {
    it(`${name} (0x${bits.toString(16).padStart(4, "0")}) is illegal`, () => {
      const g = runGuest(`
_start:
  la t0, handler
  csrw mtvec, t0
  li gp, 1
insn:
  .half ${bits}
  c.nop
  li t0, 2
  bne s2, t0, fail
  li gp, 2
  li t0, ${bits}
  bne s3, t0, fail
  li gp, 3
  la t0, insn
  bne s4, t0, fail
  j pass
handler:
  csrr s2, mcause
  csrr s3, mtval
  csrr s4, mepc
  addi t0, s4, 2
  csrw mepc, t0
  mret
`);
      expect(outcome(g)).toBe("pass");
    });
  }
});
