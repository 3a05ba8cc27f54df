import { BARE_RAM_BASE, BareMachine } from "@hvkit/cpu";
import { assemble } from "@hvkit/isa";
import { mmuLoopProgram } from "./programs.js";

const image = assemble(mmuLoopProgram(1_000_000), { base: BigInt(BARE_RAM_BASE) });
for (let rep = 0; rep < 6; rep++) {
  const m = new BareMachine({ ramSize: 1 << 22 });
  m.ram.set(image.bytes);
  m.hart.ramChanged(BARE_RAM_BASE, image.bytes.length);
  m.setTohost(Number(image.symbols.get("tohost")));
  m.hart.reset(image.entry);
  const t0 = performance.now();
  const r = m.run(1e9);
  const dt = (performance.now() - t0) / 1000;
  console.log(rep, r.exitCode, (r.instret / dt / 1e6).toFixed(1), "MIPS");
}
