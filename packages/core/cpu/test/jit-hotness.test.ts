/**
 * Hotness: the translated engine's dispatcher credits each physical page
 * with the steps the interpreter ran on it, wherever the stretch started, so
 * a loop entered from another page makes its own page hot; an entry into the
 * interpreter counts for a few steps more (its round trip). With the
 * WebAssembly backend, a page's heat halves every 2^20 guest steps.
 */
import { assemble } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import { ENTRY_STEPS } from "../src/hart.js";
import { BARE_RAM_BASE, BareMachine } from "../src/index.js";

// Page 0 calls a counted loop on page 1 ten times, then spins.
const SOURCE = `
_start:
  li s0, 10
1:
  call far
  addi s0, s0, -1
  bnez s0, 1b
2:
  j 2b
.balign 4096
far:
  li t0, 100
3:
  addi t0, t0, -1
  bnez t0, 3b
  ret
`;

describe("translator hotness", () => {
  it("credits the interpreter's steps to the page that ran them", () => {
    const { bytes, entry } = assemble(SOURCE, { base: BigInt(BARE_RAM_BASE) });
    // A threshold nothing reaches: every step is interpreted and credited.
    const m = new BareMachine({ engine: "translator", translation: { threshold: 0xffff } });
    m.ram.set(bytes, 0);
    m.hart.setPc(BigInt(entry));
    m.hart.run(50_000);
    const heat = m.hart.translator!.heat;
    // Per call: li, 100 x (addi, bnez), ret.
    expect(heat[1]).toBe(10 * (1 + 2 * 100 + 1));
    // Every step, plus what the one entry into the interpreter (the start of the run, on page 0)
    // counts for; the stretches after it are samples, not entries.
    expect(heat[0]! + heat[1]!).toBe(50_000 + ENTRY_STEPS);
    expect(m.hart.instret).toBe(50_000);
    expect(m.hart.translator!.stats.steps).toBe(0);
  });

  it("halves a page's heat every 2^20 guest steps (WebAssembly backend)", () => {
    const { bytes, entry } = assemble(SOURCE, { base: BigInt(BARE_RAM_BASE) });
    const m = new BareMachine({ engine: "translator", translation: { threshold: 0xffff } });
    expect(m.hart.translator!.backend).toBe("wasm");
    m.ram.set(bytes, 0);
    m.hart.setPc(BigInt(entry));
    // The ten calls are over after ~2,050 steps; page 0 spins from then on.
    m.hart.run(50_000);
    const heat = m.hart.translator!.heat;
    const far = 10 * (1 + 2 * 100 + 1);
    expect(heat[1]).toBe(far);
    // Page 1 is brought up to date when next credited: run it again past three epochs.
    m.hart.run(3 * 2 ** 20);
    m.hart.setPc(BigInt(entry));
    m.hart.run(2_100);
    // Three halvings of the first ten calls' steps, then the ten calls since.
    expect(heat[1]).toBe(far / 8 + far);
    // Page 0's heat is what the last epochs left of its spinning: under two epochs' steps.
    expect(heat[0]!).toBeLessThan(2 * 2 ** 20);
  });

  it("ends a translated page's new profile once the code entered there has run 128 times", () => {
    // f's first path runs hot and is translated; then only its second path runs, 3,000 times:
    // three interpreted instructions per call would take ~11 K calls to fill a 32 K profile.
    const source = `
_start:
  li s0, 20000
1:
  li a0, 0
  call f
  addi s0, s0, -1
  bnez s0, 1b
  li s0, 3000
2:
  li a0, 1
  call f
  addi s0, s0, -1
  bnez s0, 2b
3:
  j 3b
.balign 4096
f:
  bnez a0, g
  addi a1, a1, 1
  ret
.balign 256
g:
  addi a2, a2, 3
  xori a2, a2, 5
  ret
`;
    const { bytes, entry } = assemble(source, { base: BigInt(BARE_RAM_BASE) });
    const run = (engine: "interpreter" | "translator") => {
      const m = new BareMachine({ engine, translation: { threshold: 0 } });
      m.ram.set(bytes, 0);
      m.hart.setPc(BigInt(entry));
      for (let i = 0; i < 40; i++) m.hart.run(10_000);
      return m;
    };
    const ref = run("interpreter");
    const m = run("translator");
    expect(Array.from(m.hart.x.subarray(0, 64))).toEqual(Array.from(ref.hart.x.subarray(0, 64)));
    // g (page 1, offset 256) starts a block of a live region.
    let translated = false;
    for (let r = m.hart.translator!.regions[1] ?? null; r !== null; r = r.next) {
      translated ||= r.live && r.idx[256 >>> 1] !== 0;
    }
    expect(translated).toBe(true);
  });
});
