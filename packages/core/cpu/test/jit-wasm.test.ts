/**
 * The WebAssembly backend's dispatcher loop: chaining from region to region
 * across pages (without returning to the hart's dispatcher) gives the
 * interpreter's results, counters read mid-chain included.
 */
import { assemble } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import { BARE_RAM_BASE, BareMachine, type TranslationOptions } from "../src/index.js";

// A loop on one page calling a function on another, which reads the cycle and instret
// counters (their values depend on the steps run so far in the chain).
const SOURCE = `
_start:
  li s0, 2000
  li s1, 0
  li s2, 0
1:
  call far
  add s1, s1, a0
  xor s2, s2, a1
  addi s0, s0, -1
  bnez s0, 1b
  csrr s3, cycle
2:
  j 2b
.balign 4096
far:
  csrr a0, instret
  csrr a1, cycle
  slli a1, a1, 3
  ret
`;

// The same call, to a function rewritten halfway (with fence.i): chains to it, the jump cache's
// among them, must reach the new code (its old block is gone, and its table slot may be reused).
const REWRITE = `
_start:
  li s0, 3000
  li s1, 0
1:
  call far
  add s1, s1, a0
  addi s0, s0, -1
  li t0, 1500
  bne s0, t0, 2f
  la t1, far
  li t2, 0x00700513
  sw t2, 0(t1)
  fence.i
2:
  bnez s0, 1b
3:
  j 3b
.balign 4096
far:
  .word 0x00100513
  ret
`;

// A loop whose third instruction straddles the end of its page (add s2, s2, s1: its upper half
// is the first halfword of the next page), run after code on the next page filled its fetch TLB
// entry, so it is translated with the block. Halfway, the upper half is rewritten (add becomes
// sub: add s2, s2, s1 is 0x00990933, sub s2, s2, s1 0x40990933): the translated block must not
// run the old instruction.
const STRADDLE = `
_start:
  li s0, 3000
  li s1, 0
  li s2, 0
  call next
  j loop
.balign 4096
.space 4096 - 10
loop:
  addi s1, s1, 3
  xori s3, s1, 5
  add s2, s2, s1
  addi s0, s0, -1
  li t0, 1500
  bne s0, t0, 1f
  la t1, loop
  li t2, 0x4099
  sh t2, 10(t1)
  fence.i
1:
  bnez s0, loop
2:
  j 2b
next:
  ret
`;

// Misaligned loads and stores of every size inside one page, in a loop: translated code does
// them in WebAssembly once the TLB maps the page (the interpreter's results, rd written, values
// sign- or zero-extended), and a misaligned store drops an LR reservation held on the 8-byte
// granule its last bytes fall in, not on another.
const MISALIGNED = `
_start:
  la s1, buf
  li s0, 500
  li s2, 0
  li a1, 0x8877665544332211
1:
  sd a1, 3(s1)
  ld a2, 3(s1)
  add s2, s2, a2
  lw a3, 5(s1)
  add s2, s2, a3
  lwu a3, 5(s1)
  add s2, s2, a3
  lh a4, 7(s1)
  add s2, s2, a4
  lhu a4, 7(s1)
  add s2, s2, a4
  sw a3, 9(s1)
  sh a4, 13(s1)
  ld a5, 8(s1)
  xor s2, s2, a5
  addi a1, a1, 7
  addi t0, s1, 16
  lr.d t1, (t0)
  sd a1, 11(s1)
  sc.d t2, a1, (t0)
  add s2, s2, t2
  lr.d t1, (t0)
  sw a1, 1(s1)
  sc.d t2, a1, (t0)
  slli t2, t2, 8
  add s2, s2, t2
  addi s0, s0, -1
  bnez s0, 1b
2:
  j 2b
.align 12
buf: .zero 64
`;

// A loop of 300 straight-line instructions on one page: more than one region holds (256), so
// each round goes from a block of one region to a block of the other and back, on the page.
const LONG_LOOP = `
_start:
  li s0, 200
  li s1, 0
1:
${"  addi s1, s1, 1\n  xori s1, s1, 3\n".repeat(150)}
  addi s0, s0, -1
  bnez s0, 1b
2:
  j 2b
`;

// Every AMO of RV64A, LR/SC that succeed and that fail (no reservation, a store or an AMO to the
// reserved granule between them), rd x0 and rd = rs2, over operands of both signs.
const ATOMICS = `
_start:
  la s1, buf
  addi t0, s1, 8
  addi t1, s1, 16
  addi t2, s1, 24
  li s0, 300
  li s2, 0
  li a1, 0x7ffffff0fffffff0
1:
  amoadd.d a2, a1, (s1)
  add s2, s2, a2
  amoxor.d a2, a1, (t0)
  add s2, s2, a2
  amoor.d a2, a1, (t1)
  add s2, s2, a2
  amoand.d a2, a1, (t2)
  add s2, s2, a2
  amomin.d a2, a1, (s1)
  add s2, s2, a2
  amomax.d a2, a1, (t0)
  add s2, s2, a2
  amominu.d a2, a1, (t1)
  add s2, s2, a2
  amomaxu.d a2, a1, (t2)
  add s2, s2, a2
  amoswap.d a2, a1, (t2)
  add s2, s2, a2
  amoadd.w a2, a1, (s1)
  add s2, s2, a2
  amoxor.w a2, a1, (t0)
  add s2, s2, a2
  amoor.w a2, a1, (t1)
  add s2, s2, a2
  amoand.w a2, a1, (t2)
  add s2, s2, a2
  amomin.w a2, a1, (s1)
  add s2, s2, a2
  amomax.w a2, a1, (t0)
  add s2, s2, a2
  amominu.w a2, a1, (t1)
  add s2, s2, a2
  amomaxu.w a2, a1, (t2)
  add s2, s2, a2
  amoswap.w a2, a1, (t0)
  add s2, s2, a2
  amoadd.d zero, a1, (t1)
  amoswap.d a1, a1, (t2)
  lr.d a3, (t0)
  sc.d a4, a1, (t0)
  add s2, s2, a4
  sc.d a4, a1, (t0)
  slli a4, a4, 1
  add s2, s2, a4
  lr.w a3, (t1)
  sd a1, 0(t1)
  sc.w a4, a1, (t1)
  slli a4, a4, 2
  add s2, s2, a4
  lr.d a3, (t2)
  amoadd.d zero, a1, (t2)
  sc.d a4, a1, (t2)
  slli a4, a4, 3
  add s2, s2, a4
  add s2, s2, a3
  slli a5, a1, 13
  srli a6, a1, 51
  or a1, a5, a6
  xori a1, a1, -1
  addi s0, s0, -1
  bnez s0, 1b
2:
  j 2b
.align 12
buf: .zero 64
`;

// FUNCTIONS small loops, 16 to a page, called in turn for four rounds: ~500 blocks in all, more
// than a small cache keeps.
const FUNCTIONS = 128;
const MANY_BLOCKS = `
_start:
  li s0, 4
  li s1, 0
1:
${Array.from({ length: FUNCTIONS }, (_, i) => `  call f${i}\n  add s1, s1, a0`).join("\n")}
  addi s0, s0, -1
  bnez s0, 1b
2:
  j 2b
${Array.from(
  { length: FUNCTIONS },
  (_, i) => `.balign 256
f${i}:
  li t0, 12
  li a0, ${i}
3:
  addi a0, a0, ${i + 1}
  slli t1, a0, 3
  xor a0, a0, t1
  addi t0, t0, -1
  bnez t0, 3b
  ret`,
).join("\n")}
`;

// A hot loop on one page that now and then calls a short loop on another: 40 calls of ~100 steps
// each, 5,000 steps apart.
const RARE_CALLS = `
_start:
  li s0, 40
  li s1, 0
1:
  li t0, 1000
2:
  addi s1, s1, 3
  xor s1, s1, t0
  addi t0, t0, -1
  bnez t0, 2b
  call rare
  addi s0, s0, -1
  bnez s0, 1b
3:
  j 3b
.balign 4096
rare:
  li t1, 20
4:
  addi s1, s1, 5
  slli t2, s1, 2
  xor s1, s1, t2
  addi t1, t1, -1
  bnez t1, 4b
  ret
`;

// A loop of ~600 instructions on one page: a profile of it builds three regions (256 at most each).
const BIG_LOOP = `
_start:
  li s0, 200
  li a0, 0
  li a1, 0
1:
${Array.from({ length: 150 }, (_, i) => `  addi a0, a0, ${i + 1}\n  xor a1, a1, a0\n  slli a2, a1, 1\n  add a1, a1, a2`).join("\n")}
  addi s0, s0, -1
  bnez s0, 1b
2:
  j 2b
`;

function run(
  engine: "interpreter" | "translator",
  blockMaps = true,
  source = SOURCE,
  tuning: TranslationOptions = {},
) {
  const { bytes, entry } = assemble(source, { base: BigInt(BARE_RAM_BASE) });
  const m = new BareMachine({
    engine,
    translation: { threshold: 0, missThreshold: 1, profileSteps: 0, discovery: "static", ...tuning },
  });
  if (!blockMaps) {
    // The arena's pool of block maps exhausted (1024 translated pages): no page gets one.
    (m.hart.translator as unknown as { freeMaps: number[] }).freeMaps.length = 0;
  }
  m.ram.set(bytes, 0);
  m.hart.setPc(BigInt(entry));
  for (let i = 0; i < 60; i++) m.hart.run(1000);
  // x0..x31 (the sink after them takes writes to x0: not architectural).
  return {
    x: Array.from(m.hart.x.subarray(0, 64)),
    pc: m.hart.pcLo,
    cycles: m.hart.counters.slice(),
    stats: m.hart.translator?.stats,
    translator: m.hart.translator,
  };
}

/**
 * Run `body` with the hart's methods `names` (its slow paths, which translated code calls)
 * counted into `counts` (by name without the "jit" prefix, lower-cased).
 */
function countingHartCalls<T>(names: string[], counts: Record<string, number>, body: () => T): T {
  const proto = Object.getPrototypeOf(new BareMachine({ engine: "interpreter" }).hart) as Record<
    string,
    (...a: number[]) => number
  >;
  const saved = names.map((name) => proto[name]!);
  names.forEach((name, i) => {
    const key = name.replace(/^jit/, "").toLowerCase();
    const original = saved[i]!;
    proto[name] = function (this: unknown, ...a: number[]) {
      counts[key] = (counts[key] ?? 0) + 1;
      return original.apply(this, a);
    };
  });
  try {
    return body();
  } finally {
    names.forEach((name, i) => {
      proto[name] = saved[i]!;
    });
  }
}

/** The registers, pc and counters a translated run ends with are the interpreter's. */
function expectSameRun(t: ReturnType<typeof run>, ref: ReturnType<typeof run>): void {
  expect(t.x).toEqual(ref.x);
  expect(t.pc).toBe(ref.pc);
  expect(Array.from(t.cycles)).toEqual(Array.from(ref.cycles));
}

describe("WebAssembly backend: the dispatcher loop", () => {
  it("does misaligned loads and stores inside a page without the hart's slow paths", () => {
    const ref = run("interpreter", true, MISALIGNED);
    // (Counted on the hart: its load and store slow paths, which translated code calls.)
    const slow = { load: 0, store: 0 };
    const t = countingHartCalls(["jitLoad", "jitStore"], slow, () => run("translator", true, MISALIGNED));
    expectSameRun(t, ref);
    // Every first sc.d failed (the sd's last bytes are in its granule), every second succeeded.
    expect(ref.x[18 * 2 + 1]).not.toBe(0);
    expect(t.stats!.steps).toBeGreaterThan(10_000);
    // 500 rounds of 8 misaligned loads and stores: only the first ones, which fill the TLB, left
    // translated code.
    expect(slow.load + slow.store).toBeLessThan(10);
  });

  it("does LR, SC and AMOs in WebAssembly with the interpreter's results", () => {
    const ref = run("interpreter", true, ATOMICS);
    const calls = { system: 0 };
    const t = countingHartCalls(["jitSystem"], calls, () => run("translator", true, ATOMICS));
    expectSameRun(t, ref);
    // The last sc.d, after an AMO to its granule, failed (a4, x14, is its 1 shifted left by 3).
    expect(ref.x[14 * 2]).toBe(8);
    expect(t.stats!.steps).toBeGreaterThan(20_000);
    // 300 rounds of 24 atomics: only those before the TLB mapped the page left translated code.
    expect(calls.system).toBeLessThan(10);
  });

  it("chains between regions of one page without the jump cache", () => {
    const ref = run("interpreter", true, LONG_LOOP);
    const t = run("translator", true, LONG_LOOP);
    expectSameRun(t, ref);
    const s = t.stats!;
    expect(s.compiles).toBeGreaterThanOrEqual(2);
    expect(s.steps).toBeGreaterThan(50_000);
    // 400 transfers between the regions; the hart's dispatcher entered translated code about
    // twice per slice of 1000 steps (the harness runs 60: a round is 302 steps, and a slice ends
    // where the next block would not fit).
    expect(s.hits).toBeLessThan(150);
    // The transfers between the regions (two a round) took the in-page chain, which needs no
    // look in the fetch TLB nor the jump cache: no entry was ever filled.
    const jc = (t.translator as unknown as { wasmBackend: { jumpCache: Int32Array } }).wasmBackend.jumpCache;
    expect(jc.every((w) => w === 0)).toBe(true);
  });

  it("translates an instruction straddling a page end, and sees its upper half rewritten", () => {
    const { bytes } = assemble(STRADDLE, { base: BigInt(BARE_RAM_BASE) });
    // The straddler sits where the test means it to: 32 bits at the page's last halfword.
    expect(bytes[0x1ffe]! & 3).toBe(3);
    const ref = run("interpreter", true, STRADDLE);
    const t = run("translator", true, STRADDLE);
    expectSameRun(t, ref);
    // s2 (x18): the sum of s1 = 3, 6, ... over 1500 iterations, less the next 1500.
    const sum = (from: number, to: number) => (3 * (to * (to + 1) - from * (from - 1))) / 2;
    expect(ref.x[36]).toBe((sum(1, 1500) - sum(1501, 3000)) | 0);
    // The loop ran translated, straddler included: the hart's dispatcher saw few of its 3000
    // rounds. The store dropped the translations of the page it wrote; the straddler's own page,
    // which it did not write, was dropped where its check found the new half, and translated again.
    const s = t.stats!;
    expect(s.steps).toBeGreaterThan(20_000);
    expect(s.hits + s.misses).toBeLessThan(300);
    expect(s.invalidations).toBe(2);
  });

  it("chains across pages with the interpreter's results and counter reads", () => {
    const ref = run("interpreter");
    const t = run("translator");
    expectSameRun(t, ref);
    const s = t.stats!;
    // The loop ran translated, and most block-to-block transitions (the calls and returns
    // between the two pages among them) did not go back to the hart's dispatcher.
    expect(s.steps).toBeGreaterThan(30_000);
    expect(s.hits * 20).toBeLessThan(s.blocksExecuted);
  });

  it("without block maps, runs translated code from the hart's dispatcher with the same results", () => {
    const ref = run("interpreter");
    const t = run("translator", false);
    expectSameRun(t, ref);
    const s = t.stats!;
    expect(s.steps).toBeGreaterThan(30_000);
    // Every transfer between the pages (2000 calls, 2000 returns) goes back to the hart's dispatcher.
    expect(s.hits).toBeGreaterThanOrEqual(4000);
  });

  it("evicts the oldest regions beyond maxBlocks, so every block keeps a table slot", () => {
    const ref = run("interpreter", true, MANY_BLOCKS);
    const t = run("translator", true, MANY_BLOCKS, { maxBlocks: 256 });
    expectSameRun(t, ref);
    // The four rounds ended (pc on the final loop) with every call's result summed in s1 (x9).
    expect(ref.x[18]).not.toBe(0);
    const s = t.stats!;
    expect(s.steps).toBeGreaterThan(30_000);
    expect(s.evictions).toBeGreaterThan(0);
    expect(s.blocks).toBeGreaterThan(2 * 256);
    // Every live region is WebAssembly (none left to JavaScript), within the limit.
    const translator = t.translator as unknown as {
      backend: string;
      maxBlocks: number;
      liveBlocks: number;
      regions: ({ live: boolean; wasm: boolean; next: unknown } | null)[];
    };
    expect(translator.backend).toBe("wasm");
    expect(translator.maxBlocks).toBe(256);
    expect(translator.liveBlocks).toBeLessThanOrEqual(256);
    let live = 0;
    for (const head of translator.regions) {
      for (let r = head; r !== null; r = r.next as typeof head) {
        expect(r.wasm).toBe(true);
        live++;
      }
    }
    expect(live).toBeGreaterThan(0);
  });

  it("evicts the oldest regions beyond capacity, with the interpreter's results", () => {
    const ref = run("interpreter", true, MANY_BLOCKS);
    const t = run("translator", true, MANY_BLOCKS, { capacity: 400 });
    expectSameRun(t, ref);
    const s = t.stats!;
    expect(s.evictions).toBeGreaterThan(0);
    expect(s.instructions).toBeGreaterThan(2 * 400);
    // At most the capacity, or the newest region alone (it is never evicted).
    expect(t.translator!.size).toBeLessThanOrEqual(400 + 256);
  });

  it("lets a page's heat decay, so code run now and then stays interpreted", () => {
    const ref = run("interpreter", true, RARE_CALLS);
    // Hot after 1,024 interpreted steps (the loop's page at once, the other's after ~10 calls)...
    const steady = run("translator", true, RARE_CALLS, { threshold: 1, heatHalfLife: 0 });
    // ... unless its heat halves every 1,000 steps: ~100 steps each 5,000 never add up.
    const decaying = run("translator", true, RARE_CALLS, { threshold: 1, heatHalfLife: 1000 });
    expectSameRun(steady, ref);
    expectSameRun(decaying, ref);
    const pages = (t: ReturnType<typeof run>) =>
      (t.translator as unknown as { regions: unknown[] }).regions.slice(0, 2).map((r) => r !== null);
    expect(pages(steady)).toEqual([true, true]);
    expect(pages(decaying)).toEqual([true, false]);
  });

  it("keeps every live region findable when building one evicts the page's first", () => {
    const ref = run("interpreter", true, BIG_LOOP);
    // Profiled (not static): the profile's hot code needs three regions, and a capacity of 300
    // instructions evicts the first while the second is built.
    const tuning = { profileSteps: 24_000, discovery: "executed" as const, capacity: 300 };
    const t = run("translator", true, BIG_LOOP, tuning);
    expectSameRun(t, ref);
    type Region = { live: boolean; page: number; next: Region | null };
    const translator = t.translator as unknown as { fifo: Region[]; regions: (Region | null)[] };
    expect(t.stats!.evictions).toBeGreaterThan(0);
    for (const r of translator.fifo) {
      if (!r.live) continue;
      let found = false;
      for (let q = translator.regions[r.page] ?? null; q !== null && !found; q = q.next) found = q === r;
      expect(found).toBe(true);
    }
  });

  it("keeps a table slot for every block by default", () => {
    const m = new BareMachine({ engine: "translator" });
    expect((m.hart.translator as unknown as { maxBlocks: number }).maxBlocks).toBe(65_534);
  });

  it("reaches a function's new code after it is rewritten between chained calls", () => {
    const ref = run("interpreter", true, REWRITE);
    const t = run("translator", true, REWRITE);
    expect(t.x).toEqual(ref.x);
    expect(t.pc).toBe(ref.pc);
    // s1 (x9): 1500 calls returned 1 (addi a0, x0, 1), 1500 returned 7.
    expect(ref.x[18]).toBe(1500 + 1500 * 7);
    const s = t.stats!;
    expect(s.invalidations).toBeGreaterThanOrEqual(1);
    expect(s.hits * 20).toBeLessThan(s.blocksExecuted);
  });
});
