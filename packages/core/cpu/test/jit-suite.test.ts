/**
 * The hart's own test suites again, with every hart on the translator engine
 * translating at first sight (threshold 0): what the suites run executes as
 * translated code (the interpreter only runs what the translator hands back:
 * instructions straddling a page end, a budget ending inside a block), and
 * every result must be the interpreter's. The code is WebAssembly (the bare
 * machine's RAM is a WebAssembly arena); jit-suite-js runs the JavaScript
 * backend.
 */
import { vi } from "vitest";
import type { HartOptions, Hart as HartType } from "../src/hart.js";
import { runSuitesTranslated } from "./jit-suites.js";

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

await runSuitesTranslated(harts, "wasm");
