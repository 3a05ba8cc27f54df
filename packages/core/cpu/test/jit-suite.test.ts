/**
 * The hart's own test suites again, with every hart on the translator engine
 * translating at first sight (threshold 0): what the suites run executes as
 * translated code (the interpreter only runs what the translator hands back:
 * instructions straddling a page end, a budget ending inside a block), and
 * every result must be the interpreter's.
 */
import { afterAll, expect, vi } from "vitest";
import type { HartOptions, Hart as HartType } from "../src/hart.js";

const harts: HartType[] = [];

vi.mock("../src/hart.js", async (importOriginal) => {
  const m = await importOriginal<typeof import("../src/hart.js")>();
  class TranslatingHart extends m.Hart {
    constructor(options: HartOptions) {
      super({
        engine: "translator",
        translation: { threshold: 0, missThreshold: 1, profileSteps: 0, discovery: "static" },
        ...options,
      });
      harts.push(this);
    }
  }
  return { ...m, Hart: TranslatingHart };
});

await import("./smoke.test.js");
await import("./rv64i.test.js");
await import("./rv64m.test.js");
await import("./rv64a.test.js");
await import("./rvc.test.js");
await import("./smc.test.js");
await import("./traps.test.js");
await import("./mmu.test.js");
await import("./pmp.test.js");
await import("./interrupts.test.js");
await import("./exits.test.js");
await import("./counters.test.js");
await import("./stats.test.js");
await import("./profile.test.js");
await import("./fpu-rules.test.js");
await import("./h-csr.test.js");
await import("./h-exits.test.js");
await import("./h-interrupts.test.js");
await import("./h-translate.test.js");
await import("./h-traps.test.js");

afterAll(() => {
  // The suites really ran translated code.
  let hits = 0;
  let blocks = 0;
  for (const h of harts) {
    const s = h.translator!.stats;
    hits += s.hits;
    blocks += s.blocksExecuted;
  }
  console.log(
    `jit-suite: ${harts.length} harts, ${hits} entries into translated code, ${blocks} blocks executed`,
  );
  expect(hits).toBeGreaterThan(1000);
});
