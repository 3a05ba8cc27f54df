/**
 * Fault injection: the connection drops or the target dies at several points
 * of a migration, and the source VM continues unharmed (its console output
 * and final RAM are the uninterrupted run's); the source dies after handing
 * over, and the target has the complete VM (it continues exactly). A source
 * that dies between the target's confirmation and its commit leaves the
 * target "in doubt" with a complete VM, which it does not run but loses
 * nothing of.
 */
import { Vm } from "@hvkit/hypervisor";
import { describe, expect, it } from "vitest";
import { channelPair, MigrationError, migrate, receive } from "../src/index.js";
import { captured, kernelConfig, runTo, runToEnd } from "./helpers.js";

const config = kernelConfig("forkwait", 200);
const base = Vm.create("emulation", config);
const baseOut = captured(base);
runToEnd(base);

function source() {
  const vm = Vm.create("trap-and-emulate+wp", config);
  const out = captured(vm);
  runTo(vm, 2_000_000);
  return { vm, out };
}

/** The source, after a failed migration, runs to the same end as the uninterrupted run. */
function expectUnharmed(vm: Vm, out: { text: string }): void {
  expect(runToEnd(vm).stop).toBe("poweroff");
  expect(out.text).toBe(baseOut.text);
  expect(Buffer.from(vm.board.ram).equals(Buffer.from(base.board.ram))).toBe(true);
}

const die = (): never => {
  throw new Error("injected: process died");
};

describe("the connection drops (source side) at", () => {
  it.each([
    ["HELLO", 0],
    ["PAGES", 1],
    ["PAGES", 2],
    ["FINAL", 0],
  ] as const)("%s in round %i: the source keeps running unharmed", async (type, round) => {
    const { vm, out } = source();
    const [a, b] = channelPair();
    const target = receive(b).catch((e: unknown) => e);
    const err = await migrate(vm, a, {
      stepsPerPage: 50,
      minDirtyPages: 0,
      maxRounds: 3,
      beforeSend: (t, r) => {
        if (t === type && (round === 0 || r === round)) a.close();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((await target) as MigrationError).toBeInstanceOf(MigrationError);
    expectUnharmed(vm, out);
  });
});

describe("the target dies", () => {
  it.each(["HELLO", "PAGES", "FINAL"])("on receiving %s: the source keeps running unharmed", async (type) => {
    const { vm, out } = source();
    const [a, b] = channelPair();
    const target = receive(b, {
      beforeHandle: (t) => {
        if (t === type) die();
      },
    }).catch((e: unknown) => e);
    const err = await migrate(vm, a, { stepsPerPage: 50, confirmTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect(await target).toBeInstanceOf(Error);
    expectUnharmed(vm, out);
  });

  it("silently (no reply to FINAL): the source times out and keeps running", async () => {
    const { vm, out } = source();
    const [a, b] = channelPair();
    // A target that reads everything and never answers.
    void (async () => {
      for (;;) await b.receive();
    })().catch(() => {});
    const err = await migrate(vm, a, { stepsPerPage: 50, confirmTimeoutMs: 200 }).catch((e: unknown) => e);
    expect((err as MigrationError).code).toBe("MIGRATION_TIMEOUT");
    expectUnharmed(vm, out);
  });
});

describe("the source dies", () => {
  it("after handing over: the target has the complete VM and it continues exactly", async () => {
    const { vm, out } = source();
    const [a, b] = channelPair();
    const target = receive(b);
    const report = await migrate(vm, a, { stepsPerPage: 50 });
    const printed = out.text;
    // The source process ends here: its VM is dropped, its end of the connection closed.
    a.close();
    const { vm: moved } = await target;
    expect(moved.hart.cycles).toBe(report.pausedAtStep);
    const rest = captured(moved);
    expect(runToEnd(moved).stop).toBe("poweroff");
    expect(printed + rest.text).toBe(baseOut.text);
    expect(Buffer.from(moved.board.ram).equals(Buffer.from(base.board.ram))).toBe(true);
  });

  it("between the target's confirmation and its commit: the target holds the complete VM, in doubt", async () => {
    const { vm, out } = source();
    const [a, b] = channelPair();
    const target = receive(b).catch((e: unknown) => e);
    await migrate(vm, a, {
      stepsPerPage: 50,
      beforeSend: (t) => {
        if (t === "COMMIT") {
          a.close();
          die();
        }
      },
    }).catch(() => {});
    const err = (await target) as MigrationError & { vm: Vm };
    expect(err.code).toBe("MIGRATION_IN_DOUBT");
    const rest = captured(err.vm);
    expect(runToEnd(err.vm).stop).toBe("poweroff");
    expect(out.text + rest.text).toBe(baseOut.text);
  });
});
