/**
 * The strategies the bench app measures: every strategy the hvkit command
 * ships (one list, `SHIPPED_STRATEGIES` in apps/cli/src/strategies.ts: a new
 * strategy is one line there and appears in both apps), plus anything else
 * registered in this process before the matrix is planned.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { registerShippedStrategies } from "@hvkit/cli";
import { getStrategy, listStrategies, registerStrategy, type StrategyDefinition } from "@hvkit/hypervisor";
import { BenchError } from "./errors.js";

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

function isStrategyDefinition(x: unknown): x is StrategyDefinition {
  const s = x as Partial<StrategyDefinition> | null;
  return (
    typeof s === "object" &&
    s !== null &&
    typeof s.name === "string" &&
    typeof s.create === "function" &&
    typeof s.techniques?.cpu === "string"
  );
}

/**
 * Import modules and register every strategy definition they export (`pnpm
 * bench --with FILE`): a strategy not shipped by the CLI yet can be measured
 * while it is written. Returns the names registered. A definition whose name
 * is already taken by another object is an error (HV_DUPLICATE_STRATEGY's
 * message says which).
 */
export async function registerStrategyModules(paths: readonly string[]): Promise<string[]> {
  registerShippedStrategies();
  const names: string[] = [];
  for (const path of paths) {
    let module: Record<string, unknown>;
    try {
      module = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
    } catch (e) {
      throw new BenchError("BENCH_BAD_OPTION", `--with ${path}: cannot import it: ${(e as Error).message}`);
    }
    const found = Object.values(module).filter(isStrategyDefinition);
    if (found.length === 0) {
      throw new BenchError("BENCH_BAD_OPTION", `--with ${path}: the module exports no strategy definition`);
    }
    for (const s of found) {
      registerStrategy(s);
      names.push(s.name);
    }
  }
  return names;
}
