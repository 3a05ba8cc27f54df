/**
 * Priming the interpreter's type feedback (src/prime.ts): the throwaway hart
 * is given every instruction of the ISA table, each encoded as itself, and
 * priming leaves the harts that follow as they would be without it.
 */
import { decode, INSTRUCTIONS } from "@hvkit/isa";
import { describe, expect, it } from "vitest";
import { BareMachine, Hart } from "../src/index.js";
import { primeEncodings, primeInterpreter, primeRuns, runPriming } from "../src/prime.js";

describe("interpreter priming", () => {
  it("encodes every instruction of the table, each decoding back to itself", () => {
    const encoded = primeEncodings();
    expect(encoded.map((e) => e.insn.name)).toEqual(INSTRUCTIONS.map((i) => i.name));
    for (const { insn, bits } of encoded) expect(decode(bits), insn.name).toBe(insn.id);
  });

  it("runs every instruction under every register pattern, then translated code, without the hart throwing", () => {
    let steps = 0;
    let primed: Hart | undefined;
    runPriming((memory) => {
      const hart = new Hart({ memory, hypervisor: true });
      primed = hart;
      const run = hart.run.bind(hart);
      hart.run = (budget: number) => {
        steps++;
        return run(budget);
      };
      return hart;
    });
    expect(steps).toBe(primeRuns(primeEncodings().length));
    // The translated phase built regions, ran them and went back to the interpreter from them.
    const stats = primed!.translator!.stats;
    expect(stats.compiles).toBeGreaterThan(1);
    expect(stats.steps).toBeGreaterThan(3_000);
    expect(stats.misses).toBeGreaterThan(stats.compiles);
  });

  it("runs once per process, on a hart of its own", () => {
    // The first hart of the process primes; a later call builds nothing.
    const m = new BareMachine({ ramSize: 1 << 20 });
    let built = 0;
    primeInterpreter(() => {
      built++;
      throw new Error("priming ran twice");
    });
    expect(built).toBe(0);
    // Nothing of the priming hart's run shows in the new one.
    expect(m.hart.priv).toBe(3);
    expect(Array.from(m.hart.x.subarray(2, 64)).every((v) => v === 0)).toBe(true);
    expect(m.ram.every((b) => b === 0)).toBe(true);
  });
});
