/**
 * The strategies the bench app measures: every strategy the hvkit command
 * ships (one list, `SHIPPED_STRATEGIES` in apps/cli/src/strategies.ts: a new
 * strategy is one line there and appears in both apps), plus anything else
 * registered in this process before the matrix is planned.
 */
import { registerShippedStrategies } from "@hvkit/cli";
import { getStrategy, listStrategies, type StrategyDefinition } from "@hvkit/hypervisor";

/** The baseline every other strategy is compared with ("native" in the paper's tables). */
export const BASELINE_STRATEGY = "emulation";

/** Every registered strategy, in registration order (the shipped ones registered first). */
export function benchStrategies(): StrategyDefinition[] {
  registerShippedStrategies();
  return listStrategies();
}

/** A registered strategy by name (HV_UNKNOWN_STRATEGY lists the known ones). */
export function benchStrategy(name: string): StrategyDefinition {
  registerShippedStrategies();
  return getStrategy(name);
}

/** The hvkit-kernel image a strategy runs: the paravirtual build under a paravirtual CPU, else the native one. */
export function hvkitImageFor(strategy: StrategyDefinition): "hvkit-kernel.elf" | "hvkit-kernel-pv.elf" {
  return strategy.techniques.cpu === "paravirt" ? "hvkit-kernel-pv.elf" : "hvkit-kernel.elf";
}
