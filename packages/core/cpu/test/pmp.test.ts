/**
 * Physical memory protection (privileged spec 3.7) on a hart with 16
 * entries: TOR, NA4 and NAPOT matching, priority, partial matches, the
 * default for unmatched accesses per mode, locked entries (which also bind
 * M-mode and freeze their registers), and checks on page-table walks.
 */
import { describe, expect, it } from "vitest";
import { type Guest, outcome, runGuest } from "./helpers.js";
import { brief, enter, mtraps, privGuest, toM } from "./priv.js";

const R = 1;
const W = 2;
const X = 4;
const TOR = 0x08;
const NA4 = 0x10;
const NAPOT = 0x18;
const L = 0x80;

/** pmpaddr value for a NAPOT region of `size` bytes (a power of two >= 8) at `base`. */
const napot = (base: number, size: number) => `${Math.floor(base / 4) + size / 8 - 1}`;
/** pmpcfgN value from per-entry bytes (entry 0 first). */
const cfg = (...bytes: number[]) =>
  `0x${bytes
    .map((b) => b.toString(16).padStart(2, "0"))
    .reverse()
    .join("")}`;

const RAM = 0x80000000;
/** The first MiB holds the test program: the last entry makes it RWX for S and U. */
const CATCH_ALL = `
  li t0, ${napot(RAM, 0x100000)}
  csrw pmpaddr15, t0
  li t0, ${cfg(0, 0, 0, 0, 0, 0, 0, NAPOT | R | W | X)}
  csrw pmpcfg2, t0
`;

function pmp(main: string, data = ""): Guest {
  const g = privGuest(main, { pmpEntries: 16, data, maxSteps: 100_000 });
  expect(outcome(g)).toBe("pass");
  return g;
}

const faults = (g: Guest) => brief(mtraps(g)).filter(([c]) => c !== 9n && c !== 8n && c !== 11n);

describe("PMP matching", () => {
  it("with PMP present and nothing matching, S-mode fails and M-mode succeeds", () => {
    const g = pmp(`
  li t0, 0x80105000
  ld a0, 0(t0)              # M: no entry matches, allowed
  la s11, back
  li a7, -1                 # the fetch fault returns to M at back
  li t0, 0x1800
  csrc mstatus, t0
  li t0, 0x800
  csrs mstatus, t0
  la t0, s_code
  csrw mepc, t0
  mret
s_code:
  nop
back:
`);
    expect(faults(g)).toEqual([[1n, BigInt(g.sym("s_code"))]]);
  });

  it("NAPOT, TOR and NA4 regions grant their permissions; partial matches and gaps fail", () => {
    const g = pmp(`
${CATCH_ALL}
  li t0, ${napot(0x80100000, 0x1000)}
  csrw pmpaddr0, t0         # 0: NAPOT 4 KiB at 0x80100000, R
  li t0, 0x80102000 >> 2
  csrw pmpaddr1, t0         # 1: OFF, bottom of the TOR range
  li t0, 0x80103000 >> 2
  csrw pmpaddr2, t0         # 2: TOR 0x80102000..0x80103000, RW
  li t0, 0x80104000 >> 2
  csrw pmpaddr3, t0         # 3: NA4 at 0x80104000, R
  li t0, ${cfg(NAPOT | R, 0, TOR | R | W, NA4 | R)}
  csrw pmpcfg0, t0
  li t0, 0x80100000
  sd t0, 0(t0)              # M-mode: unlocked entries do not apply
${enter(1)}
  li t0, 0x80100000
  ld s1, 0(t0)              # R: fine
  sd t0, 8(t0)              # store access fault
  li t0, 0x80102ff8
  sd t0, 0(t0)              # TOR: RW
  ld s2, 0(t0)
  la s11, s_back
  jalr ra, 0(t0)            # no X: fetch access fault
s_back:
  li t0, 0x80103000
  ld a0, 0(t0)              # just above the TOR range: no match
  li t0, 0x80104000
  lw s3, 0(t0)              # NA4: the 4 bytes
  ld a0, 0(t0)              # 8 bytes, only half inside: partial match fails
  lw a0, 4(t0)              # next word: no match
${toM()}
`);
    expect(faults(g)).toEqual([
      [7n, 0x80100008n],
      [1n, 0x80102ff8n],
      [5n, 0x80103000n],
      [5n, 0x80104000n],
      [5n, 0x80104004n],
    ]);
    expect([g.x(9), g.x(18)]).toEqual([0x80100000n, 0x80102ff8n]);
  });

  it("the lowest-numbered matching entry decides", () => {
    const g = pmp(`
${CATCH_ALL}
  li t0, ${napot(0x80100000, 0x1000)}
  csrw pmpaddr0, t0         # 0: 4 KiB, R only
  li t0, ${napot(0x80100000, 0x10000)}
  csrw pmpaddr1, t0         # 1: 64 KiB around it, RW
  li t0, ${cfg(NAPOT | R, NAPOT | R | W)}
  csrw pmpcfg0, t0
${enter(1)}
  li t0, 0x80100000
  sd t0, 0(t0)              # entry 0: fault
  li t0, 0x80101000
  sd t0, 0(t0)              # entry 1 only: fine
${toM()}
`);
    expect(faults(g)).toEqual([[7n, 0x80100000n]]);
  });

  it("a TOR entry whose bottom is not below its top matches nothing", () => {
    // Regression: such an entry used to deny an access straddling its address.
    const g = pmp(`
${CATCH_ALL}
  li t0, 0x80108004 >> 2
  csrw pmpaddr0, t0         # OFF
  csrw pmpaddr1, t0         # TOR [0x80108004, 0x80108004): empty, no permissions
  li t0, ${napot(0x80108000, 0x1000)}
  csrw pmpaddr2, t0         # NAPOT RW over the page
  li t0, ${cfg(0, TOR, NAPOT | R | W)}
  csrw pmpcfg0, t0
${enter(1)}
  li t0, 0x80108000
  ld s1, 0(t0)              # spans 0x80108004, but entry 1 is empty: entry 2 allows it
${toM()}
`);
    expect(faults(g)).toEqual([]);
  });

  it("instruction fetch is checked per instruction in a page that a PMP boundary splits", () => {
    // Regression: the page used to be checked once, at the first fetch, and then run freely.
    const g = pmp(
      `
${CATCH_ALL}
  la t0, split_page
  srli t0, t0, 2
  csrw pmpaddr0, t0         # OFF: bottom
  la t0, split_mid
  srli t0, t0, 2
  csrw pmpaddr1, t0         # TOR [split_page, split_mid): RWX
  la t0, split_page
  srli t0, t0, 2
  ori t0, t0, (4096 / 8) - 1
  csrw pmpaddr2, t0         # NAPOT over the page: RW, no X
  li t0, ${cfg(0, TOR | R | W | X, NAPOT | R | W)}
  csrw pmpcfg0, t0
  la s11, back
  li a7, -1
  li t0, 0x1800
  csrc mstatus, t0
  li t0, 0x800
  csrs mstatus, t0
  la t0, split_page
  csrw mepc, t0
  mret
back:
`,
      `
.align 12
split_page:
  addi s1, s1, 1
  addi s1, s1, 1
  addi s1, s1, 1
  addi s1, s1, 1
split_mid:
  addi s1, s1, 1
  j fail
`,
    );
    expect(faults(g)).toEqual([[1n, BigInt(g.sym("split_mid"))]]);
    expect(g.x(9)).toBe(4n);
  });
});

describe("misaligned accesses", () => {
  it("a misaligned store across a PMP boundary faults at the first denied byte and writes nothing", () => {
    // Regression: only the first and last bytes' pages were checked, so the bytes
    // before the boundary were written before the fault.
    const g = pmp(`
${CATCH_ALL}
  li t0, 0x80100000 >> 2
  csrw pmpaddr0, t0         # OFF: bottom
  li t0, 0x80100010 >> 2
  csrw pmpaddr1, t0         # TOR [0x80100000, 0x80100010): RW
  li t0, ${napot(0x80100000, 0x1000)}
  csrw pmpaddr2, t0         # the rest of the page: R
  li t0, ${cfg(0, TOR | R | W, NAPOT | R)}
  csrw pmpcfg0, t0
${enter(1)}
  li t0, 0x8010000c
  li t1, -1
  sd t1, 0(t0)              # bytes 0xc..0xf allowed, 0x10..0x13 not
  ld s1, 0(t0)              # loads are fine on both sides
${toM()}
`);
    expect(faults(g)).toEqual([[7n, 0x80100010n]]);
    expect(g.x(9)).toBe(0n);
  });
});

describe("locked entries", () => {
  it("bind M-mode too and freeze their pmpcfg byte and pmpaddr (and pmpaddr[i-1] under a locked TOR)", () => {
    const g = pmp(`
  li t0, ${napot(0x80106000, 0x1000)}
  csrw pmpaddr0, t0
  li t0, 0x80107000 >> 2
  csrw pmpaddr1, t0         # bottom of a locked TOR
  li t0, 0x80107800 >> 2
  csrw pmpaddr2, t0
  li t0, ${cfg(L | NAPOT | R, 0, L | TOR | R)}
  csrw pmpcfg0, t0
  li t0, 0x80106000
  ld s1, 0(t0)              # M-mode read: allowed
  sd t0, 0(t0)              # M-mode write: store access fault
  li t0, 0x80107000
  sd t0, 0(t0)              # inside the locked TOR: fault
  li t0, ${cfg(NAPOT | R | W, 0, TOR | R | W)}
  csrw pmpcfg0, t0          # the locked bytes keep their values; byte 1 takes the new 0
  csrr s2, pmpcfg0
  li t0, 0x12345
  csrw pmpaddr0, t0         # locked: ignored
  csrw pmpaddr1, t0         # under a locked TOR: ignored
  csrw pmpaddr2, t0         # locked: ignored
  csrr s3, pmpaddr0
  csrr s4, pmpaddr1
  csrr s5, pmpaddr2
`);
    expect(faults(g)).toEqual([
      [7n, 0x80106000n],
      [7n, 0x80107000n],
    ]);
    expect(BigInt.asUintN(64, g.x(18))).toBe(BigInt(cfg(L | NAPOT | R, 0, L | TOR | R)));
    expect([g.x(19), g.x(20), g.x(21)]).toEqual([
      BigInt(napot(0x80106000, 0x1000)),
      BigInt(0x80107000 >>> 2),
      BigInt(0x80107800 >>> 2),
    ]);
  });
});

describe("page-table walks", () => {
  it("are checked with S-mode permissions: an unreadable root table gives an access fault", () => {
    const g = pmp(
      `
${CATCH_ALL}
  la t0, root
  li t1, ${napot(0, 0x1000)}  # size bits for 4 KiB
  srli t0, t0, 2
  or t0, t0, t1
  csrw pmpaddr0, t0         # the root table: no permissions
  li t0, ${cfg(NAPOT)}
  csrw pmpcfg0, t0
  la t0, root
  srli t0, t0, 12
  li t1, 8
  slli t1, t1, 60
  or t0, t0, t1
  csrw satp, t0
  la s11, back
  li a7, -1
${enter(1)}
  j fail
back:
  csrw satp, zero
`,
      `
.align 12
root:
  .dword 0, 0
  .dword (0x80000000 >> 2) | 0xcf
  .zero 4072
`,
    );
    const [t] = faults(g);
    expect(t![0]).toBe(1n); // instruction access fault at the first S-mode fetch
  });
});

describe("PMP NAPOT over the whole address space", () => {
  // Regression: pmpaddr = 2^54 - 1 (54 ones, what firmware writes for "everything")
  // was counted in doubles, rounded to 2^54 and matched nothing.
  it("grants S-mode access everywhere when pmpaddr0 is all ones with NAPOT RWX", () => {
    const g = runGuest(
      `
_start:
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0
  la t0, smode
  csrw mepc, t0
  li t0, 0x1800
  csrc mstatus, t0
  li t0, 0x800
  csrs mstatus, t0
  la t0, mtrap
  csrw mtvec, t0
  mret
smode:
  la t1, data
  ld t2, 0(t1)
  addi t2, t2, 1
  sd t2, 0(t1)
  ecall
mtrap:
  csrr t0, mcause
  li t1, 9
  bne t0, t1, fail
  j pass
.align 3
data: .dword 41
`,
      { pmpEntries: 16 },
    );
    expect(g.reason).toBe("exit");
    expect(g.exitCode).toBe(0);
    expect(g.dword("data")).toBe(42n);
  });
});

describe("PMP and the TLBs", () => {
  // Regression: with PMP on, `pa & PAGE_MASK` made every RAM page (above 2^31)
  // negative, the page never counted as uniformly allowed, and every
  // instruction and access walked the page table again (Linux ran at ~1 MIPS).
  it("caches translations of RAM pages allowed by PMP: a loop walks the page table a handful of times", () => {
    const g = runGuest(
      `
_start:
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0
  la t0, pt
  li t1, 0x80000000
  srli t1, t1, 12
  slli t1, t1, 10
  ori t1, t1, 0xcf
  sd t1, 16(t0)
  srli t0, t0, 12
  li t1, 8
  slli t1, t1, 60
  or t0, t0, t1
  csrw satp, t0
  sfence.vma
  la t0, smode
  csrw mepc, t0
  li t0, 0x1800
  csrc mstatus, t0
  li t0, 0x800
  csrs mstatus, t0
  la t0, mtrap
  csrw mtvec, t0
  mret
smode:
  li s0, 10000
  la s1, data
1:
  ld t0, 0(s1)
  addi t0, t0, 1
  sd t0, 0(s1)
  addi s0, s0, -1
  bnez s0, 1b
  ecall
mtrap:
  j pass
.align 12
pt: .zero 4096
data: .dword 0
.align 12                   # keep tohost (a watched page: stores take the slow path) off data's page
pad: .dword 0
`,
      { pmpEntries: 16 },
    );
    expect(g.exitCode).toBe(0);
    expect(g.dword("data")).toBe(10000n);
    expect(g.machine.hart.pageWalks).toBeLessThan(10);
  });
});
