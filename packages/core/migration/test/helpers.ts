/** Shared test helpers: the shipped strategies, a VM with its console captured, runs to a step count. */
import { binaryTranslationSfence } from "@hvkit/binary-translation";
import { emulation } from "@hvkit/emulation";
import { hvkitKernelGuests } from "@hvkit/guests/node";
import { hardwareAssistedNested, hardwareAssistedShadow } from "@hvkit/hardware-assisted";
import { registerStrategy, type StrategyDefinition, type Vm, type VmConfig } from "@hvkit/hypervisor";
import { trapAndEmulateSfence, trapAndEmulateWriteProtect } from "@hvkit/trap-and-emulate";

/** Every shipped strategy (apps/cli SHIPPED_STRATEGIES) plus binary translation. */
export const STRATEGIES: readonly StrategyDefinition[] = [
  emulation,
  trapAndEmulateSfence,
  trapAndEmulateWriteProtect,
  hardwareAssistedNested,
  hardwareAssistedShadow,
  binaryTranslationSfence,
];
for (const s of STRATEGIES) registerStrategy(s);

/** A VM whose console output is collected in `out.text`. */
export function captured(vm: Vm): { text: string } {
  const out = { text: "" };
  const decoder = new TextDecoder();
  vm.onOutput((b) => {
    out.text += decoder.decode(b, { stream: true });
  });
  return out;
}

/** Run until `steps` steps have been executed in total (or the guest stops). */
export function runTo(vm: Vm, steps: number): string {
  while (vm.hart.cycles < steps) {
    const r = vm.run({ steps: steps - vm.hart.cycles });
    if (r.stop !== "limit") return r.stop;
  }
  return "limit";
}

/** Run to the end. */
export function runToEnd(vm: Vm, maxSteps = 2e9): ReturnType<Vm["run"]> {
  return vm.run({ steps: maxSteps });
}

/** The hvkit-kernel guest running `workload` with size n. */
export function kernelConfig(workload: string, n: number): VmConfig {
  const [g] = hvkitKernelGuests({
    workloads: [workload],
    sizes: { [workload]: n },
    memory: 32 * 1024 * 1024,
  });
  return g!.config();
}
