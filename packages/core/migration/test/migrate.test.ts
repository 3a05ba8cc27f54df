/**
 * Live migration in one process over an in-memory channel: the guest
 * continues on the target exactly where the source paused it (console output
 * and final RAM as in the uninterrupted run), under every strategy; the
 * rounds follow Xen's stop conditions.
 */
import { Vm } from "@hvkit/hypervisor";
import { describe, expect, it } from "vitest";
import { channelPair, migrate, receive } from "../src/index.js";
import { captured, kernelConfig, runTo, runToEnd, STRATEGIES } from "./helpers.js";

const config = kernelConfig("forkwait", 200);
const base = Vm.create("emulation", config);
const baseOut = captured(base);
runToEnd(base);

describe.each(STRATEGIES.map((s) => [s.name, s] as const))("migration under %s", (_, strategy) => {
  it("the guest continues on the target exactly", async () => {
    const vm = Vm.create(strategy, config);
    const out = captured(vm);
    runTo(vm, 2_000_000);
    const [a, b] = channelPair();
    const target = receive(b);
    const report = await migrate(vm, a, { stepsPerPage: 20 });
    const { vm: moved } = await target;
    expect(moved.hart.cycles).toBe(report.pausedAtStep);
    const rest = captured(moved);
    expect(runToEnd(moved).stop).toBe("poweroff");
    expect(out.text + rest.text).toBe(baseOut.text);
    expect(Buffer.from(moved.board.ram).equals(Buffer.from(base.board.ram))).toBe(true);
    // Rounds: everything first, then fewer pages; the sum is what was sent.
    expect(report.rounds[0]!.pagesSent).toBe(report.pages);
    expect(report.rounds.length).toBeLessThanOrEqual(30);
    expect(report.finalPages).toBeLessThan(report.pages);
  });
});

describe("stop conditions", () => {
  /** A long-running guest (fork/exit/wait in a loop), so pre-copy ends before it does. */
  const long = kernelConfig("forkwait", 40_000);
  it("an idle guest stops after one round with few dirty pages", async () => {
    const vm = Vm.create("emulation", kernelConfig("echo", 1));
    // echo waits for console input: idle in WFI.
    expect(vm.run({ steps: 50_000_000 }).stop).toBe("idle");
    const [a, b] = channelPair();
    const target = receive(b);
    const report = await migrate(vm, a, { stepsPerPage: 100 });
    await target;
    expect(report.stopCondition).toBe("few-dirty-pages");
    expect(report.rounds).toHaveLength(1);
  });

  it("a round limit and a total-sent limit are honoured", async () => {
    for (const [opts, cond] of [
      [{ maxRounds: 2, minDirtyPages: 0 }, "max-rounds"],
      [{ maxSentFactor: 1, minDirtyPages: 0 }, "max-sent"],
    ] as const) {
      const vm = Vm.create("emulation", long);
      runTo(vm, 2_000_000);
      const [a, b] = channelPair();
      const target = receive(b);
      const report = await migrate(vm, a, { stepsPerPage: 200, ...opts });
      await target;
      expect(report.stopCondition).toBe(cond);
    }
  });

  it("dirtying faster than sending stops pre-copy", async () => {
    // pgfault touches fresh pages all the time: each round dirties more pages than it sent.
    const vm = Vm.create("emulation", kernelConfig("pgfault", 100_000));
    runTo(vm, 2_000_000);
    const [a, b] = channelPair();
    const target = receive(b);
    const report = await migrate(vm, a, { stepsPerPage: 2000, minDirtyPages: 0 });
    await target;
    expect(report.stopCondition).toBe("dirtying-faster-than-sending");
    const last = report.rounds.at(-1)!;
    expect(last.pagesDirtied).toBeGreaterThan(last.pagesSent);
  });
});
