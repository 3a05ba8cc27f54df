import { describe, expect, it } from "vitest";
import { runProgram } from "./helpers.js";

describe("bare machine", () => {
  it("runs a loop and reports pass through tohost", () => {
    const r = runProgram(`
_start:
  li a0, 0
  li a1, 100
1:
  addi a0, a0, 3
  addi a1, a1, -1
  bnez a1, 1b
  li a2, 300
  li gp, 2
  bne a0, a2, fail
  j pass
`);
    expect(r.reason).toBe("exit");
    expect(r.exitCode).toBe(0);
  });
});
