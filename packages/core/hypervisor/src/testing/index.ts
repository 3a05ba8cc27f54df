/**
 * The contract test suite (Popek-Goldberg equivalence): every guest runs
 * under the emulation baseline and under every strategy given, and each
 * strategy must produce the guest-visible result of the baseline — the same
 * console bytes (after the guest's normalisation, e.g. kernel timestamps) and
 * the same exit status. Run it from a strategy package's tests:
 *
 * ```ts
 * import { contractSuite, builtinGuests } from "@hvkit/hypervisor/testing";
 * contractSuite({ baseline: emulation, strategies: [myStrategy], guests: builtinGuests() });
 * ```
 *
 * Capability flags on guests and strategies decide what is skipped.
 */
import { describe, expect, it } from "vitest";
import type { VmConfig } from "../config.js";
import type { StrategyDefinition } from "../strategy.js";
import { type RunResult, Vm } from "../vm.js";

export { builtinGuests } from "./guests.js";

/** A guest the suite runs. */
export interface ContractGuest {
  /** Name in test titles. */
  readonly name: string;
  /** Build the configuration (may be expensive: called once per strategy). */
  config(): VmConfig;
  /** Step budget; the guest must finish within it. */
  readonly maxSteps: number;
  /** Console input to feed at start. */
  readonly input?: string;
  /** What the baseline run must show. */
  readonly expect?: { readonly output?: RegExp; readonly exitStatus?: number };
  /** Normalise output before comparing (strip what legitimately differs, e.g. timestamps). */
  normalize?(output: string): string;
  /** A reason to skip (missing artifacts), or false. */
  skip?(): string | false;
}

/** What a guest run produced. */
export interface GuestRun {
  /** Console output. */
  output: string;
  /** The final run result. */
  result: RunResult;
  /** The VM (for stats). */
  vm: Vm;
}

/** Run one guest under one strategy to completion (or its step budget). */
export function runGuest(strategy: StrategyDefinition, guest: ContractGuest): GuestRun {
  const vm = Vm.create(strategy, guest.config());
  const decoder = new TextDecoder();
  let output = "";
  vm.onOutput((bytes) => {
    output += decoder.decode(bytes, { stream: true });
  });
  if (guest.input) vm.writeInput(new TextEncoder().encode(guest.input));
  const result = vm.run({ steps: guest.maxSteps });
  output += decoder.decode();
  return { output, result, vm };
}

/** Options of {@link contractSuite}. */
export interface ContractSuiteOptions {
  /** The reference strategy (emulation). */
  readonly baseline: StrategyDefinition;
  /** Strategies checked against it (the baseline may be included: it is then checked for determinism). */
  readonly strategies: readonly StrategyDefinition[];
  /** Guests to run. */
  readonly guests: readonly ContractGuest[];
  /** Per-test timeout in ms (default 120 s). */
  readonly timeout?: number;
  /**
   * Also check snapshots (default false): each strategy's run is snapshotted
   * half-way and restored under the same strategy, and the restored run must
   * finish with the baseline's output, exit status and step count.
   */
  readonly snapshots?: boolean;
}

/** Declare the suite with vitest: one test per (guest, strategy). */
export function contractSuite(options: ContractSuiteOptions): void {
  const timeout = options.timeout ?? 120_000;
  describe("hypervisor contract: equivalence with the emulation baseline", () => {
    for (const guest of options.guests) {
      const skip = guest.skip?.() || false;
      describe(guest.name, () => {
        let baseline: GuestRun | undefined;
        const getBaseline = (): GuestRun => {
          baseline ??= runGuest(options.baseline, guest);
          return baseline;
        };
        it.skipIf(skip !== false)(
          `baseline (${options.baseline.name}) finishes${guest.expect?.output ? " with the expected output" : ""}`,
          () => {
            const b = getBaseline();
            expect(b.result.stop, b.result.message).toBe("poweroff");
            if (guest.expect?.exitStatus !== undefined)
              expect(b.result.exitStatus).toBe(guest.expect.exitStatus);
            if (guest.expect?.output) expect(b.output).toMatch(guest.expect.output);
          },
          timeout,
        );
        for (const strategy of options.strategies) {
          it.skipIf(skip !== false)(
            `${strategy.name} gives the baseline's console output and exit status`,
            () => {
              const b = getBaseline();
              const r = runGuest(strategy, guest);
              const norm = guest.normalize ?? ((s: string) => s);
              expect(r.result.stop, r.result.message).toBe(b.result.stop);
              expect(r.result.exitStatus).toBe(b.result.exitStatus);
              expect(norm(r.output)).toBe(norm(b.output));
            },
            timeout,
          );
          if (options.snapshots) {
            it.skipIf(skip !== false)(
              `${strategy.name}: a snapshot taken half-way restores and continues exactly`,
              () => {
                const b = getBaseline();
                const half = Math.floor(b.vm.hart.cycles / 2);
                const first = runGuest(strategy, { ...guest, maxSteps: half });
                expect(first.result.stop, first.result.message).toBe("limit");
                const restored = Vm.restore(first.vm.snapshot());
                const decoder = new TextDecoder();
                let rest = "";
                restored.onOutput((bytes) => {
                  rest += decoder.decode(bytes, { stream: true });
                });
                const r = restored.run({ steps: guest.maxSteps - half });
                rest += decoder.decode();
                const norm = guest.normalize ?? ((s: string) => s);
                expect(r.stop, r.message).toBe(b.result.stop);
                expect(r.exitStatus).toBe(b.result.exitStatus);
                expect(norm(first.output + rest)).toBe(norm(b.output));
                expect(restored.hart.cycles).toBe(b.vm.hart.cycles);
              },
              timeout,
            );
          }
        }
      });
    }
  });
}
