/**
 * Virtual memory (privileged spec 4.3-4.5, 3.1.6.3): every page-fault rule
 * of the Sv39 walk, Sv48, hardware A/D updates seen in the PTE, SUM, MXR,
 * MPRV with MPP, superpages, canonical addresses and walks that leave RAM.
 * Faults are taken in M-mode; the standard handler logs cause and tval and
 * skips the faulting instruction (or resumes where the test says).
 */
import { describe, expect, it } from "vitest";
import { type Guest, outcome } from "./helpers.js";
import { brief, enter, mtraps, PTE, privGuest, pte, resumeAt, satp, toM } from "./priv.js";

const { V, R, W, X, U, A, D } = PTE;

/** Page tables and pages (see the layout comments). l0 maps VA 0x1000 * i. */
const TABLES = `
.align 12
root:                                   # Sv39 root; also Sv48's level-2 table
  ${pte("l1", V)}                       # [0] VA 0 .. 1 GiB
  .dword 0
  .dword (0x80000000 >> 2) | 0xcf       # [2] VA 0x8000_0000: RAM, kernel RWX, A, D (gigapage)
  .dword (0x80000000 >> 2) | 0xdf       # [3] VA 0xc000_0000: RAM again, for U-mode code (U, RWX, A, D)
  .zero 4096 - 32
l1:
  ${pte("l0", V)}                       # [0] VA 0x000000
  ${pte("0x80200000", V | R | W | A | D)}  # [1] VA 0x200000: megapage
  ${pte("0x80201000", V | R | W | A | D)}  # [2] VA 0x400000: misaligned megapage
  ${pte("l0", V | A)}                   # [3] VA 0x600000: non-leaf with A set (reserved)
  .dword ((0x80200000 >> 12) << 10) | (1 << 61) | ${V | R | W | A | D}  # [4] VA 0x800000: PBMT bits, no Svpbmt
  ${pte("0x1000000", V)}                # [5] VA 0xa00000: next table is outside RAM
  .zero 4096 - 48
l0:
  .dword 0                              # [0]
  ${pte("page_u", V | R | W | U | A | D)}  # [1] 0x1000 user RW
  ${pte("page_r", V | R | A)}           # [2] 0x2000 supervisor read-only
  ${pte("page_x", V | X)}               # [3] 0x3000 execute-only, A clear
  ${pte("page_r", V | W | A | D)}       # [4] 0x4000 W without R (reserved)
  .dword 0                              # [5] 0x5000 invalid
  ${pte("page_ad", V | R | W)}          # [6] 0x6000 A and D clear
  ${pte("page_ux", V | X | U | A)}      # [7] 0x7000 user code
  ${pte("page_rwx", V | R | W | X | A | D)}  # [8] 0x8000
  .dword 0                              # [9] 0x9000 invalid
  ${pte("page_r", V | R | U | A)}       # [10] 0xa000 user read-only
  .zero 4096 - 88
root48:                                 # Sv48 root
  ${pte("root", V)}                     # [0] VA 0 .. 512 GiB
  ${pte("root", V)}                     # [1] VA 0x80_0000_0000: the same again
  .zero 4096 - 16
page_u:
  .dword 0x1111
  .zero 4088
page_r:
  .dword 0x2222
  .zero 4088
page_x:
  li a0, 42
  ret
  .zero 4088
page_ad:
  .dword 0x6666
  .zero 4088
page_ux:
  li a0, 77
  ecall                                 # back to M through the toM protocol (s11/a7 set by the caller)
  .zero 4088
page_rwx:
  .zero 4094
  .half 0x0513                          # first half of addi a0, a0, 1; the second half is at VA 0x9000
.align 12
`;

/** U-mode code runs through the alias of RAM at VA 0xc000_0000 (root[3]). */
const USER_ALIAS = 0x40000000;

/** From M-mode, enter U-mode at the alias of `label`. */
const enterUser = (label: string) => `
  li t0, 0x1800
  csrc mstatus, t0
  la t0, ${label}
  li t1, ${USER_ALIAS}
  add t0, t0, t1
  csrw mepc, t0
  mret
`;

/** Turn on Sv39 (or Sv48) with the tables above. */
const SATP_ON = (mode: 8 | 9 = 8) => `
  li t0, ${satp(mode === 8 ? "root" : "root48", mode)}
  csrw satp, t0
  sfence.vma
`;

function mmu(main: string): Guest {
  const g = privGuest(main, { data: TABLES, maxSteps: 100_000 });
  expect(outcome(g)).toBe("pass");
  return g;
}

/** Faults only (leaving out the ecalls used to change mode). */
const faults = (g: Guest) => brief(mtraps(g)).filter(([c]) => c !== 8n && c !== 9n && c !== 11n);

describe("Sv39 page faults", () => {
  it("V=0 faults for load, store and fetch, with tval the virtual address", () => {
    const g = mmu(`
${SATP_ON()}
${enter(1)}
  li t0, 0x5000
  ld a0, 0(t0)
  sd a0, 8(t0)
${resumeAt("back")}
  jalr ra, 0x10(t0)
back:
${toM()}
`);
    expect(faults(g)).toEqual([
      [13n, 0x5000n],
      [15n, 0x5008n],
      [12n, 0x5010n],
    ]);
  });

  it("W without R is reserved: loads and stores fault", () => {
    const g = mmu(`
${SATP_ON()}
${enter(1)}
  li t0, 0x4000
  ld a0, 0(t0)
  sd a0, 0(t0)
${toM()}
`);
    expect(faults(g)).toEqual([
      [13n, 0x4000n],
      [15n, 0x4000n],
    ]);
  });

  it("read-only pages refuse stores and AMOs (store/AMO page fault); LR is a load", () => {
    const g = mmu(`
${SATP_ON()}
${enter(1)}
  li t0, 0x2000
  ld s1, 0(t0)
  sd s1, 0(t0)
  amoadd.d a0, s1, (t0)
  lr.d s2, (t0)
${toM()}
`);
    expect(faults(g)).toEqual([
      [15n, 0x2000n],
      [15n, 0x2000n],
    ]);
    expect([g.x(9), g.x(18)]).toEqual([0x2222n, 0x2222n]);
  });

  it("U pages: S-mode needs SUM for loads/stores and can never execute them; U-mode cannot touch S pages", () => {
    const g = mmu(`
${SATP_ON()}
${enter(1)}
  li t0, 0x1000
  ld a0, 0(t0)              # SUM=0: fault
  sd a0, 0(t0)              # fault
  li t1, 1 << 18
  csrs sstatus, t1          # SUM=1
  ld s1, 0(t0)
  li s2, 0x1234
  sd s2, 8(t0)
  ld s2, 8(t0)
  li t0, 0x7000
${resumeAt("s_back")}
  jalr ra, 0(t0)            # user code: fetch faults even with SUM
s_back:
  li t1, 1 << 18
  csrc sstatus, t1
${toM()}
${enterUser("u_code")}
u_code:
  li t0, 0x2000
  ld a0, 0(t0)              # S page from U: fault
  li t0, 0x1000
  ld s3, 0(t0)              # U page: fine
  li t0, 0xa000
  sd s3, 0(t0)              # U read-only: store fault
  la s11, u_back
  li t0, ${USER_ALIAS}
  sub s11, s11, t0          # M-mode continues at the physical address
  li a7, -1
  li t0, 0x7000
  jr t0                     # runs user code, which ecalls back to M at u_back
u_back:
`);
    expect(faults(g)).toEqual([
      [13n, 0x1000n],
      [15n, 0x1000n],
      [12n, 0x7000n],
      [13n, 0x2000n],
      [15n, 0xa000n],
    ]);
    expect([g.x(9), g.x(18), g.x(19), g.x(10)]).toEqual([0x1111n, 0x1234n, 0x1111n, 77n]);
  });

  it("execute-only pages: fetch works (and sets A), loads need MXR", () => {
    const g = mmu(`
${SATP_ON()}
${enter(1)}
  li t0, 0x3000
  ld a0, 0(t0)              # MXR=0: fault
  jalr ra, 0(t0)            # returns a0 = 42
  mv s1, a0
  li t1, 1 << 19
  csrs sstatus, t1          # MXR=1
  lw s2, 0(t0)              # the li instruction's bits
  csrc sstatus, t1
  la t0, l0
  ld s3, 24(t0)             # the PTE of 0x3000
${toM()}
`);
    expect(faults(g)).toEqual([[13n, 0x3000n]]);
    expect(g.x(9)).toBe(42n);
    expect(g.x(18)).toBe(0x02a00513n); // addi a0, zero, 42
    expect(g.x(19) & BigInt(A | D)).toBe(BigInt(A));
  });

  it("fetch from a page without X faults; a 32-bit instruction straddling into an unmapped page reports the second page", () => {
    const g = mmu(`
${SATP_ON()}
${enter(1)}
  li t0, 0x2000
${resumeAt("b1")}
  jalr ra, 0(t0)
b1:
  li t0, 0x8ffe
${resumeAt("b2")}
  jalr ra, 0(t0)
b2:
${toM()}
`);
    const t = mtraps(g).filter((x) => x.cause === 12n);
    expect(t.map((x) => [x.epc, x.tval])).toEqual([
      [0x2000n, 0x2000n],
      [0x8ffen, 0x9000n],
    ]);
  });

  it("misaligned accesses across pages translate each page; a fault reports the failing page and writes nothing", () => {
    const g = mmu(`
${SATP_ON()}
${enter(1)}
  li t1, 1 << 18
  csrs sstatus, t1          # SUM, for the user page at 0x1000
  li t0, 0x1ffc
  ld s1, 0(t0)              # last word of page_u, first word of page_r
  li t0, 0x8ffc
  li t1, -1
  sd t1, 0(t0)              # 0x9000 is unmapped: store page fault, nothing written
  ld a0, 0(t0)              # load page fault
  lw s2, 0(t0)              # the 4 bytes before the boundary: unchanged
${toM()}
`);
    expect(faults(g)).toEqual([
      [15n, 0x9000n],
      [13n, 0x9000n],
    ]);
    expect(g.x(9)).toBe(0x2222n << 32n);
    expect(g.x(18)).toBe(0x05130000n); // the .half 0x0513 at the end of page_rwx
  });

  it("hardware A/D updates are visible in the PTE: A on access, D only on a store", () => {
    const g = mmu(`
${SATP_ON()}
${enter(1)}
  la s4, l0
  li t0, 0x6000
  ld s1, 48(s4)             # before
  ld a0, 0(t0)
  ld s2, 48(s4)             # after a load
  sfence.vma
  sd a0, 8(t0)
  ld s3, 48(s4)             # after a store
${toM()}
`);
    expect(faults(g)).toEqual([]);
    const ad = (v: bigint) => Number(v & BigInt(A | D));
    expect([ad(g.x(9)), ad(g.x(18)), ad(g.x(19))]).toEqual([0, A, A | D]);
  });

  it("superpages map with the low VPN bits; a misaligned superpage faults", () => {
    const g = mmu(`
${SATP_ON()}
${enter(1)}
  li t0, 0x200000 + 0x12340
  li a0, 0x5555
  sd a0, 0(t0)
${toM()}
  li t0, 0x80212340
  ld s1, 0(t0)              # the same bytes, physically
${enter(1)}
  li t0, 0x400000
  ld a0, 0(t0)
${toM()}
`);
    expect(g.x(9)).toBe(0x5555n);
    expect(faults(g)).toEqual([[13n, 0x400000n]]);
  });

  it("reserved PTE bits (A in a non-leaf, PBMT without Svpbmt) fault; a walk leaving RAM is an access fault", () => {
    const g = mmu(`
${SATP_ON()}
${enter(1)}
  li t0, 0x600000
  ld a0, 0(t0)
  li t0, 0x800000
  ld a0, 0(t0)
  li t0, 0xa00000
  ld a0, 0(t0)
  sd a0, 0(t0)
${toM()}
`);
    expect(faults(g)).toEqual([
      [13n, 0x600000n],
      [13n, 0x800000n],
      [5n, 0xa00000n],
      [7n, 0xa00000n],
    ]);
  });

  it("addresses whose bits 63:39 are not copies of bit 38 fault (load, store, fetch)", () => {
    const g = mmu(`
${SATP_ON()}
${enter(1)}
  li t0, 0x4000000000       # bit 38 set, upper bits clear
  ld a0, 0(t0)
  li t0, 0xffffffbf80000000 # bit 38 clear, upper bits set
  sd a0, 0(t0)
  li t0, 0x8000001000
${resumeAt("b")}
  jalr ra, 0(t0)
b:
${toM()}
`);
    expect(faults(g)).toEqual([
      [13n, 0x4000000000n],
      [15n, BigInt.asIntN(64, 0xffffffbf80000000n)],
      [12n, 0x8000001000n],
    ]);
  });

  it("sfence.vma makes a changed PTE visible", () => {
    const g = mmu(`
${SATP_ON()}
${enter(1)}
  li t0, 0x5000
  ld a0, 0(t0)              # invalid: fault
  la t1, l0
  ld t2, 16(t1)             # copy the PTE of 0x2000 into slot 5
  sd t2, 40(t1)
  sfence.vma
  ld s1, 0(t0)
  sd zero, 40(t1)
  sfence.vma
${toM()}
`);
    expect(faults(g)).toEqual([[13n, 0x5000n]]);
    expect(g.x(9)).toBe(0x2222n);
  });

  it("satp ignores writes of an unsupported mode; M-mode is never translated", () => {
    const g = mmu(`
${SATP_ON()}
  csrr s1, satp
  li t0, 10
  slli t0, t0, 60
  csrw satp, t0             # Sv57: not supported, no effect
  csrr s2, satp
  la t0, root
  ld s3, 0(t0)              # physical in M-mode: root[0]
`);
    expect(g.x(18)).toBe(g.x(9));
    expect(g.x(19)).toBe(((BigInt(g.sym("l1")) >> 12n) << 10n) | 1n);
  });
});

describe("Sv48", () => {
  it("walks four levels, accepts 48-bit canonical addresses and faults on the rest", () => {
    const g = mmu(`
${SATP_ON(9)}
  csrr s4, satp
${enter(1)}
  li t0, 0x2000
  ld s1, 0(t0)
  li t0, 0x8000002000       # bit 39: canonical in Sv48 (root48[1])
  ld s2, 0(t0)
  li t0, 0x800000000000     # bit 47 set, upper bits clear
  ld a0, 0(t0)
${toM()}
`);
    expect(BigInt.asUintN(64, g.x(20)) >> 60n).toBe(9n);
    expect([g.x(9), g.x(18)]).toEqual([0x2222n, 0x2222n]);
    expect(faults(g)).toEqual([[13n, 0x800000000000n]]);
  });
});

describe("MPRV", () => {
  it("M-mode loads and stores translate with MPP's privilege; fetches do not", () => {
    const g = mmu(`
${SATP_ON()}
  li t0, (1 << 17) | (1 << 11)   # MPRV, MPP=S
  csrs mstatus, t0
  li t0, 0x2000
  ld s1, 0(t0)              # VA 0x2000 as S: page_r
  li t0, 0x1800
  csrc mstatus, t0          # MPP=U
  li t0, 0x1000
  ld s2, 0(t0)              # U page as U
  li t0, 0x2000
  ld a0, 0(t0)              # S page as U: fault (trap entry sets MPP=M, mret then sets it to U)
  li t0, 0x1800
  csrs mstatus, t0          # MPP=M: physical
  li t0, 0x80000000
  ld s3, 0(t0)
  li t0, 1 << 17
  csrc mstatus, t0
`);
    expect([g.x(9), g.x(18)]).toEqual([0x2222n, 0x1111n]);
    expect(faults(g)).toEqual([[13n, 0x2000n]]);
    expect(g.x(19)).not.toBe(0n);
  });
});
