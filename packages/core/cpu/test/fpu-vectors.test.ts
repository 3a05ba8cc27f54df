// The FPU against reference vectors computed by x86-64 SSE/FMA hardware (gen.c), bit for
// bit including fflags, in RNE, RTZ, RDN and RUP, alternating static rm and rm = dyn.
import { describe, expect, it } from "vitest";
import { runVectors, SPECS } from "./fpu-vectors/harness.js";

describe("FPU vs hardware vectors", () => {
  for (const spec of SPECS) {
    it(spec.file, () => {
      const { rows, failures } = runVectors(spec);
      expect(rows).toBeGreaterThanOrEqual(300);
      expect(failures).toEqual([]);
    });
  }
});
