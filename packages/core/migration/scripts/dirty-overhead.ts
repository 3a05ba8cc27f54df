/**
 * What dirty-page logging costs the guest: the same hvkit-kernel run with and
 * without a DirtyLog collecting every 1 Mi steps (a pre-copy round's pace),
 * single-thread CPU time, best of 3. Usage (from the repository root):
 *   node --conditions=@hvkit/source --import tsx packages/core/migration/scripts/dirty-overhead.ts [strategy]
 */
import { emulation } from "@hvkit/emulation";
import { hvkitKernelGuests } from "@hvkit/guests/node";
import { hardwareAssistedNested } from "@hvkit/hardware-assisted";
import { registerStrategy, Vm } from "@hvkit/hypervisor";
import { trapAndEmulateSfence } from "@hvkit/trap-and-emulate";
import { DirtyLog } from "../src/index.js";

for (const s of [emulation, trapAndEmulateSfence, hardwareAssistedNested]) registerStrategy(s);
const strategy = process.argv[2] ?? "emulation";
const ROUND = 1 << 20;

for (const [workload, n] of [
  ["forkwait", 2000],
  ["pgfault", 2048],
] as const) {
  const [guest] = hvkitKernelGuests({
    workloads: [workload],
    sizes: { [workload]: n },
    memory: 64 * 1024 * 1024,
  });
  const config = guest!.config();
  const time = (logging: boolean): { ms: number; steps: number; dirtied: number } => {
    const vm = Vm.create(strategy, config);
    const log = new DirtyLog(vm);
    if (logging) log.start();
    let dirtied = 0;
    const t = process.cpuUsage();
    for (;;) {
      const r = vm.run({ steps: ROUND });
      if (logging) dirtied += log.collect().length;
      if (r.stop !== "limit") break;
    }
    const u = process.cpuUsage(t);
    return { ms: (u.user + u.system) / 1000, steps: vm.hart.cycles, dirtied };
  };
  const best = (logging: boolean) => {
    const runs = [time(logging), time(logging), time(logging)];
    return runs.reduce((a, b) => (b.ms < a.ms ? b : a));
  };
  const plain = best(false);
  const logged = best(true);
  if (plain.steps !== logged.steps) throw new Error("logging changed the guest's run");
  console.log(
    `${strategy} ${workload} n=${n}: ${plain.steps} steps; plain ${plain.ms.toFixed(0)} ms CPU, with dirty log ${logged.ms.toFixed(0)} ms CPU (${((100 * logged.ms) / plain.ms - 100).toFixed(1)}%), ${logged.dirtied} pages dirtied over ${Math.ceil(plain.steps / ROUND)} rounds`,
  );
}
