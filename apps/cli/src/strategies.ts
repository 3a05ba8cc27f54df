/**
 * The strategies the CLI ships, registered in one place: a new strategy is
 * one import and one entry in {@link SHIPPED_STRATEGIES}.
 */
import { binaryTranslationSfence, binaryTranslationWriteProtect } from "@hvkit/binary-translation";
import { emulation } from "@hvkit/emulation";
import {
  hardwareAssistedNested,
  hardwareAssistedShadow,
  hardwareAssistedShadowWriteProtect,
} from "@hvkit/hardware-assisted";
import { getStrategy, listStrategies, registerStrategy, type StrategyDefinition } from "@hvkit/hypervisor";
import { paravirt } from "@hvkit/paravirt";
import { trapAndEmulateSfence, trapAndEmulateWriteProtect } from "@hvkit/trap-and-emulate";

/** Every strategy `hvkit run --strategy` can name. */
export const SHIPPED_STRATEGIES: readonly StrategyDefinition[] = [
  emulation,
  trapAndEmulateSfence,
  trapAndEmulateWriteProtect,
  binaryTranslationSfence,
  binaryTranslationWriteProtect,
  hardwareAssistedNested,
  hardwareAssistedShadow,
  hardwareAssistedShadowWriteProtect,
  paravirt,
];

/** The strategy `hvkit run --kernel` uses without --strategy. */
export const DEFAULT_STRATEGY = "emulation";

/** Register the shipped strategies (idempotent: registering the same definition again is a no-op). */
export function registerShippedStrategies(): void {
  for (const s of SHIPPED_STRATEGIES) registerStrategy(s);
}

/** Look a strategy up by name; throws HV_UNKNOWN_STRATEGY naming the known ones. */
export function getShippedStrategy(name: string): StrategyDefinition {
  registerShippedStrategies();
  return getStrategy(name);
}

/** The registry as text, one strategy per line: name, what it composes, description. */
export function formatStrategies(): string {
  registerShippedStrategies();
  const all = listStrategies();
  const width = Math.max(...all.map((s) => s.name.length));
  return all
    .map((s) => {
      const t = s.techniques;
      return `${s.name.padEnd(width)}  cpu ${t.cpu}, memory ${t.memory}, io ${t.io.join("+")}: ${s.description}\n`;
    })
    .join("");
}
