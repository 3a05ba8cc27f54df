/**
 * PLIC (riscv-plic-spec 1.0.0) driven through its registers as a kernel
 * does: priorities, pending bits, per-context enables and thresholds,
 * claim/complete with the level-triggered gateway, and the two contexts
 * driving MEIP and SEIP.
 */
import { describe, expect, it } from "vitest";
import { PLIC_CONTEXT, PLIC_ENABLE, PLIC_PENDING, Plic } from "../src/index.js";
import { probe } from "./helpers.js";

function setup(ndev?: number) {
  const m = probe();
  const s = probe();
  const plic = new Plic({ contexts: [m.line, s.line], ...(ndev !== undefined ? { ndev } : {}) });
  const prio = (src: number, p: number) => plic.write(4 * src, 4, p, 0);
  const enable = (ctx: number, word: number, bits: number) =>
    plic.write(PLIC_ENABLE + 0x80 * ctx + 4 * word, 4, bits, 0);
  const threshold = (ctx: number, t: number) => plic.write(PLIC_CONTEXT + 0x1000 * ctx, 4, t, 0);
  const claim = (ctx: number) => plic.read(PLIC_CONTEXT + 0x1000 * ctx + 4, 4);
  const complete = (ctx: number, id: number) => plic.write(PLIC_CONTEXT + 0x1000 * ctx + 4, 4, id, 0);
  const pending = (word: number) => plic.read(PLIC_PENDING + 4 * word, 4);
  return { plic, m, s, prio, enable, threshold, claim, complete, pending };
}

describe("PLIC registers", () => {
  it("priorities are 3-bit WARL; source 0 and sources past ndev are reserved", () => {
    const { plic, prio } = setup();
    prio(10, 0xff);
    expect(plic.read(40, 4)).toBe(7);
    prio(95, 3);
    expect(plic.read(4 * 95, 4)).toBe(3);
    prio(0, 5);
    expect(plic.read(0, 4)).toBe(0);
    prio(96, 5);
    expect(plic.read(4 * 96, 4)).toBe(0);
    expect(plic.badAccesses).toBe(4);
  });

  it("a level raises the pending bit; the enable and priority > threshold gate the context output", () => {
    const { plic, m, s, prio, enable, threshold, pending } = setup();
    plic.setSource(10, true);
    expect(pending(0)).toBe(1 << 10);
    expect(m.level || s.level).toBe(false); // priority 0: never interrupts
    prio(10, 1);
    expect(m.level).toBe(false); // not enabled
    enable(1, 0, 1 << 10);
    expect([m.level, s.level]).toEqual([false, true]);
    threshold(1, 1);
    expect(s.level).toBe(false); // priority must exceed the threshold
    prio(10, 2);
    expect(s.level).toBe(true);
    expect(plic.read(PLIC_CONTEXT + 0x1000, 4)).toBe(1);
  });

  it("claim returns the highest priority, ties to the lowest ID, and clears the pending bit", () => {
    const { plic, m, prio, enable, claim, complete, pending } = setup();
    for (const src of [3, 5, 40, 70]) {
      prio(src, src === 40 ? 6 : 4);
      plic.setSource(src, true);
    }
    enable(0, 0, (1 << 3) | (1 << 5));
    enable(0, 1, 1 << (40 - 32));
    enable(0, 2, 1 << (70 - 64));
    expect(claim(0)).toBe(40);
    expect(pending(1)).toBe(0);
    expect(claim(0)).toBe(3);
    expect(claim(0)).toBe(5);
    expect(claim(0)).toBe(70);
    expect(claim(0)).toBe(0);
    expect(m.level).toBe(false);
    expect(plic.emptyClaims).toBe(1);
    // Completion with the level still high: the gateway forwards a new request.
    complete(0, 5);
    expect(pending(0)).toBe(1 << 5);
    expect(m.level).toBe(true);
    expect(claim(0)).toBe(5);
  });

  it("the gateway holds a claimed source off until completion", () => {
    const { plic, s, prio, enable, claim, complete, pending } = setup();
    prio(1, 1);
    enable(1, 0, 2);
    plic.setSource(1, true);
    expect(claim(1)).toBe(1);
    plic.setSource(1, false);
    plic.setSource(1, true); // a new assertion while claimed is not forwarded
    expect(pending(0)).toBe(0);
    expect(s.level).toBe(false);
    plic.setSource(1, false);
    complete(1, 1); // completed with the level low: nothing new
    expect(pending(0)).toBe(0);
    expect(s.level).toBe(false);
    plic.setSource(1, true);
    expect(s.level).toBe(true);
  });

  it("a level that drops before the claim withdraws the request (no spurious claim)", () => {
    const { plic, s, prio, enable, claim } = setup();
    prio(10, 1);
    enable(1, 0, 1 << 10);
    plic.setSource(10, true);
    expect(s.level).toBe(true);
    plic.setSource(10, false);
    expect(s.level).toBe(false);
    expect(claim(1)).toBe(0);
  });

  it("a completion for a source not enabled in the context is ignored (spec 1.0.0 ch. 9)", () => {
    const { plic, prio, enable, claim, complete } = setup();
    prio(7, 1);
    enable(0, 0, 1 << 7);
    plic.setSource(7, true);
    expect(claim(0)).toBe(7);
    enable(0, 0, 0);
    complete(0, 7);
    expect(plic.completions).toBe(0);
    enable(0, 0, 1 << 7); // what Linux's plic_irq_eoi does for a masked source
    complete(0, 7);
    expect(plic.completions).toBe(1);
    expect(claim(0)).toBe(7); // level still high: forwarded again
  });

  it("both contexts see a source enabled in both; the claim by one takes it from the other", () => {
    const { plic, m, s, prio, enable, claim } = setup();
    prio(2, 1);
    enable(0, 0, 4);
    enable(1, 0, 4);
    plic.setSource(2, true);
    expect([m.level, s.level]).toEqual([true, true]);
    expect(claim(1)).toBe(2);
    expect([m.level, s.level]).toEqual([false, false]);
    expect(claim(0)).toBe(0);
  });

  it("enable bits of source 0 and of absent sources are hardwired to zero", () => {
    const { plic, enable } = setup(40);
    enable(0, 0, 0xffff_ffff);
    enable(0, 1, 0xffff_ffff);
    expect(plic.read(PLIC_ENABLE, 4)).toBe(0xffff_fffe);
    expect(plic.read(PLIC_ENABLE + 4, 4)).toBe(0x1ff); // sources 32..40
    enable(0, 2, 1); // no word 2 with 40 sources
    expect(plic.badAccesses).toBe(1);
  });

  it("pending bits are read-only; bad sizes, offsets and contexts are counted", () => {
    const { plic, pending } = setup();
    plic.setSource(3, true);
    plic.write(PLIC_PENDING, 4, 0, 0);
    expect(pending(0)).toBe(8);
    expect(plic.read(PLIC_CONTEXT + 0x2000, 4)).toBe(0); // context 2 does not exist
    expect(plic.read(PLIC_CONTEXT + 8, 4)).toBe(0);
    expect(plic.read(12, 1)).toBe(0);
    expect(plic.read(12, 2)).toBe(0);
    expect(plic.read(13, 4)).toBe(0);
    expect(plic.read(PLIC_ENABLE + 0x100, 4)).toBe(0);
    expect(plic.badAccesses).toBe(7);
  });

  it("setSource ignores source numbers outside 1..ndev", () => {
    const { plic, pending } = setup();
    plic.setSource(0, true);
    plic.setSource(96, true);
    plic.setSource(-1, true);
    expect([pending(0), pending(1), pending(2)]).toEqual([0, 0, 0]);
  });

  it("state round-trips (JSON-safe) and restores the outputs", () => {
    const a = setup();
    a.prio(10, 3);
    a.enable(1, 0, 1 << 10);
    a.plic.setSource(10, true);
    a.plic.setSource(33, true);
    a.threshold(0, 2);
    const st = a.plic.getState();
    expect(JSON.parse(JSON.stringify(st))).toEqual(st);
    const b = setup();
    b.plic.setState(st);
    expect(b.s.level).toBe(true);
    expect(b.plic.getState()).toEqual(st);
    expect(b.claim(1)).toBe(10);
    expect(() => b.plic.setState({ ...st, priority: [1, 2] })).toThrow(/priority must be an array of 96/);
  });

  it("refuses bad configurations with MACHINE_BAD_CONFIG", () => {
    expect(() => new Plic({ contexts: [] })).toThrow(/contexts/);
    expect(() => new Plic({ contexts: [() => {}], ndev: 1024 })).toThrow(/ndev/);
  });
});
