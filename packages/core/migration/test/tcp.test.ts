/** Migration over TCP on loopback (node:net): framing, back-pressure, and a dropped connection. */
import { Vm } from "@hvkit/hypervisor";
import { describe, expect, it } from "vitest";
import { MigrationError, migrate, receive } from "../src/index.js";
import { connectChannel, listenChannel } from "../src/node/index.js";
import { captured, kernelConfig, runTo, runToEnd } from "./helpers.js";

describe("TCP", () => {
  it("migrates a running guest over loopback; it continues exactly", async () => {
    const config = kernelConfig("forkwait", 200);
    const base = Vm.create("emulation", config);
    const baseOut = captured(base);
    runToEnd(base);

    const listener = await listenChannel(0, "127.0.0.1");
    const vm = Vm.create("emulation", config);
    const out = captured(vm);
    runTo(vm, 2_000_000);
    const target = listener.accept().then((ch) => receive(ch, { strategy: "hardware-assisted" }));
    const channel = await connectChannel("127.0.0.1", listener.port);
    const report = await migrate(vm, channel, { stepsPerPage: 20 });
    const { vm: moved } = await target;
    listener.close();
    expect(report.bytes).toBeGreaterThan(0);
    const rest = captured(moved);
    expect(runToEnd(moved).stop).toBe("poweroff");
    expect(out.text + rest.text).toBe(baseOut.text);
  });

  it("a connection the target drops leaves the source running", async () => {
    const listener = await listenChannel(0, "127.0.0.1");
    const vm = Vm.create("emulation", kernelConfig("forkwait", 50));
    runTo(vm, 1_000_000);
    void listener.accept().then(async (ch) => {
      await ch.receive();
      ch.close();
    });
    const channel = await connectChannel("127.0.0.1", listener.port);
    const err = await migrate(vm, channel, { stepsPerPage: 20 }).catch((e: unknown) => e);
    listener.close();
    expect(err).toBeInstanceOf(MigrationError);
    expect(runToEnd(vm).stop).toBe("poweroff");
  });

  it("connecting to nothing is a typed error", async () => {
    const listener = await listenChannel(0, "127.0.0.1");
    const port = listener.port;
    listener.close();
    await new Promise((r) => setTimeout(r, 50));
    await expect(connectChannel("127.0.0.1", port)).rejects.toMatchObject({ code: "MIGRATION_DISCONNECTED" });
  });
});
