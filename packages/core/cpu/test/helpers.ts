import { assemble } from "@hvkit/isa";
import { BARE_RAM_BASE, BareMachine, type BareResult } from "../src/index.js";

/** Common prologue: tohost/fromhost words and pass/fail macros as plain labels. */
export const EPILOGUE = `
pass:
  li t6, 1
  la t5, tohost
  sd t6, 0(t5)
1: j 1b
fail:
  # exit code = (test number in gp) * 2 + 1 ... report gp as the failing case
  slli t6, gp, 1
  ori t6, t6, 1
  la t5, tohost
  sd t6, 0(t5)
1: j 1b
.align 3
tohost: .dword 0
fromhost: .dword 0
`;

/** Assemble `source` at 0x8000_0000, run it on a bare machine and return the result and console output. */
export function runProgram(
  source: string,
  maxSteps = 10_000_000,
): BareResult & { output: string; machine: BareMachine } {
  const { bytes, symbols, entry } = assemble(source + EPILOGUE, { base: BigInt(BARE_RAM_BASE) });
  let output = "";
  const machine = new BareMachine({
    ramSize: 4 * 1024 * 1024,
    onOutput: (b) => (output += String.fromCharCode(b)),
  });
  machine.ram.set(bytes, 0);
  machine.hart.ramChanged(BARE_RAM_BASE, bytes.length);
  machine.setTohost(Number(symbols.get("tohost")!), Number(symbols.get("fromhost")!));
  machine.hart.reset(entry);
  const r = machine.run(maxSteps);
  return { ...r, output, machine };
}
