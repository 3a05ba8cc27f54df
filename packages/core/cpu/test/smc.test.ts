/**
 * Self-modifying code (unprivileged spec chapter 3, Zifencei): after a store
 * over instructions and a fence.i, the new instructions execute. The hart
 * keeps a decode cache per physical page; these tests prove it is
 * invalidated by every kind of store, on the running page and on others,
 * through any virtual alias.
 */
import { describe, expect, it } from "vitest";
import { outcome, runGuest } from "./helpers.js";
import { enter, privPass, toM } from "./priv.js";

const LI_A0 = (v: number) => `0x${(((v & 0xfff) << 20) | 0x513).toString(16)}`; // addi a0, zero, v

describe("self-modifying code", () => {
  it("patches an instruction on the running page and executes the new one", () => {
    const g = runGuest(`
_start:
  li s1, 0
again:
patch:
  li a0, 1
  add s1, s1, a0
  bnez s2, done
  la t0, patch
  li t1, ${LI_A0(2)}
  sw t1, 0(t0)
  fence.i
  li s2, 1
  j again
done:
  j pass
`);
    expect(outcome(g)).toBe("pass");
    expect(g.x(9)).toBe(3n); // 1 + 2
  });

  it("patches the very next instruction (same page, no jump in between)", () => {
    const g = runGuest(`
_start:
  la t0, next
  li t1, ${LI_A0(7)}
  sw t1, 0(t0)
  fence.i
next:
  li a0, 1
  mv s1, a0
  j pass
`);
    expect(outcome(g)).toBe("pass");
    expect(g.x(9)).toBe(7n);
  });

  it("patches a function on another page, with sw, sb and amoswap", () => {
    const g = runGuest(
      `
_start:
  call func
  mv s1, a0                 # 10
  la t0, func
  li t1, ${LI_A0(20)}
  sw t1, 0(t0)
  fence.i
  call func
  mv s2, a0                 # 20
  li t1, 3
  sb t1, 3(t0)              # byte 3 holds imm[11:4]: 20 = 0x014 becomes 0x034
  fence.i
  call func
  mv s3, a0
  li t1, ${LI_A0(40)}
  amoswap.w x0, t1, (t0)
  fence.i
  call func
  mv s4, a0                 # 40
  j pass
.align 12
func:
  li a0, 10
  ret
`,
    );
    expect(outcome(g)).toBe("pass");
    expect([g.x(9), g.x(18), g.x(19), g.x(20)]).toEqual([10n, 20n, 0x34n, 40n]);
  });

  it("replaces a 4-byte instruction by two compressed ones", () => {
    const g = runGuest(`
_start:
  call func
  mv s1, a0
  la t0, func
  li t1, 0x05054515         # c.li a0, 5 ; c.addi a0, 1
  sw t1, 0(t0)
  fence.i
  call func
  mv s2, a0
  j pass
.align 12
func:
  li a0, 10
  nop
  ret
`);
    expect(outcome(g)).toBe("pass");
    expect([g.x(9), g.x(18)]).toEqual([10n, 6n]); // c.li a0, 5; c.addi a0, 1
  });

  it("writes code into a buffer that was data (store TLB warm), runs it, rewrites it and runs again", () => {
    const g = runGuest(`
_start:
  la s0, buf
  li t1, ${LI_A0(1)}
  sw t1, 0(s0)              # the page is data: this store can go through the fast path
  li t1, 0x00008067         # ret
  sw t1, 4(s0)
  fence.i
  jalr ra, 0(s0)
  mv s1, a0
  li t1, ${LI_A0(2)}
  sw t1, 0(s0)              # now the page holds decoded code
  fence.i
  jalr ra, 0(s0)
  mv s2, a0
  j pass
.align 12
buf: .zero 4096
`);
    expect(outcome(g)).toBe("pass");
    expect([g.x(9), g.x(18)]).toEqual([1n, 2n]);
  });

  it("a store through one virtual alias changes the code fetched through another", () => {
    const g = privPass(
      `
  li t0, ((root >> 12) | (8 << 60))
  csrw satp, t0
  sfence.vma
${enter(1)}
  la s0, func               # kernel VA (== PA)
  li s3, 0x40000000
  add s4, s0, s3            # the same page at VA + 1 GiB
  jalr ra, 0(s0)
  mv s1, a0
  li t1, ${LI_A0(99)}
  sw t1, 0(s4)              # store through the alias
  fence.i
  jalr ra, 0(s0)            # fetch through the original mapping
  mv s2, a0
${toM()}
`,
      {
        data: `
.align 12
root:
  .dword 0, 0
  .dword (0x80000000 >> 2) | 0xcf
  .dword (0x80000000 >> 2) | 0xcf
  .zero 4064
.align 12
func:
  li a0, 10
  ret
`,
      },
    );
    expect([g.x(9), g.x(18)]).toEqual([10n, 99n]);
  });
});
